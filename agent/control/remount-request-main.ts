/**
 * The program hooks/nix-remount-hook runs to ask the agent to remount: `node remount-request-main.(ts|js) SOCKET
 * MERGED_STORE_DIR [TIMEOUT_SECONDS]`, exiting with a REMOUNT_REQUEST_EXIT status. It loads the control client and
 * nothing else of the agent (no CLI, no configuration), so that it starts in a few tens of milliseconds.
 */
import { parseRemountRequestArgs, REMOUNT_REQUEST_EXIT, REMOUNT_REQUEST_USAGE, requestRemount } from './remount-request.ts';

const say = (stream: NodeJS.WriteStream, text: string): void => void stream.write(`nix-remount-hook: ${text}\n`);

const args = parseRemountRequestArgs(process.argv.slice(2));
if (args === undefined) {
  say(process.stderr, REMOUNT_REQUEST_USAGE);
  process.exitCode = REMOUNT_REQUEST_EXIT.usage;
} else {
  const result = await requestRemount(args);
  if (result.stdout !== undefined) say(process.stdout, result.stdout);
  if (result.stderr !== undefined) say(process.stderr, result.stderr);
  process.exitCode = result.status;
}
