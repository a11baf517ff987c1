// Asks the running overlay-warden agent to remount, over its control socket, and prints the outcome.
// Plain JavaScript for any Node >= 14, no dependencies: hooks/nix-remount-hook runs it with whatever Node it finds.
// It speaks the protocol of agent/control/control-protocol.ts: one JSON object per line each way.
//
// Usage: node remount-client.mjs SOCKET MERGED_STORE_DIR [TIMEOUT_SECONDS]
// Exit status:
//   0  the agent remounted and its check found the view fresh
//   1  the agent's remount failed, or the view is still stale, or the agent refused the request
//   64 bad usage
//   69 no agent answers on SOCKET, or it supervises another store (the caller may remount directly)
//   75 the agent did not answer within the timeout
import { createConnection } from 'net';

const [socketPath, mergedStoreDir, timeoutArg = '900'] = process.argv.slice(2);
const say = (text) => process.stderr.write(`nix-remount-hook: ${text}\n`);
const timeoutSeconds = Number(timeoutArg);
if (!socketPath || !mergedStoreDir || !(timeoutSeconds > 0)) {
  say('usage: remount-client.mjs SOCKET MERGED_STORE_DIR [TIMEOUT_SECONDS]');
  process.exit(64);
}

const request = { id: `nix-hook-${process.pid}`, action: 'remount', source: 'nix-hook', mergedStoreDir };
const socket = createConnection(socketPath);
let received = '';
let done = false;

function finish(status, text) {
  if (done) return;
  done = true;
  clearTimeout(timer);
  socket.destroy();
  if (text) say(text);
  process.exitCode = status;
}

const timer = setTimeout(() => finish(75, `the agent on ${socketPath} did not answer within ${timeoutSeconds} s`), timeoutSeconds * 1000);
socket.setEncoding('utf8');
socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
socket.on('error', (error) => {
  if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ENOTSOCK') finish(69, `no agent answers on ${socketPath} (${error.code})`);
  else finish(1, `cannot talk to the agent on ${socketPath}: ${error.message}`);
});
socket.on('close', () => finish(1, `the agent on ${socketPath} closed the connection without answering`));
socket.on('data', (chunk) => {
  received += chunk;
  const newline = received.indexOf('\n');
  if (newline < 0) return;
  let response;
  try {
    response = JSON.parse(received.slice(0, newline));
  } catch {
    finish(1, `the agent's answer is not JSON: ${received.slice(0, 200)}`);
    return;
  }
  if (!response.ok) {
    const error = response.error || {};
    if (error.code === 'CONTROL_WRONG_STORE') finish(69, `the agent on ${socketPath} supervises another store (${error.message})`);
    else finish(1, `the agent refused: ${error.message || 'unknown error'} [${error.code || '?'}]${error.hint ? `\nhint: ${error.hint}` : ''}`);
    return;
  }
  const outcome = response.result || {};
  const shared = outcome.requests > 1 ? `, together with ${outcome.requests - 1} other request${outcome.requests === 2 ? '' : 's'}` : '';
  if (outcome.status === 'remounted' && outcome.fresh) {
    process.stdout.write(`nix-remount-hook: the agent remounted ${mergedStoreDir} (run ${outcome.run}, ${outcome.attempts} attempt${outcome.attempts === 1 ? '' : 's'}${shared}); the view is fresh\n`);
    finish(0);
  } else {
    const error = outcome.error || {};
    finish(1, `the agent's remount ${outcome.status || 'failed'} after ${outcome.attempts} attempt${outcome.attempts === 1 ? '' : 's'}: ${error.message || 'no details'}${error.hint ? `\nhint: ${error.hint}` : ''}`);
  }
});
