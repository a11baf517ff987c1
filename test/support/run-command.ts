/** Runs a command for a test without blocking the event loop: its stdout, or an error with the end of its output. */
import { spawn } from 'node:child_process';

/** Runs `file ARGS` (with `env`, default this process's); resolves with its stdout, rejects with the end of its stdout and stderr when it fails. */
export function runCommand(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => ((stdout += String(chunk)), (output += String(chunk))));
    child.stderr.on('data', (chunk: Buffer) => (output += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${file} ${args.join(' ')} exited with ${String(code)}:\n${output.slice(-6000)}`));
    });
  });
}
