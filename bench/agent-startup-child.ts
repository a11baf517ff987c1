/** Child of bench/agent.ts: the agent's start-up work on the lower store (load baseline, diff, save), timed, with CPU time and peak RSS. */
import { loadBaseline, saveBaseline } from '../agent/baseline/index.ts';
import { startupDrift, type DriftLayout } from '../agent/watch/index.ts';

const { baselineFile, outFile, layout } = JSON.parse(process.argv[2]!) as { baselineFile: string; outFile: string; layout: DriftLayout };
const rssBefore = process.memoryUsage().rss;
const cpuBefore = process.cpuUsage();
const started = performance.now();
const baseline = loadBaseline(baselineFile, layout.lower.realStoreDir);
const loaded = performance.now();
const result = await startupDrift({ layout }, baseline);
const diffed = performance.now();
const cpu = process.cpuUsage(cpuBefore);
saveBaseline(outFile, result.current);
const saved = performance.now();
const counts = Object.fromEntries(result.events.map((e) => [e.type, 'paths' in e ? e.paths.length : 1]));
console.log(
  JSON.stringify({
    ms: saved - started,
    eventsMs: diffed - started,
    eventsCpuMs: (cpu.user + cpu.system) / 1000,
    listed: result.listed,
    loadMs: loaded - started,
    diffMs: diffed - loaded,
    saveMs: saved - diffed,
    entries: result.current.entries.count,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    rssBeforeMb: rssBefore / 1e6,
    events: counts,
    errors: result.errors.map((e) => e.code),
  }),
);
