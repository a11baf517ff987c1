#!/usr/bin/env node
/** The `overlay-warden` executable: runs the CLI with the process's streams; Ctrl-C aborts the running command. */
import { runCli } from './run-cli.ts';

const controller = new AbortController();
let interrupted = 0;
const onSignal = (): void => {
  // First Ctrl-C asks the command to stop and print what it has; a second one is an immediate exit.
  if (++interrupted > 1) process.exit(130);
  controller.abort(new Error('interrupted'));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }, controller.signal);
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
