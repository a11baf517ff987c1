/**
 * Delivery to one sink, never blocking the agent: one batch in flight at a time; what is due is read from the alert
 * state when a batch starts (so the queue is the state itself, bounded by the distinct alerts, and a burst of changes
 * is one batch of at most `maxBatch`); a failure is retried with exponential backoff, for as long as it takes.
 */
import { backoffDelay } from '../remount/index.ts';
import { messageOf, WardenError } from '../errors/index.ts';
import type { AlertRecord } from './alert-lifecycle.ts';
import type { AlertSink, SendContext } from './alert-sinks.ts';

export interface SinkDeliveryOptions {
  readonly sink: AlertSink;
  readonly maxBatch: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** What is due for this sink now (dueFor over the current state). */
  readonly due: (now: Date) => readonly AlertRecord[];
  /** The context of a send (resend interval, generator URL); the signal is the delivery's own. */
  readonly context: (now: Date) => Omit<SendContext, 'signal'>;
  readonly delivered: (batch: readonly AlertRecord[], now: Date) => void;
  /** A failed batch: the error, failures in a row, and the delay before the retry. */
  readonly failed: (error: WardenError, consecutive: number, retryInMs: number) => void;
  readonly now?: () => Date;
}

/** The counters `status` shows for a sink. */
export interface SinkStatus {
  readonly name: string;
  readonly target: string;
  readonly state: 'ok' | 'failing';
  readonly deliveries: number;
  readonly failures: number;
  readonly consecutiveFailures: number;
  readonly lastDeliveredAt: string | null;
  readonly lastError: { readonly code: string; readonly message: string; readonly at: string } | null;
  readonly nextRetryAt: string | null;
}

export class SinkDelivery {
  readonly #o: SinkDeliveryOptions;
  readonly #abort = new AbortController();
  readonly #now: () => Date;
  #running: Promise<void> | undefined;
  #again = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryAt: number | undefined;
  #deliveries = 0;
  #failures = 0;
  #consecutive = 0;
  #lastDeliveredAt: string | null = null;
  #lastError: SinkStatus['lastError'] = null;

  constructor(options: SinkDeliveryOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  get name(): string {
    return this.#o.sink.name;
  }

  /** Something may be due: sends it now, after the batch in flight, or at the pending retry (never sooner). */
  kick(): void {
    if (this.#abort.signal.aborted) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    if (this.#retryAt !== undefined) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  async #drain(): Promise<void> {
    for (;;) {
      if (this.#abort.signal.aborted) return;
      const now = this.#now();
      const batch = this.#o.due(now).slice(0, this.#o.maxBatch);
      if (batch.length === 0) return;
      try {
        await this.#o.sink.send(batch, { ...this.#o.context(now), signal: this.#abort.signal });
      } catch (cause) {
        if (this.#abort.signal.aborted) return;
        const error = cause instanceof WardenError ? cause : new WardenError('ALERT_SINK_FAILED', messageOf(cause), { cause });
        this.#failures++;
        this.#consecutive++;
        this.#lastError = { code: error.code, message: error.message, at: now.toISOString() };
        const retryInMs = Math.min(backoffDelay(this.#consecutive, this.#o.backoffMs), this.#o.maxBackoffMs);
        this.#retryAt = now.getTime() + retryInMs;
        this.#retryTimer = setTimeout(() => {
          this.#retryAt = undefined;
          this.kick();
        }, retryInMs);
        this.#o.failed(error, this.#consecutive, retryInMs);
        return;
      }
      this.#deliveries++;
      this.#consecutive = 0;
      this.#lastDeliveredAt = this.#now().toISOString();
      this.#o.delivered(batch, now);
    }
  }

  status(): SinkStatus {
    return {
      name: this.#o.sink.name,
      target: this.#o.sink.target,
      state: this.#consecutive > 0 ? 'failing' : 'ok',
      deliveries: this.#deliveries,
      failures: this.#failures,
      consecutiveFailures: this.#consecutive,
      lastDeliveredAt: this.#lastDeliveredAt,
      lastError: this.#lastError,
      nextRetryAt: this.#retryAt === undefined ? null : new Date(this.#retryAt).toISOString(),
    };
  }

  /** Aborts the batch in flight and any retry; resolves once it has stopped. Idempotent, never rejects. */
  async close(): Promise<void> {
    this.#abort.abort(new Error('alerts stopping'));
    clearTimeout(this.#retryTimer);
    await this.#running?.catch(() => undefined);
  }
}
