/** The agent's side of the scheduler's contract for tests: drift in, findings out (a plain emitter stands in for the Agent). */
import { EventEmitter } from 'node:events';
import type { FindingsEvent } from '../../agent/agent-status.ts';

export class ScheduleHost extends EventEmitter<{ drift: [never]; findings: [FindingsEvent] }> {
  /** The next findings event from `source`. */
  nextFindings(source: FindingsEvent['source']): Promise<FindingsEvent> {
    return new Promise((resolve) => {
      const listener = (event: FindingsEvent): void => {
        if (event.source !== source) return;
        this.off('findings', listener);
        resolve(event);
      };
      this.on('findings', listener);
    });
  }
}
