/** The `status --json` document, built from an agent's status: shared by the CLI and the HTTP `/status` (pure). */
import type { AgentStatus } from '../agent-status.ts';
import { EXIT } from './command.ts';
import { resultEnvelope, type JsonEnvelope } from './json-envelope.ts';

/**
 * The `status --json` envelope of an agent's status (pure): exit 0 when the mount is valid and no watcher is down,
 * else 1; the latest check's findings as the envelope's; `socket` the control socket asked. The HTTP `/status`
 * answers with the same document.
 */
export function statusEnvelope(status: AgentStatus, socket: string): JsonEnvelope {
  // A watcher down is not all well either: changes in what it watches go unseen until it is back.
  const exitCode = status.mountValid && status.watchers.every((w) => w.state !== 'down') ? EXIT.ok : EXIT.findings;
  const { lastCheck, ...rest } = status;
  const check = lastCheck === undefined ? null : { at: lastCheck.at, errors: lastCheck.errors, warnings: lastCheck.warnings };
  return resultEnvelope('status', exitCode, lastCheck?.findings ?? [], { ...rest, lastCheck: check, socket });
}
