/** `overlay-warden layout`: prints the store layout overlay-warden resolved, so users can see what it thinks their setup is. */
import { type Command, EXIT } from '../command.ts';
import { formatRows } from '../output.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import type { StoreLayout } from '../../store/index.ts';

/** The rows of the human report, in the order people read a setup: where users look, then the layers. */
export function layoutRows(layout: StoreLayout): Array<readonly [string, string]> {
  const show = (value: string | undefined, none: string): string => value ?? none;
  return [
    ['store URL', layout.url],
    ['merged store dir', layout.mergedStoreDir],
    ['store dir (logical)', layout.storeDir],
    ['state dir', layout.stateDir],
    ['upper DB', layout.upperDb],
    ['upper layer', layout.upperLayer],
    ['lower store', `${layout.lower.url} (${layout.lower.kind})`],
    ['lower store dir', layout.lower.realStoreDir],
    ['lower DB', show(layout.lower.db, 'none: metadata comes from the daemon')],
    ...(layout.lower.daemonSocket === undefined ? [] : [['lower daemon socket', layout.lower.daemonSocket] as const]),
    ['lower read-only', String(layout.lower.readOnly)],
    ['check-mount', String(layout.checkMount)],
    ['remount hook', show(layout.remountHook, 'none set')],
  ];
}

/** The human report: the layout's rows, then where it came from (pure). */
export function formatLayout(layout: StoreLayout, source: string, configFile: string | null, stateDir: string): string {
  return `${formatRows([...layoutRows(layout), ['described by', source], ['config file', configFile ?? 'none (defaults)'], ['agent state dir', stateDir]])}\n`;
}

export const layoutCommand: Command = {
  name: 'layout',
  summary: 'print the store layout resolved from the configuration (merged dir, layers, DBs, hook)',
  usage: '[--json]',
  options: {},
  async run({ io, json, loadConfig }) {
    const config = await loadConfig();
    if (json) {
      printEnvelope(
        io,
        resultEnvelope('layout', EXIT.ok, [], {
          layout: config.layout,
          source: config.storeSource,
          configFile: config.file ?? null,
          stateDir: config.stateDir,
        }),
      );
    } else {
      io.stdout.write(formatLayout(config.layout, config.storeSource, config.file ?? null, config.stateDir));
    }
    return EXIT.ok;
  },
};
