/** What the agent does about each drift event and probe result: pure decisions, so the wiring stays dumb and testable. */
import { basename, join } from 'node:path';
import type { ProbeReport, StaleReason } from '../probe/index.ts';
import type { ProbeSymptom, RemountRequest } from '../remount/index.ts';
import type { LowerDbIdentity } from '../baseline/index.ts';
import { describeNixDbContent, type NixDbContent } from '../store/index.ts';
import type { DriftEvent, LowerDbReplacedEvent, MountChangeKind } from '../watch/index.ts';

/** Something the agent should do; the wiring in agent.ts carries these out, in order. */
export type AgentAction =
  | { readonly kind: 'remount'; readonly request: RemountRequest }
  | { readonly kind: 'probe'; readonly paths: readonly string[] }
  | { readonly kind: 'recheck-mount' }
  | { readonly kind: 'refresh-baseline' };

/** How loudly an event is logged: the lower store must not change under a live overlay, so any lower change warns. */
export type EventLevel = 'error' | 'warn' | 'info' | 'debug';

/** The layer dirs decisions name paths in (a StoreLayout fits). */
export interface DecisionLayout {
  readonly upperLayer: string;
  readonly lower: { readonly realStoreDir: string };
}

/**
 * The actions one drift event calls for:
 * - upper path deleted directly while the lower has it → remount (the merged view may serve the deleted copy), and a
 *   probe of it so the log says whether the view really was stale;
 * - upper whiteout deleted directly while the lower has the path → a probe (kernel 6.18 keeps answering ENOENT from
 *   a cached negative dentry until a remount; the probe sees that and its stale result flags the remount);
 * - lower grew → remount (new lower paths are invisible until then) and a new baseline;
 * - lower shrank → probe the vanished paths (a cached view may still serve them) and a new baseline;
 * - lower DB replaced or modified, lower daemon's valid paths modified, lower path modified → a new baseline (the alert is the log line and the event);
 * - mount changed → re-run the mount check.
 */
export function decideOnDrift(event: DriftEvent, layout: DecisionLayout): AgentAction[] {
  switch (event.type) {
    case 'upper-path-deleted':
      if (!event.alsoInLower) return [];
      if (event.entry === 'whiteout') return [{ kind: 'probe', paths: [event.path] }];
      return [
        {
          kind: 'remount',
          request: {
            source: 'watcher',
            storePath: event.path,
            upperPath: join(layout.upperLayer, basename(event.path)),
            lowerPath: join(layout.lower.realStoreDir, basename(event.path)),
          },
        },
        { kind: 'probe', paths: [event.path] },
      ];
    case 'lower-grew':
      return [{ kind: 'remount', request: { source: 'lower-grew', paths: event.paths } }, { kind: 'refresh-baseline' }];
    case 'lower-shrank':
      return [{ kind: 'probe', paths: event.paths }, { kind: 'refresh-baseline' }];
    case 'lower-db-replaced':
    case 'lower-db-modified':
    case 'lower-daemon-modified':
    case 'lower-path-modified':
      return [{ kind: 'refresh-baseline' }];
    case 'mount-changed':
      return [{ kind: 'recheck-mount' }];
    case 'upper-path-added':
    case 'upper-whiteout-added':
      return [];
  }
}

/** One remount request per stale result of a probe (the remounter coalesces them into one run). */
export function decideOnProbe(report: ProbeReport, storeDir: string): AgentAction[] {
  return report.stale.map((result) => ({
    kind: 'remount' as const,
    request: {
      source: 'probe' as const,
      path: join(storeDir, result.name),
      symptom: result.verdict.state === 'stale' ? SYMPTOM_OF[result.verdict.reason] : 'content-mismatch',
      detail: result.verdict.state === 'stale' ? result.verdict.reason : result.verdict.state,
    },
  }));
}

/** The remount request's symptom for each reason the probe gives. */
const SYMPTOM_OF: Readonly<Record<StaleReason, ProbeSymptom>> = {
  estale: 'estale',
  'deleted-object-served': 'serves-deleted',
  'served-but-absent-from-layers': 'serves-deleted',
  'lower-path-invisible': 'missing-lower',
  'whiteout-ignored': 'content-mismatch',
  'upper-path-invisible': 'content-mismatch',
  'attributes-differ': 'content-mismatch',
};

