/**
 * One `check` in a fresh process, as a probe or a person pays it: the modules are loaded first (not timed), then one
 * configuration load and mount check is timed with a cold JIT. Prints the milliseconds. Args: STORE_URL MOUNTINFO.
 */
import { runMountCheck } from '../agent/checks/run-mount-check.ts';
import { loadConfig } from '../agent/config/index.ts';

const [store, mountinfo] = process.argv.slice(2);
if (store === undefined || mountinfo === undefined) throw new Error('usage: check-cold-child.ts STORE_URL MOUNTINFO');
const started = performance.now();
const config = loadConfig({ flags: { store, mountinfo }, env: {} });
const report = await runMountCheck(config, {}, new AbortController().signal);
const ms = performance.now() - started;
if (!report.findings.some((f) => f.id === 'mount.ok')) throw new Error(`the store overlay was not found: ${report.findings.map((f) => f.id).join(', ')}`);
process.stdout.write(`${ms}\n`);
