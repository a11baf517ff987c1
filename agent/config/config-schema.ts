/** The schema of overlay-warden's YAML configuration: every key, its default, and what it accepts. */
import { z } from 'zod';
import { CHECK_IDS } from '../findings/index.ts';
import { parseAmount } from './byte-size.ts';
import { DURATION_WORDS, formatDuration, parseDuration } from './duration.ts';
import { watchSchema } from './watch-schema.ts';

/** What the keys below take, in words that read after "expected" (messages of issues the error map cannot word). */
const ABSOLUTE_PATH = 'an absolute path';
const NO_NUL = 'text without a NUL byte';
const AMOUNT = 'a size such as 2GiB, 500MB, 10000, or a share such as 5%';
const ADDRESS = '"host:port" (e.g. 127.0.0.1:9873) or "off"';
const HTTP_URL = 'an http:// or https:// URL';
const POOL_SIZE = '"auto" or a whole number from 1 to 256';

// The schema's own `error` covers its checks too; `abort` keeps an empty string to one problem, not two. A NUL
// (YAML's "\0") would cut a path or an argument short where the kernel reads it: another file than the one
// written would be used.
const withoutNul = (s: string): boolean => !s.includes('\0');
const absolutePath = z
  .string({ error: ABSOLUTE_PATH })
  .min(1, { abort: true })
  .refine((s) => s.startsWith('/'), { abort: true })
  .refine(withoutNul, { error: `${ABSOLUTE_PATH} without a NUL byte` });
const amount = z
  .union([z.number(), z.string()], { error: AMOUNT })
  .refine((v) => parseAmount(v) !== undefined)
  .transform((v) => parseAmount(v)!);