/** The log level of an event. */
export function eventLevel(event: DriftEvent): EventLevel {
  switch (event.type) {
    case 'lower-shrank':
      return event.brokenUpperClosures === null || event.brokenUpperClosures.length > 0 ? 'error' : 'warn';
    case 'lower-db-replaced':
    case 'lower-db-modified':
      // Nix cannot open a lower store whose DB is not a Nix DB any more.
      return notNixDb(event.after) === undefined ? 'warn' : 'error';
    case 'lower-grew':
    case 'lower-path-modified':
    case 'lower-daemon-modified':
    case 'mount-changed':
      return 'warn';
    case 'upper-path-deleted':
      return event.alsoInLower ? 'warn' : 'info';
    case 'upper-whiteout-added':
      return 'info';
    case 'upper-path-added':
      return 'debug';
  }
}

/** One line a person reads in the log for an event. */
export function describeDrift(event: DriftEvent): string {
  const count = (paths: readonly string[]): string => `${paths.length} path${paths.length === 1 ? '' : 's'}`;
  switch (event.type) {
    case 'lower-grew':
      return `drift: the lower store grew by ${count(event.paths)}${event.source === 'startup' ? ' since the agent last ran' : ''}; a remount makes them visible`;
    case 'lower-shrank': {
      const broken = event.brokenUpperClosures;
      const closures =
        broken === null ? 'upper closures unknown (upper DB unreadable)' : `${broken.length} upper registration${broken.length === 1 ? '' : 's'} broken`;
      return `drift: the lower store lost ${count(event.paths)}${event.source === 'startup' ? ' since the agent last ran' : ''}; ${closures}`;
    }
    case 'lower-path-modified':
      return `drift: lower store path ${event.path} was modified (${event.detail}) under the live overlay`;
    case 'lower-db-replaced':
      return `drift: the lower DB ${DB_CHANGE[event.change]}${contentSuffix(event.after)}`;
    case 'lower-db-modified':
      return `drift: the lower DB changed under the live overlay${contentSuffix(event.after)}`;
    case 'lower-daemon-modified':
      return `drift: the lower nix-daemon's valid paths changed under the live overlay (${event.before.validPaths} → ${event.after.validPaths})`;
    case 'upper-path-added':
      return `upper layer: ${event.path} added`;
    case 'upper-path-deleted':
      if (event.entry === 'whiteout') {
        return event.alsoInLower
          ? `stale view: the whiteout hiding ${event.path} was deleted directly; the merged view may keep hiding the lower copy until a remount`
          : `upper layer: whiteout for ${event.path} deleted`;
      }
      return event.alsoInLower
        ? `stale view: the upper copy of ${event.path} was deleted directly while the lower store has it`
        : `upper layer: ${event.path} deleted`;
    case 'upper-whiteout-added':
      return `upper layer: whiteout for ${event.path}${event.masksLower ? ' (hides a lower path)' : ''}`;
    case 'mount-changed':
      return `mount: ${MOUNT_CHANGE[event.what]}`;
  }
}

/** What a lower DB holds when it is not a Nix DB (its content verdict), else undefined. */
function notNixDb(identity: LowerDbIdentity | null): Exclude<NixDbContent, 'nix-db'> | undefined {
  return identity?.content === undefined || identity.content === 'nix-db' ? undefined : identity.content;
}

/** `; FILE is now …` for a lower DB that is not a Nix DB, else ''. */
function contentSuffix(identity: LowerDbIdentity | null): string {
  const content = notNixDb(identity);
  return content === undefined || identity === null ? '' : `; ${identity.file} is now ${describeNixDbContent(content)}, so Nix cannot open the lower store`;
}

/** Wording of each lower DB replacement, after "the lower DB". */
const DB_CHANGE: Readonly<Record<LowerDbReplacedEvent['change'], string>> = { replaced: 'was replaced', appeared: 'appeared', vanished: 'vanished' };

/** Wording of each mount change. */
const MOUNT_CHANGE: Readonly<Record<MountChangeKind, string>> = {
  mounted: 'the merged store dir was mounted',
  unmounted: 'the merged store dir was unmounted',
  remounted: 'the merged store dir was remounted (another overlay mount replaced it)',
  'options-changed': "the merged store dir's mount options changed",
  stacked: 'another mount now covers the merged store dir',
  unstacked: 'nothing covers the merged store dir any more',
};
