/** Runs the CLI in this process (main.ts loads it once the Node version will do): its argv and streams; Ctrl-C aborts the running command. */
import { runCli } from './run-cli.ts';
import { Interrupted, interruptedExitCode } from './command.ts';

const controller = new AbortController();
let interrupted = 0;
const onSignal = (signalName: NodeJS.Signals): void => {
  // The first signal asks the command to stop and print what it has; a second one is an immediate exit.
  if (++interrupted > 1) process.exit(interruptedExitCode(controller.signal));
  controller.abort(new Interrupted(signalName));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }, controller.signal);
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
