/** `overlay-warden unmount`: takes this store's overlay down (never another mount, never one with a mount on top). */
import { unmountOverlay, type UnmountOutcome } from '../../mount-setup/index.ts';
import { EXIT, type CliIo, type Command } from '../command.ts';
import { formatFindingsReport } from '../findings-report.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import { requireRootFor } from '../needs-root.ts';

const HEADLINE: Record<UnmountOutcome['status'], string> = {
  unmounted: 'unmounted',
  'not-mounted': 'nothing to do: no overlay is mounted there',
  refused: 'refused: what is mounted there is not this store overlay on top',
};

/** The human report. Pure apart from `io`'s colour settings. */
export function formatUnmountOutcome(io: CliIo, outcome: UnmountOutcome): string {
  return formatFindingsReport(io, {
    title: 'overlay-warden unmount',
    subject: `${outcome.mergedStoreDir}: ${HEADLINE[outcome.status]}`,
    details: [],
    findings: outcome.findings,
    summary: outcome.status === 'refused' ? 'left mounted' : 'done',
  });
}

export const unmountCommand: Command = {
  name: 'unmount',
  summary: "take this store's overlay down (refuses another filesystem, or one with a mount stacked on it)",
  usage: '[--lazy] [--json]',
  options: { lazy: { type: 'boolean', default: false } },
  optionHelp: [['--lazy', 'detach now and free it once nothing uses it (umount -l), when the store is busy']],
  async run({ io, json, loadConfig, values }) {
    requireRootFor('unmount', 'it unmounts the overlay');
    const config = await loadConfig();
    const outcome = await unmountOverlay(config, io.env, { lazy: values['lazy'] === true });
    const exitCode = outcome.status === 'refused' ? EXIT.findings : EXIT.ok;
    if (json) printEnvelope(io, resultEnvelope('unmount', exitCode, outcome.findings, { status: outcome.status, mergedStoreDir: outcome.mergedStoreDir }));
    else io.stdout.write(formatUnmountOutcome(io, outcome));
    return exitCode;
  },
};
