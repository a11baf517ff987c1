/**
 * The text a demo step shows, made from the `--json` envelope of its one run with the command's own formatter, so the
 * demo runs each command once and still shows what the command prints (pure apart from `io`'s colour settings).
 */
import type { AgentStatus } from '../../agent.ts';
import type { AuditReport } from '../../audit/index.ts';
import type { CheckOutcome } from '../../checks/index.ts';
import type { Finding } from '../../findings/index.ts';
import type { StoreLayout } from '../../store/index.ts';
import type { CliIo } from '../command.ts';
import type { JsonEnvelope, JsonError } from '../json-envelope.ts';
import { paint } from '../output.ts';
import { formatAuditReport } from './audit.ts';
import { formatCheckReport, type MountSummary } from './check.ts';
import { formatLayout } from './layout.ts';
import { formatStatus } from './status.ts';
import { formatVerifyReport, type VerifyResult } from './verify.ts';

/**
 * What `overlay-warden COMMAND` prints without `--json`, rebuilt from its envelope; `layout` is the demo store's (for
 * the reports whose envelope does not carry it). An envelope with an error gives the error as printError words it.
 */
export function demoStepText(io: CliIo, envelope: JsonEnvelope, layout: StoreLayout): string {
  const { result, findings } = envelope;
  if (envelope.error !== null || result === null) {
    // As printError words it (on stderr, where the step's own run has already put it; here it is part of the tour).
    const error: Pick<JsonError, 'code' | 'message' | 'hint'> = envelope.error ?? {
      code: 'INTERNAL',
      message: `${envelope.command ?? 'the command'} printed no result`,
    };
    const hint = error.hint === undefined ? '' : `\n${paint(io, 'stdout', 'dim', `hint: ${error.hint}`)}`;
    return `${paint(io, 'stdout', 'red', 'overlay-warden:')} ${error.message} [${error.code}]${hint}\n`;
  }
  switch (envelope.command) {
    case 'layout': {
      const r = result as { layout: StoreLayout; source: string; configFile: string | null; stateDir: string };
      return formatLayout(r.layout, r.source, r.configFile, r.stateDir);
    }
    case 'check': {
      const r = result as { checks: CheckOutcome[]; mount: MountSummary };
      return formatCheckReport(io, layout, r.mount.mountinfoFile, findings, r.checks);
    }
    case 'audit':
      return formatAuditReport(io, layout, result as Pick<AuditReport, 'partial' | 'interruptedIn' | 'stats'>, findings);
    case 'verify':
      return formatVerifyReport(io, layout, result as VerifyResult, findings);
    case 'status': {
      const { socket, lastCheck, ...rest } = result as Omit<AgentStatus, 'lastCheck'> & {
        socket: string;
        lastCheck: { at: string; errors: number; warnings: number } | null;
      };
      const status: AgentStatus = { ...rest, lastCheck: lastCheck === null ? undefined : { ...lastCheck, findings: findings as Finding[] } };
      return formatStatus(io, status, socket);
    }
    default:
      return `${JSON.stringify(result, null, 2)}\n`;
  }
}
