import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { WardenError } from '../../agent/errors/index.ts';
import { boundedMap, PoolAbortedError, PoolOptionsError, type MapOutcome, type MapProgress } from '../../agent/pool/index.ts';

/** A settable promise, so tests decide when each item finishes (no timings). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function collect<I, R>(run: AsyncIterable<MapOutcome<I, R>>): Promise<MapOutcome<I, R>[]> {
  const outcomes: MapOutcome<I, R>[] = [];
  for await (const outcome of run) outcomes.push(outcome);
  return outcomes;
}

/** Counts items started and not yet handed to the consumer, and the most at once. */
function gauge() {
  const g = { current: 0, peak: 0, start: () => void (g.peak = Math.max(g.peak, ++g.current)), taken: () => void g.current-- };
  return g;
}

const signal = () => new AbortController().signal;

describe('pool/bounded-map', () => {
  it('maps every item and reports failures as data while the run goes on', async () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const outcomes = await collect(
      boundedMap(
        items,
        async (n) => {
          await nextTurn();
          if (n % 10 === 3) throw new WardenError('TEST_BAD_ITEM', `item ${n} is bad`, { evidence: { n } });
          return n * n;
        },
        { signal: signal(), concurrency: 7 },
      ),
    );
    assert.equal(outcomes.length, 100);
    assert.deepEqual(
      outcomes.map((o) => o.index).sort((a, b) => a - b),
      items,
    );
    for (const outcome of outcomes) {
      assert.equal(outcome.item, outcome.index);
      if (outcome.item % 10 === 3) {
        assert.equal(outcome.ok, false);
        assert.deepEqual(!outcome.ok && outcome.error, { code: 'TEST_BAD_ITEM', message: `item ${outcome.item} is bad`, evidence: { n: outcome.item } });
      } else {
        assert.deepEqual(outcome.ok && outcome.value, outcome.item * outcome.item);
      }
    }
  });

  it('turns a non-WardenError into an unclassified report keeping its errno and path', async () => {
    const [outcome] = await collect(
      boundedMap(
        ['x'],
        () => {
          throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/gone' });
        },
        { signal: signal(), concurrency: 1 },
      ),
    );
    assert.ok(outcome !== undefined && !outcome.ok);
    assert.equal(outcome.error.code, 'POOL_ITEM_FAILED');
    assert.deepEqual(outcome.error.evidence, { name: 'Error', errno: 'ENOENT', path: '/gone' });
  });

  it('never has more than `concurrency` items started and not yet consumed, even with a slow consumer', async () => {
    const g = gauge();
    const run = boundedMap(
      Array.from({ length: 500 }, (_, i) => i),
      async (n) => {
        g.start();
        if (n % 3 === 0) await nextTurn();
        return n;
      },
      { signal: signal(), concurrency: 5 },
    );
    let count = 0;
    for await (const _ of run) {
      g.taken();
      count++;
      // A consumer slower than the producers: finished results pile up unless they count against the bound.
      for (let i = 0; i < 3; i++) await nextTurn();
    }
    assert.equal(count, 500);
    assert.equal(g.peak, 5);
  });

  it('pulls from a lazy source only as slots free up, so a million items are never materialised', async () => {
    let pulled = 0;
    function* million(): Generator<number> {
      for (let i = 0; i < 1_000_000; i++) {
        pulled++;
        yield i;
      }
    }
    let finalized = false;
    const source = (function* () {
      try {
        yield* million();
      } finally {
        finalized = true;
      }
    })();
    let consumed = 0;
    for await (const _ of boundedMap(source, async (n) => n, { signal: signal(), concurrency: 8 })) {
      if (++consumed === 1000) break;
    }
    assert.ok(pulled <= 1000 + 8, `pulled ${pulled}`);
    assert.ok(finalized, 'the source is closed when the consumer stops');
  });

  it('runs a million items through with bounded work in flight', async () => {
    const g = gauge();
    let count = 0;
    function* items(): Generator<number> {
      for (let i = 0; i < 1_000_000; i++) yield i;
    }
    for await (const outcome of boundedMap(items(), (n) => (g.start(), n), { signal: signal(), concurrency: 16, order: 'input' })) {
      g.taken();
      assert.equal(outcome.index, count++);
    }
    assert.equal(count, 1_000_000);
    assert.ok(g.peak <= 16);
  });

  it('yields in completion order by default and in input order on request', async () => {
    const gates = [deferred<void>(), deferred<void>(), deferred<void>()];
    const fn = async (n: number) => {
      await gates[n]!.promise;
      return n;
    };
    const release = async () => {
      // Finish in the order 2, 0, 1.
      for (const n of [2, 0, 1]) {
        await nextTurn();
        gates[n]!.resolve();
      }
    };
    const [byCompletion] = await Promise.all([collect(boundedMap([0, 1, 2], fn, { signal: signal(), concurrency: 3 })), release()]);
    assert.deepEqual(
      byCompletion.map((o) => o.item),
      [2, 0, 1],
    );
    gates.splice(0, 3, deferred(), deferred(), deferred());
    const [byInput] = await Promise.all([collect(boundedMap([0, 1, 2], fn, { signal: signal(), concurrency: 3, order: 'input' })), release()]);
    assert.deepEqual(
      byInput.map((o) => o.item),
      [0, 1, 2],
    );
  });

  it('rejects the first next() at once when the signal is already aborted, starting nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutdown'));
    let started = 0;
    const run = boundedMap([1, 2, 3], (n) => (started++, n), { signal: controller.signal, concurrency: 2 });
    await assert.rejects(run.next(), (error: unknown) => error instanceof PoolAbortedError && (error.cause as Error).message === 'shutdown');
    assert.equal(started, 0);
  });

  it('stops on abort: pending next() rejects, running items see their signal abort', async () => {
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    const never = deferred<number>();
    const outcomes: MapOutcome<number, number>[] = [];
    const run = boundedMap(
      Array.from({ length: 100 }, (_, i) => i),
      (n, itemSignal) => {
        if (n < 3) return n;
        seen.push(itemSignal);
        return never.promise; // items that never finish on their own
      },
      { signal: controller.signal, concurrency: 4 },
    );
    const consume = (async () => {
      for await (const outcome of run) {
        outcomes.push(outcome);
        if (outcomes.length === 3) setImmediate(() => controller.abort(new Error('ctrl-c')));
      }
    })();
    await assert.rejects(consume, (error: unknown) => error instanceof PoolAbortedError && error.code === 'POOL_ABORTED');
    assert.deepEqual(
      outcomes.map((o) => o.item),
      [0, 1, 2],
    );
    assert.ok(seen.length > 0 && seen.length <= 4);
    assert.ok(seen.every((s) => s.aborted));
  });

  it('hands out finished results while the source is slow, and aborts while waiting on it', async () => {
    const controller = new AbortController();
    const stuck = deferred<void>();
    async function* source(): AsyncGenerator<number> {
      yield 1;
      await stuck.promise;
      yield 2;
    }
    const run = boundedMap(source(), (n) => n, { signal: controller.signal, concurrency: 2 });
    // Item 1 finished while the source was still stuck on item 2: it is not held back.
    const first = await run.next();
    assert.deepEqual(first.done === false && first.value, { ok: true, index: 0, item: 1, value: 1 });
    const second = run.next();
    setImmediate(() => controller.abort());
    await assert.rejects(second, PoolAbortedError);
    stuck.resolve();
  });

  it('aborts the signal of running items when the consumer stops early', async () => {
    const seen: AbortSignal[] = [];
    const never = new Promise<number>(() => undefined);
    for await (const _ of boundedMap(
      [0, 1, 2, 3],
      (n, itemSignal) => {
        if (n === 0) return n;
        seen.push(itemSignal);
        return never;
      },
      { signal: signal(), concurrency: 4 },
    )) {
      break;
    }
    assert.equal(seen.length, 3);
    assert.ok(seen.every((s) => s.aborted));
  });

  it('does not keep listeners on a long-lived signal once a run ends', async () => {
    const controller = new AbortController();
    const added: unknown[] = [];
    const removed: unknown[] = [];
    const { addEventListener, removeEventListener } = controller.signal;
    controller.signal.addEventListener = function (this: AbortSignal, ...args: Parameters<AbortSignal['addEventListener']>) {
      added.push(args[1]);
      return addEventListener.apply(this, args);
    } as AbortSignal['addEventListener'];
    controller.signal.removeEventListener = function (this: AbortSignal, ...args: Parameters<AbortSignal['removeEventListener']>) {
      removed.push(args[1]);
      return removeEventListener.apply(this, args);
    } as AbortSignal['removeEventListener'];
    for (let run = 0; run < 3; run++) await collect(boundedMap([1, 2, 3], async (n) => n, { signal: controller.signal, concurrency: 2 }));
    assert.equal(added.length, 3);
    assert.deepEqual(removed, added);
  });

  it('ends the run on a fatal error and rethrows it', async () => {
    const fatal = new Error('pool closed');
    const run = boundedMap(
      [1, 2, 3, 4],
      async (n) => {
        if (n === 2) throw fatal;
        return n;
      },
      { signal: signal(), concurrency: 1, isFatal: (error) => error === fatal },
    );
    const outcomes: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const outcome of run) outcomes.push(outcome.item);
      })(),
      (error: unknown) => error === fatal,
    );
    assert.deepEqual(outcomes, [1]);
  });

  it('reports progress: counts, bytes, total from an array, and one final event', async () => {
    const events: MapProgress[] = [];
    await collect(
      boundedMap([10, 20, 30, 40], async (n) => (n === 30 ? Promise.reject(new Error('no')) : n), {
        signal: signal(),
        concurrency: 2,
        bytesOf: (value) => value * 100,
        onProgress: (p) => events.push(p),
        progressIntervalMs: 0,
      }),
    );
    const last = events.at(-1)!;
    assert.equal(last.final, true);
    assert.equal(events.filter((e) => e.final).length, 1);
    assert.deepEqual(
      { done: last.done, failed: last.failed, total: last.total, bytes: last.bytes, inFlight: last.inFlight, etaMs: last.etaMs },
      { done: 4, failed: 1, total: 4, bytes: 7000, inFlight: 0, etaMs: 0 },
    );
    assert.deepEqual(
      events.map((e) => e.done),
      [1, 2, 3, 4, 4],
    );
  });

  it('validates options at the call, naming the field', () => {
    const cases: [string, object][] = [
      ['concurrency', { concurrency: 0 }],
      ['concurrency', { concurrency: 1.5 }],
      ['order', { concurrency: 1, order: 'random' }],
      ['total', { concurrency: 1, total: -1 }],
      ['onProgress', { concurrency: 1, onProgress: 'yes' }],
      ['signal', { concurrency: 1, signal: undefined }],
    ];
    for (const [field, extra] of cases) {
      assert.throws(
        () => boundedMap([1], (n) => n, { signal: signal(), ...extra } as never),
        (error: unknown) => error instanceof PoolOptionsError && error.field === field,
        field,
      );
    }
  });
});
