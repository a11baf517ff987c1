/** Child of bench/agent.ts: the reference approaches on the same lower store dir (chokidar at depth 0; a Set of names). */
import fs from 'node:fs';
import { watch } from 'chokidar';
import { inotifyWatches } from './inotify-watches.ts';

const [mode, dir, timeoutMs] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4] ?? 300_000)];

const started = performance.now();
if (mode === 'set') {
  const names = new Set(fs.readdirSync(dir));
  const heap = process.memoryUsage().heapUsed;
  console.log(JSON.stringify({ ms: performance.now() - started, entries: names.size, heapMb: heap / 1e6, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
} else {
  const errors: Record<string, number> = {};
  const watcher = watch(dir, { depth: 0, ignoreInitial: true });
  watcher.on('error', (e) => void (errors[String((e as NodeJS.ErrnoException).code)] = (errors[String((e as NodeJS.ErrnoException).code)] ?? 0) + 1));
  const timer = setTimeout(() => {
    console.log(
      JSON.stringify({
        timedOut: true,
        ms: performance.now() - started,
        maxRssMb: process.resourceUsage().maxRSS / 1024,
        inotifyWatches: inotifyWatches(),
        errors,
      }),
    );
    process.exit(0);
  }, timeoutMs);
  watcher.once('ready', () => {
    const readyMs = performance.now() - started;
    const name = `${'0'.repeat(32)}-reference-probe`;
    const t0 = performance.now();
    watcher.once('addDir', () => {
      const eventMs = performance.now() - t0;
      clearTimeout(timer);
      fs.rmdirSync(`${dir}/${name}`);
      console.log(
        JSON.stringify({
          readyMs,
          eventMs,
          rssMb: process.memoryUsage().rss / 1e6,
          maxRssMb: process.resourceUsage().maxRSS / 1024,
          inotifyWatches: inotifyWatches(),
          errors,
        }),
      );
      void watcher.close().then(() => process.exit(0));
    });
    fs.mkdirSync(`${dir}/${name}`);
  });
}
