/** Parses the command line, loads nothing until asked, dispatches to one command, maps errors to exit codes. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, type ConfigFlags } from '../config/index.ts';
import { WardenError, messageOf } from '../errors/index.ts';
import { AUDIT_USAGE_CODES, AuditError } from '../audit/audit-error.ts';
import { COMMANDS } from './commands/index.ts';
import { EXIT, type CliIo, type Command, type CommandOptions } from './command.ts';
import { formatRows, printError } from './output.ts';

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  store: { type: 'string' },
  'nix-conf': { type: 'string' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies CommandOptions;

const COMMON_HELP: ReadonlyArray<readonly [string, string]> = [
  ['--config, -c FILE', 'configuration file (default config/overlay-warden.yaml; env OVERLAY_WARDEN_CONFIG)'],
  ['--store URL', 'a Nix store URL, e.g. local-overlay://?root=/r&lower-store=%2Fl&upper-layer=/u'],
  ['--nix-conf FILE', 'take the store from the `store =` line of this nix.conf'],
  ['--state-dir DIR', "overlay-warden's own state (baseline, remount flag)"],
  ['--json', 'machine-readable output on stdout'],
  ['--help, -h', 'this help'],
];

class UsageError extends WardenError<'USAGE'> {}

/**
 * Runs `overlay-warden ARGV…` and resolves to the exit code: 0 ok, 1 findings
 * at error level or a failed action, 2 bad usage or configuration. Never throws.
 */
export async function runCli(argv: readonly string[], io: CliIo, signal: AbortSignal = new AbortController().signal): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(generalHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    io.stdout.write('overlay-warden 0.1.0\n');
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  const json = rest.includes('--json');
  if (entry === undefined) {
    printError(io, json, new UsageError('USAGE', `unknown command "${name}"`, { hint: `commands: ${COMMANDS.map((c) => c.name).join(', ')}` }));
    return EXIT.usage;
  }
  const command = await entry.load();
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: { ...COMMON_OPTIONS, ...command.options }, allowPositionals: command.allowPositionals ?? false, strict: true });
  } catch (cause) {
    printError(io, json, new UsageError('USAGE', messageOf(cause), { cause, hint: `overlay-warden ${command.name} --help` }));
    return EXIT.usage;
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values['help'] === true) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  const flags: ConfigFlags = {
    config: values['config'] as string | undefined,
    store: values['store'] as string | undefined,
    nixConf: values['nix-conf'] as string | undefined,
    stateDir: values['state-dir'] as string | undefined,
    // A saved table is named on the command line relative to where the user is.
    mountinfo: typeof values['mountinfo'] === 'string' ? resolve(values['mountinfo']) : undefined,
  };
  try {
    return await command.run({
      io, json, flags, values, positionals: parsed.positionals, signal,
      loadConfig: () => loadConfig({ flags, env: io.env, defaultFile: DEFAULT_CONFIG_FILE }),
    });
  } catch (error) {
    printError(io, json, error);
    return isUsageError(error) ? EXIT.usage : EXIT.findings;
  }
}

/** Errors that mean the command line or the configuration was wrong (exit 2), not that the store is. */
function isUsageError(error: unknown): boolean {
  return error instanceof ConfigError || error instanceof UsageError || (error instanceof AuditError && AUDIT_USAGE_CODES.has(error.code));
}

function generalHelp(): string {
  return [
    'overlay-warden: supervises a Nix local-overlay store (mount, layers, drift, remounts, audit, alerts)',
    '',
    'usage: overlay-warden COMMAND [options]',
    '',
    formatRows(COMMANDS.map((c) => [`  ${c.name}`, c.summary])),
    '',
    'options every command takes:',
    formatRows(COMMON_HELP.map(([k, v]) => [`  ${k}`, v])),
    '',
    'exit codes: 0 ok, 1 error-level findings or a failed action, 2 bad usage or configuration',
    '',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const own = (command.optionHelp ?? []).map(([key, text]) => [`  ${key}`, text] as const);
  return [`usage: overlay-warden ${command.name} ${command.usage}`, '', command.summary, '', ...(own.length > 0 ? [formatRows(own), ''] : []), formatRows(COMMON_HELP.map(([k, v]) => [`  ${k}`, v])), ''].join('\n');
}
