/** The schema of the `watch:` settings: how often and how quickly the agent looks at what it watches. */
import { z } from 'zod';

/** `watch:`; every key has a default, so the section may be left out. */
export const watchSchema = z
  .object({
    debounceMs: z.number().int().min(0).max(60_000).default(200),
    mountPollMs: z.number().int().min(50).max(600_000).default(1000),
    daemonPollMs: z
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(30_000)
      .describe('How often a nix-daemon lower store is asked for its valid paths; also the longest wait between reconnect attempts'),
    daemonTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(10_000)
      .describe('Connect timeout and per-request timeout when asking a nix-daemon lower store'),
  })
  .strict()
  .prefault({});
