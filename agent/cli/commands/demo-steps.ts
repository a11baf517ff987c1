/** The demo's tour steps: each a sentence for newcomers, a real overlay-warden command, and what it should come out as (pure). */
import type { DemoMishaps, StepExpectation } from '../../demo/index.ts';
import { EXIT } from '../command.ts';

/** One step of the tour: a sentence for newcomers, a real overlay-warden command, and what it should come out as. */
export interface DemoStep {
  readonly say: string;
  readonly argv: readonly string[];
  readonly expect: StepExpectation;
}

/**
 * The steps on the freshly mounted store: what overlay-warden resolved, and a clean mount check (which, for a lower
 * store behind a daemon, also shakes hands with the daemon and says what it speaks).
 */
export function setupSteps(configFile: string, lowerDaemon = false): DemoStep[] {
  return [
    {
      say: 'What overlay-warden resolved from the store URL: where each part of the store lives.',
      argv: ['layout', '--config', configFile],
      expect: { exitCode: EXIT.ok, findings: [], nothingElseAt: ['error', 'warning'] },
    },
    {
      say: `The mount check: is the merged store dir really this overlay, with these layers, usable? (Nix's own check-mount is compared too.) The demo's lower store dir is a read-only bind mount, as it should be in production, so there is nothing to warn about.${
        lowerDaemon ? ' Its lower store is served by a nix-daemon: the check shakes hands with it and reports what it speaks.' : ''
      }`,
      argv: ['check', '--config', configFile],
      expect: {
        exitCode: EXIT.ok,
        findings: [
          ...(lowerDaemon ? [{ id: 'layer.lower-daemon', count: 1 } as const] : []),
          { id: 'layer.lower-read-only', count: 1 },
          { id: 'mount.ok', count: 1 },
        ],
        nothingElseAt: ['error', 'warning'],
      },
    },
  ];
}

/** The steps after the mishaps: audit finds the duplicates and the masked path, verify the tampered copy. */
export function mishapSteps(configFile: string, duplicates: number, mishaps: DemoMishaps): DemoStep[] {
  return [
    {
      say: `The audit (the store's fsck, no hashing) compares both DBs and both layers: it should list the paths both layers hold (duplicates waste the upper layer's space: the demo's ${duplicates}, and the copy the edit made) and the masked path, which the lower DB registers but the merged view hides.`,
      argv: ['audit', '--config', configFile],
      expect: {
        exitCode: EXIT.findings,
        findings: [
          { id: 'store.duplicate', count: duplicates + 1, path: mishaps.tampered },
          { id: 'store.masked', count: 1, path: mishaps.masked },
        ],
        nothingElseAt: ['error', 'warning'],
      },
    },
    {
      say: "Verify NAR-hashes what the merged view serves for the upper DB's paths and the upper layer's copies of lower paths: the edited copy no longer matches its narHash (and the masked path, which it cannot serve, is reported again).",
      argv: ['verify', '--config', configFile],
      expect: {
        exitCode: EXIT.findings,
        findings: [
          { id: 'store.corrupt', count: 1, path: mishaps.tampered },
          { id: 'store.masked', count: 1, path: mishaps.masked },
        ],
        nothingElseAt: ['error', 'warning'],
      },
    },
  ];
}

/** The step while the agent runs: the real `status`, over the agent's control socket. */
export function statusStep(configFile: string): DemoStep {
  return {
    say: '`status` asks the running agent over its control socket: the mount it checked, the drift it saw, the remounts it made.',
    argv: ['status', '--config', configFile],
    expect: { exitCode: EXIT.ok, findings: [{ id: 'mount.ok', count: 1 }], nothingElseAt: ['error', 'warning'] },
  };
}

/** What to run next on one's own store: commands that exist, for the closing lines. */
export function nextCommands(): string[] {
  return [
    "overlay-warden layout --store 'local-overlay://?…'   what overlay-warden makes of your store URL (or set store.url in config/overlay-warden.yaml)",
    'overlay-warden check                                 is the mount the one the URL describes?',
    'overlay-warden audit                                 duplicates, masked, stray, dangling paths, broken closures',
    'overlay-warden verify                                NAR hashes of the upper layer (--all for both layers)',
    'overlay-warden run                                   the agent (deploy/systemd/overlay-warden.service), then overlay-warden status',
  ];
}
