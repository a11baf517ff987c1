/**
 * Every CLI command, in the order `--help` lists them. Each module is imported only when its command runs, so a
 * command pays for its own dependencies alone (loading all of them cost ~0.4 s at every start).
 */
import type { Command } from '../command.ts';

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'run',
    summary: 'run the agent: check the mount, diff the lower store against its baseline, watch, remount when stale',
    load: async () => (await import('./run.ts')).runCommand,
  },
  {
    name: 'check',
    summary: 'check once that the store is mounted as its URL says and both layers are usable',
    load: async () => (await import('./check.ts')).checkCommand,
  },
  {
    name: 'audit',
    summary: 'the store fsck: dangling, broken closures, duplicates, masked, strays, diverged metadata',
    load: async () => (await import('./audit.ts')).auditCommand,
  },
  {
    name: 'verify',
    summary: "NAR-hash store paths in the worker pool and compare with the DBs' narHash",
    load: async () => (await import('./verify.ts')).verifyCommand,
  },
  {
    name: 'remount',
    summary: 'remount through the running agent (serialised, checked afterwards), or --direct without one',
    load: async () => (await import('./remount.ts')).remountCommand,
  },
  {
    name: 'dedupe',
    summary: 'list upper copies of paths the lower store holds too; --apply removes those equal to the lower copy and the DB',
    load: async () => (await import('./dedupe.ts')).dedupeCommand,
  },
  {
    name: 'pivot',
    summary: 'before a lower GC or replacement: copy into the upper layer what the upper DB needs and the lower store will lose',
    load: async () => (await import('./pivot.ts')).pivotCommand,
  },
  {
    name: 'status',
    summary: "the running agent's view: mount valid, drift seen, remount state, recent events",
    load: async () => (await import('./status.ts')).statusCommand,
  },
  {
    name: 'baseline',
    summary: 'show the lower-store baseline; --accept: the running agent accepts the lower store as it is now (drift alerts resolve)',
    load: async () => (await import('./baseline.ts')).baselineCommand,
  },
  {
    name: 'mount',
    summary: 'set the store overlay up from the configuration: leaves a right mount alone, refuses a wrong one',
    load: async () => (await import('./mount.ts')).mountCommand,
  },
  {
    name: 'unmount',
    summary: "take this store's overlay down (never another mount, nor one with a mount on top)",
    load: async () => (await import('./unmount.ts')).unmountCommand,
  },
  {
    name: 'layout',
    summary: 'print the store layout resolved from the configuration (merged dir, layers, DBs, hook)',
    load: async () => (await import('./layout.ts')).layoutCommand,
  },
  {
    name: 'demo',
    summary: 'build a demo overlay store in a temporary directory, mount it privately, and show what overlay-warden does',
    load: async () => (await import('./demo.ts')).demoCommand,
  },
];