const httpUrl = z.string({ error: HTTP_URL }).refine(
  (s) => {
    try {
      const url = new URL(s);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { error: HTTP_URL },
);
/** A duration (`10s`, `24h`) in milliseconds, from `min` to `max` (both in ms). */
const duration = (min: number, max: number) => {
  const words = `${DURATION_WORDS}, from ${formatDuration(min)} to ${formatDuration(max)}`;
  return z
    .string({ error: words })
    .refine(
      (s) => {
        const ms = parseDuration(s);
        return ms !== undefined && ms >= min && ms <= max;
      },
      { error: words },
    )
    .transform((s) => parseDuration(s)!);
};
/** A duration, or `off` (what it times never runs). */
const durationOrOff = (min: number, max: number) =>
  z.union([z.literal('off'), duration(min, max)], { error: `${DURATION_WORDS} (from ${formatDuration(min)} to ${formatDuration(max)}), or "off"` });
const DAY_MS = 86_400_000;

/**
 * Work the agent does on its own, so problems alert without anyone running a command: an audit after the lower store
 * changes and every so often, and a scrub (verify of the upper DB's paths, or both DBs') every so often, in chunks,
 * within a CPU and read-rate budget, resumable across restarts. Audit and scrub take turns.
 */
export const scheduleSchema = z
  .object({
    audit: z
      .object({
        afterDrift: durationOrOff(0, DAY_MS)
          .default(parseDuration('10s')!)
          .describe('Audit after lower-store changes (drift), once the lower store has been quiet this long; "off": not for changes'),
        maxDelay: duration(0, 7 * DAY_MS)
          .default(parseDuration('5m')!)
          .describe('Longest an audit after a change waits (from the first unaudited change), however often the lower store keeps changing'),
        every: durationOrOff(1000, 365 * DAY_MS)
          .default(parseDuration('24h')!)
          .describe('Audit this often, counted from the last audit'),
      })
      .strict()
      .prefault({}),
    scrub: z
      .object({
        every: durationOrOff(1000, 365 * DAY_MS)
          .default(parseDuration('24h')!)
          .describe('Start a scrub pass this long after the last one completed (or after the agent first ran, before any)'),
        maxReadMBps: z
          .union([z.literal('off'), z.number({ error: 'a number of MB/s above 0, or "off"' }).positive().max(100_000)], {
            error: 'a number of MB/s above 0, or "off"',
          })
          .default(50)
          .describe('Read-rate budget of the scrub, in MB/s of NAR bytes hashed (off: as fast as the threads go)'),
        threads: z.number({ error: 'a whole number from 1 to 64' }).int().min(1).max(64).default(1).describe('Hashing threads of the scrub (its CPU budget)'),
        layers: z.enum(['upper', 'both']).default('upper').describe("upper: the upper DB's paths; both: the lower DB's too"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const address = z.string({ error: ADDRESS }).refine((s) => s === 'off' || /^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/.test(s));

/**
 * Where the store is described. `url` or `nixConf` give a whole Nix store URL
 * (not both: which one would win is no choice to make silently); the other
 * keys are that URL's parameters and override it one by one, so a config can
 * say just `upperLayer: /mnt/nix/store` on top of a nix.conf.
 */
export const storeSchema = z
  .object({
    url: z.string().min(1).optional().describe('A Nix store URL: local-overlay://?root=…&lower-store=…&upper-layer=…'),
    nixConf: absolutePath.optional().describe('A nix.conf whose `store =` setting describes the store'),
    root: absolutePath.optional(),
    real: absolutePath.optional(),
    state: absolutePath.optional(),
    upperLayer: absolutePath.optional(),
    lowerStore: z.string().min(1).optional().describe('The lower store URL, not %-escaped (e.g. /mnt/cacache?read-only=true)'),
    checkMount: z.boolean().optional(),
    remountHook: absolutePath.optional(),
  })
  .strict()
  .superRefine((store, ctx) => {
    if (store.url === undefined || store.nixConf === undefined) return;
    for (const key of ['url', 'nixConf'] as const) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        input: store[key],
        message: 'only one of store.url and store.nixConf, as each gives the whole store URL (to compare a nix.conf with store.url, name it in checks.nixConf)',
      });
    }
  });

export const configSchema = z
  .object({
    store: storeSchema.default({ nixConf: '/etc/nix/nix.conf' }),
    stateDir: absolutePath.default('/var/lib/overlay-warden').describe('The lower-store baseline and the remount-needed flag'),
    mountinfo: absolutePath.default('/proc/self/mountinfo').describe('The mount table to check (a file, for tests and bug reports)'),
    checks: z
      .object({
        expectReadOnly: z.boolean().default(false).describe('The merged store is meant to be mounted read-only'),
        nixConf: absolutePath
          .optional()
          .describe('A nix.conf whose store must be the store checked (mount.nix-conf); default: store.nixConf, when the store comes from one'),
        upperMinFreeSpace: amount.default(parseAmount('5%')!),
        upperMinFreeInodes: amount.default(parseAmount('5%')!),
        disable: z.array(z.enum(CHECK_IDS)).default([]).describe('Ids of checks not to run (every check runs by default)'),
        intervalSeconds: z
          .number()
          .min(1)
          .max(86_400)
          .default(60)
          .describe('How often the running agent re-runs the mount check, so a filling upper layer or a finding that comes or goes is logged'),
      })
      .strict()
      .prefault({}),
    // `overlay-warden mount` and `run --mount`: how the overlay is set up (the store URL says where its layers are).
    mount: z
      .object({
        workDir: absolutePath
          .optional()
          .describe("OverlayFS's workdir: an empty dir on the upper layer's filesystem, outside it. Default: `work` beside the upper layer"),
        extraLowerDirs: z
          .array(absolutePath)
          .max(64)
          .default([])
          .describe("Read-only layers stacked above the lower store's store dir, top first (Nix's own check-mount refuses such a mount)"),
        options: z
          .array(
            z
              .string()
              .regex(/^[a-z_]+(=[^,\0]*)?$/, { error: 'an overlay option such as xino=off or index=off (no comma)' })
              .refine((option) => !/^(lowerdir|upperdir|workdir|lowerdir\+|datadir\+)=/.test(option), {
                error: 'an option other than lowerdir, upperdir and workdir (those come from the store URL and mount.workDir)',
              }),
          )
          .default([])
          .describe('Extra overlay mount options, e.g. [xino=off]'),
      })
      .strict()
      .prefault({}),
    remount: z
      .object({
        command: z
          .array(z.string().min(1).refine(withoutNul, { error: NO_NUL }))
          .min(1)
          .optional()
          .describe('Argv of the remount command; the merged store dir is appended. Default: hooks/remount'),
        timeoutSeconds: z.number().positive().max(3600).default(60),
        attempts: z.number().int().min(1).max(20).default(3),
        backoffSeconds: z.number().min(0).max(600).default(2),
        coalesceMs: z.number().int().min(0).max(60_000).default(1000),
      })
      .strict()
      .prefault({}),
    watch: watchSchema,
    pool: z
      .object({ size: z.union([z.literal('auto'), z.number({ error: POOL_SIZE }).int().min(1).max(256)], { error: POOL_SIZE }).default('auto') })
      .strict()
      .prefault({}),
    // The HTTP endpoints (agent/http/): health, readiness, status and metrics open; control actions behind the token.
    http: z
      .object({
        address: address
          .default('127.0.0.1:9873')
          .describe('Where the agent serves /healthz, /readyz, /status, /metrics and POST /remount (HOST:PORT; off: nowhere)'),
        tokenFile: absolutePath
          .optional()
          .describe('The bearer token for control actions over HTTP (POST /remount); a file only root may read and write. Unset: no control over HTTP'),
      })
      .strict()
      .prefault({}),
    alerts: z
      .object({
        alertmanager: z
          .object({
            urls: z.array(httpUrl).default([]).describe('Alertmanager base URLs (http://host:9093); several for an HA pair: each gets every alert'),
          })
          .strict()
          .prefault({}),
        webhooks: z
          .array(
            z
              .object({
                url: httpUrl,
                secretFile: absolutePath
                  .optional()
                  .describe('A root-only file holding the HMAC-SHA256 secret; the body is signed in x-overlay-warden-signature'),
              })
              .strict(),
          )
          .default([]),
        commands: z
          .array(
            z
              .object({
                command: z
                  .array(z.string().min(1).refine(withoutNul, { error: NO_NUL }))
                  .min(1)
                  .describe('Argv; the alerts arrive as JSON on stdin'),
                timeoutSeconds: z.number().positive().max(600).default(30),
              })
              .strict(),
          )
          .default([]),
        resendSeconds: z
          .number()
          .min(1)
          .max(3600)
          .default(60)
          .describe("How often a firing alert is sent again: keep it well under Alertmanager's resolve_timeout (5m by default)"),
        driftHoldSeconds: z
          .number()
          .min(0)
          .max(90 * 86_400)
          .default(0)
          .describe('Drift alerts resolve this long after the last drift (0: only `overlay-warden baseline --accept` resolves them)'),
        timeoutSeconds: z.number().positive().max(300).default(10).describe('How long one delivery may take'),
        backoffSeconds: z.number().min(0.01).max(600).default(1).describe('First retry delay of a failed delivery; doubles up to maxBackoffSeconds'),
        maxBackoffSeconds: z.number().min(0.01).max(3600).default(60),
        maxBatch: z.number().int().min(1).max(10_000).default(500).describe('Most alerts one delivery carries; the rest follow in the next'),
        sinkFailingAfter: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(3)
          .describe('Failed deliveries in a row after which a sink raises OverlayWardenSinkFailing'),
        labels: z
          .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string())
          .default({})
          .describe('Labels added to every alert (e.g. instance, cluster)'),
        generatorURL: httpUrl.optional().describe('Where an alert links to; default: /status on http.address'),
      })
      .strict()
      .prefault({}),
    schedule: scheduleSchema.prefault({}),
    control: z
      .object({ socket: absolutePath.default('/run/overlay-warden/control.sock') })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
        format: z.enum(['auto', 'json', 'text']).default('auto').describe('auto: readable text on a TTY, JSON otherwise'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The configuration as written (partial), before defaults. */
export type ConfigInput = z.input<typeof configSchema>;
/** The configuration with every default applied (before the store is resolved). */
export type ConfigSettings = z.output<typeof configSchema>;
export type StoreSettings = z.output<typeof storeSchema>;
export type ScheduleSettings = z.output<typeof scheduleSchema>;
