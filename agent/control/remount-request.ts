/** Nix's remount-hook asking the agent to remount: its arguments, the request, and the answer judged into an exit status and words. */
import { WardenError, messageOf } from '../errors/index.ts';
import type { RemountOutcome } from '../remount/index.ts';
import { requestControl } from './control-client.ts';
import type { ControlResponse } from './control-protocol.ts';

/** The exit statuses hooks/nix-remount-hook relies on (sysexits.h where one fits); its header documents them. */
export const REMOUNT_REQUEST_EXIT = {
  /** The agent remounted and its check found the view fresh. */
  fresh: 0,
  /** The agent's remount failed or left the view stale, the agent refused the request, or the talk failed. */
  failed: 1,
  /** EX_USAGE: bad arguments. */
  usage: 64,
  /** EX_UNAVAILABLE: no agent answers, or it supervises another store; the caller may remount directly. */
  noAgent: 69,
  /** EX_TEMPFAIL: the agent did not answer in time. */
  timeout: 75,
} as const;

export const REMOUNT_REQUEST_USAGE = 'usage: remount-request-main SOCKET MERGED_STORE_DIR [TIMEOUT_SECONDS]';

/** How long the hook waits for the agent unless told otherwise: a remount run may retry and check several times. */
const DEFAULT_TIMEOUT_SECONDS = 900;
/** The longest timer Node keeps (a longer one fires at once). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface RemountRequestArgs {
  readonly socketPath: string;
  readonly mergedStoreDir: string;
  readonly timeoutMs: number;
}

/** What the hook says: its exit status, and a line for stdout (the fresh outcome) or for stderr (everything else). */
export interface RemountRequestResult {
  readonly status: (typeof REMOUNT_REQUEST_EXIT)[keyof typeof REMOUNT_REQUEST_EXIT];
  readonly stdout?: string;
  readonly stderr?: string;
}

/** Parses `SOCKET MERGED_STORE_DIR [TIMEOUT_SECONDS]`; undefined when the arguments are not that. Pure. */
export function parseRemountRequestArgs(args: readonly string[]): RemountRequestArgs | undefined {
  const [socketPath, mergedStoreDir, timeout = String(DEFAULT_TIMEOUT_SECONDS), ...rest] = args;
  const seconds = Number(timeout);
  if (!socketPath || !mergedStoreDir || rest.length > 0 || !(seconds > 0) || !Number.isFinite(seconds)) return undefined;
  return { socketPath, mergedStoreDir, timeoutMs: Math.min(Math.ceil(seconds * 1000), MAX_TIMEOUT_MS) };
}

const plural = (n: number | undefined, word: string): string => `${n ?? '?'} ${word}${n === 1 ? '' : 's'}`;
const withHint = (text: string, hint: string | undefined): string => (hint === undefined ? text : `${text}\nhint: ${hint}`);

/** Judges what came back: the agent's response, or the error the control client rejected with. Pure. */
export function judgeRemountAnswer(
  args: RemountRequestArgs,
  answer: { readonly response: ControlResponse } | { readonly error: unknown },
): RemountRequestResult {
  const { socketPath, mergedStoreDir } = args;
  if ('error' in answer) {
    const error = answer.error;
    const code = error instanceof WardenError ? error.code : undefined;
    if (code === 'CONTROL_NO_AGENT') return { status: REMOUNT_REQUEST_EXIT.noAgent, stderr: messageOf(error) };
    if (code === 'CONTROL_TIMEOUT') return { status: REMOUNT_REQUEST_EXIT.timeout, stderr: messageOf(error) };
    const hint = error instanceof WardenError ? error.hint : undefined;
    return {
      status: REMOUNT_REQUEST_EXIT.failed,
      stderr: withHint(`cannot talk to the agent on ${socketPath}: ${messageOf(error)}${code === undefined ? '' : ` [${code}]`}`, hint),
    };
  }
  const { response } = answer;
  if (!response.ok) {
    const { code, message, hint } = response.error;
    if (code === 'CONTROL_WRONG_STORE')
      return { status: REMOUNT_REQUEST_EXIT.noAgent, stderr: `the agent on ${socketPath} supervises another store (${message})` };
    return { status: REMOUNT_REQUEST_EXIT.failed, stderr: withHint(`the agent refused: ${message} [${code}]`, hint) };
  }
  // From the agent's RemountOutcome; read defensively, since the agent may be of another version than this hook.
  const outcome = (response.result ?? {}) as Partial<RemountOutcome>;
  const requests = outcome.requests ?? 1;
  const shared = requests > 1 ? `, together with ${plural(requests - 1, 'other request')}` : '';
  if (outcome.status === 'remounted' && outcome.fresh === true) {
    return {
      status: REMOUNT_REQUEST_EXIT.fresh,
      stdout: `the agent remounted ${mergedStoreDir} (run ${outcome.run}, ${plural(outcome.attempts, 'attempt')}${shared}); the view is fresh`,
    };
  }
  const error = outcome.error;
  return {
    status: REMOUNT_REQUEST_EXIT.failed,
    stderr: withHint(
      `the agent's remount ${outcome.status ?? 'failed'} after ${plural(outcome.attempts, 'attempt')}: ${error?.message ?? 'no details'}`,
      error?.hint,
    ),
  };
}

/**
 * Asks the agent on `args.socketPath` to remount `args.mergedStoreDir` as Nix's hook, waits up to `args.timeoutMs` for
 * the outcome of the run that covers the request, and judges it (judgeRemountAnswer). Never rejects.
 */
export async function requestRemount(args: RemountRequestArgs): Promise<RemountRequestResult> {
  try {
    const response = await requestControl(
      args.socketPath,
      { action: 'remount', source: 'nix-hook', mergedStoreDir: args.mergedStoreDir },
      { timeoutMs: args.timeoutMs },
    );
    return judgeRemountAnswer(args, { response });
  } catch (error) {
    return judgeRemountAnswer(args, { error });
  }
}
