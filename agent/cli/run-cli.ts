/** Parses the command line, loads nothing until asked, dispatches to one command, maps errors to exit codes. */
import { resolve } from 'node:path';
import type { ConfigFlags } from '../config/index.ts';
import { nearestNames, isWardenError } from '../errors/index.ts';
import { COMMANDS } from './commands/index.ts';
import { EXIT, type CliIo, type Command, type CommandOptions } from './command.ts';
import { formatRows, printError } from './output.ts';
import { parseCommandLine, type CommandLine } from './parse-command-line.ts';
import { didYouMeanAside, UsageError } from './usage-error.ts';

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  store: { type: 'string' },
  'nix-conf': { type: 'string' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies CommandOptions;

/** The options overlay-warden takes instead of a command. */
const TOP_LEVEL_OPTIONS = ['--help', '--version'];

const COMMON_HELP: ReadonlyArray<readonly [string, string]> = [
  ['--config, -c FILE', 'configuration file (default config/overlay-warden.yaml; env OVERLAY_WARDEN_CONFIG)'],
  ['--store URL', 'a Nix store URL, e.g. local-overlay://?root=/r&lower-store=%2Fl&upper-layer=/u'],
  ['--nix-conf FILE', 'take the store from the `store =` line of this nix.conf'],
  ['--state-dir DIR', "overlay-warden's own state (baseline, remount flag)"],
  ['--json', 'machine-readable output on stdout'],
  ['--help, -h', 'this help'],
];

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
  if (name === '--version' || name === '-v') {
    io.stdout.write('overlay-warden 0.1.0\n');
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  const json = rest.includes('--json');
  if (entry === undefined) {
    printError(io, json, unknownCommand(name));
    return EXIT.usage;
  }
  const command = await entry.load();
  let parsed: CommandLine;
  try {
    parsed = parseCommandLine(command.name, rest, { ...COMMON_OPTIONS, ...command.options }, command.allowPositionals ?? false);
  } catch (error) {
    return await fail(io, json, command, error);
  }
  const { values } = parsed;
  if (values['help'] === true) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  const mountinfo = values['mountinfo'];
  const flags: ConfigFlags = {
    config: values['config'] as string | undefined,
    store: values['store'] as string | undefined,
    nixConf: values['nix-conf'] as string | undefined,
    stateDir: values['state-dir'] as string | undefined,
    // A saved table is named on the command line relative to where the user is; an empty one stays empty, for the
    // configuration to refuse (resolve('') would be the working directory).
    mountinfo: typeof mountinfo === 'string' && mountinfo !== '' ? resolve(mountinfo) : (mountinfo as string | undefined),
    // Only `run` takes the alert sink flags; for the other commands these are undefined.
    alertmanagerUrls: values['alertmanager-url'] as string[] | undefined,
    webhookUrl: values['webhook-url'] as string | undefined,
    webhookSecretFile: values['webhook-secret-file'] as string | undefined,
  };
  try {
    return await command.run({
      io,
      json,
      flags,
      values,
      positionals: parsed.positionals,
      signal,
      // The configuration's modules load only here: `--help` and a bad command line never pay for them.
      loadConfig: async () => {
        const { loadConfig, DEFAULT_CONFIG_FILE } = await import('../config/index.ts');
        return loadConfig({ flags, env: io.env, defaultFile: DEFAULT_CONFIG_FILE });
      },
      runCommandLine: (inner, innerIo) => runCli(inner, innerIo, signal),
    });
  } catch (error) {
    return await fail(io, json, command, error);
  }
}

/** What `overlay-warden NAME` says when NAME is no command: the nearest command, or the options that may come first. */
function unknownCommand(name: string): UsageError {
  const hint = `commands: ${COMMANDS.map((c) => c.name).join(', ')}`;
  if (name.startsWith('-')) {
    const near = nearestNames(name, TOP_LEVEL_OPTIONS);
    return new UsageError('USAGE_UNKNOWN_OPTION', `unknown option ${name} before the command${didYouMeanAside(near)}`, {
      evidence: { option: name, suggestions: near },
      hint: `options come after the command, as in overlay-warden check --json; ${hint}`,
    });
  }
  const near = nearestNames(
    name,
    COMMANDS.map((c) => c.name),
  );
  return new UsageError('USAGE_UNKNOWN_COMMAND', `unknown command "${name}"${didYouMeanAside(near, (n) => JSON.stringify(n))}`, {
    evidence: { command: name, suggestions: near },
    hint,
  });
}

/**
 * Prints what stopped a command and picks the exit code by the error's type: 2 for a bad command line (UsageError,
 * given the command's help as hint when it has none and is not about who runs it) or configuration (ConfigError),
 * 3 when no agent answers on the control socket, 1 for anything else.
 */
async function fail(io: CliIo, json: boolean, command: Command, error: unknown): Promise<number> {
  if (error instanceof UsageError) {
    const hint = error.hint ?? (error.code === 'USAGE_NOT_ROOT' ? undefined : `overlay-warden ${command.name} --help`);
    printError(io, json, new UsageError(error.code, error.message, { evidence: error.evidence, hint, cause: error.cause }), {
      command: command.name,
      exitCode: EXIT.usage,
    });
    return EXIT.usage;
  }
  const exitCode = (await isConfigError(error)) ? EXIT.usage : isWardenError(error, 'CONTROL_NO_AGENT') ? EXIT.noAgent : EXIT.findings;
  printError(io, json, error, { command: command.name, exitCode });
  return exitCode;
}

/** True for a ConfigError; the configuration's modules are loaded to tell only when the error's code is one of theirs. */
async function isConfigError(error: unknown): Promise<boolean> {
  return isWardenError(error) && error.code.startsWith('CONFIG_') && error instanceof (await import('../config/index.ts')).ConfigError;
}

function generalHelp(): string {
  return [
    'overlay-warden: supervises a Nix local-overlay store (mount, layers, drift, remounts, audit, verify)',
    'the agent (run) serves /healthz, /readyz, /status and /metrics on http.address (default 127.0.0.1:9873) and sends alerts to its sinks',
    '',
    'usage: overlay-warden COMMAND [options]',
    '       overlay-warden --version, -v',
    '',
    formatRows(COMMANDS.map((c) => [`  ${c.name}`, c.summary])),
    '',
    'options every command takes:',
    formatRows(COMMON_HELP.map(([k, v]) => [`  ${k}`, v])),
    '',
    'exit codes: 0 ok, 1 error-level findings or a failed action, 2 bad usage or configuration, 3 no agent answers (status, remount)',
    '',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const own = (command.optionHelp ?? []).map(([key, text]) => [`  ${key}`, text] as const);
  return [
    `usage: overlay-warden ${command.name} ${command.usage}`,
    '',
    command.summary,
    '',
    ...(own.length > 0 ? [formatRows(own), ''] : []),
    formatRows(COMMON_HELP.map(([k, v]) => [`  ${k}`, v])),
    '',
  ].join('\n');
}
