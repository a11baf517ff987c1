/** Child of bench/agent.ts: the agent's watchers on the fixture; measures change-to-event latency on request, then idles. */
import fs from 'node:fs';
import path from 'node:path';
import { loadBaseline } from '../agent/baseline/index.ts';
import { LayerWatcher, MountWatcher, type DriftEvent, type DriftLayout } from '../agent/watch/index.ts';
import { randomName } from './agent-fixture.ts';
import { inotifyWatches } from './inotify-watches.ts';

const { baselineFile, layout, mergedStoreDir, debounceMs, mountPollMs } = JSON.parse(process.argv[2]!) as {
  baselineFile: string;
  layout: DriftLayout;
  mergedStoreDir: string;
  debounceMs: number;
  mountPollMs: number;
};
const send = (message: unknown): void => void process.send!(message);

const started = performance.now();
const baseline = loadBaseline(baselineFile, layout.lower.realStoreDir)!;
const layers = new LayerWatcher({
  storeDir: layout.storeDir,
  lowerStoreDir: layout.lower.realStoreDir,
  lowerDb: layout.lower.db,
  upperLayer: layout.upperLayer,
  upperDb: layout.upperDb,
  debounceMs,
  baseline,
});
const mounts = new MountWatcher({ mountinfo: '/proc/self/mountinfo', mergedStoreDir, pollMs: mountPollMs });
const waiters = new Map<string, (at: number) => void>();
const errors: string[] = [];
layers.on('drift', (event: DriftEvent) => {
  const at = performance.now();
  if (event.type !== 'lower-grew') return;
  for (const p of event.paths) waiters.get(p)?.(at);
});
layers.on('error', (e) => errors.push(e.code));
mounts.on('error', (e) => errors.push(e.code));
await layers.start();
await mounts.start();
send({ ready: true, startMs: performance.now() - started, rssMb: process.memoryUsage().rss / 1e6, inotifyWatches: inotifyWatches() });

async function latency(samples: number): Promise<{ ms: number[]; created: string[] }> {
  const ms: number[] = [];
  const created: string[] = [];
  for (let i = 0; i < samples; i++) {
    const name = randomName('latency', i);
    const storePath = `${layout.storeDir}/${name}`;
    const seen = new Promise<number>((resolve) => waiters.set(storePath, resolve));
    const t0 = performance.now();
    fs.mkdirSync(path.join(layout.lower.realStoreDir, name));
    const at = await Promise.race([seen, new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), 10_000))]);
    waiters.delete(storePath);
    ms.push(at - t0);
    created.push(name);
    // A pause of 0-50 ms, so changes do not arrive in lockstep with the debounce timer.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 50));
  }
  return { ms, created };
}

process.on('message', (message: { cmd: string; samples?: number }) => {
  if (message.cmd === 'latency') void latency(message.samples ?? 200).then((result) => send({ latency: result, errors }));
  if (message.cmd === 'quit') void Promise.all([layers.close(), mounts.close()]).then(() => process.exit(0));
});
