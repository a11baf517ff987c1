/**
 * A read-only operation as the connection runs it: the op code and its arguments, then the daemon's log messages
 * (each consumed as it completes), then the answer, decoded synchronously from the buffered bytes.
 */
import type { Exchange } from './daemon-connection.ts';
import type { DaemonError } from './daemon-error.ts';
import type { FrameWriter } from './frame-encode.ts';
import type { FrameReader } from './frame-reader.ts';
import { remoteError } from './handshake.ts';
import { readStderr, type DaemonLogEvent } from './stderr-stream.ts';
import { OP, type OpName } from './worker-protocol.ts';

/** What every operation on one connection shares. */
export interface OpContext {
  readonly socketPath: string;
  readonly storeDir: string;
  /** The negotiated protocol minor. */
  readonly minor: number;
  readonly onLog: (event: DaemonLogEvent) => void;
}

export abstract class OpExchange implements Exchange {
  readonly operation: OpName;
  protected readonly context: OpContext;
  /** STDERR_LAST has been read: what is buffered now is the answer. */
  private logsRead = false;

  constructor(operation: OpName, context: OpContext) {
    this.operation = operation;
    this.context = context;
  }

  writeRequest(out: FrameWriter): void {
    out.u64(OP[this.operation]);
    this.writeArguments(out);
  }

  decode(reader: FrameReader): unknown {
    if (!this.logsRead) {
      const failure = readStderr(reader, this.context.minor, this.context.onLog);
      if (failure !== undefined) throw remoteError(this.context.socketPath, this.operation, failure.message, { traces: failure.traces });
      this.logsRead = true;
    }
    return this.readAnswer(reader);
  }

  abstract settle(error: DaemonError | undefined, value: unknown): void;
  protected abstract writeArguments(out: FrameWriter): void;
  /** The answer, or NEED_MORE (after committing any progress it keeps in fields of its own). */
  protected abstract readAnswer(reader: FrameReader): unknown;
}

/** An operation whose arguments and answer are given as functions, settling a promise. */
export class CallbackOp<T> extends OpExchange {
  private readonly args: (out: FrameWriter) => void;
  private readonly answer: (reader: FrameReader) => T;
  private readonly done: (error: DaemonError | undefined, value: T | undefined) => void;

  constructor(
    operation: OpName,
    context: OpContext,
    args: (out: FrameWriter) => void,
    answer: (reader: FrameReader) => T,
    done: (error: DaemonError | undefined, value: T | undefined) => void,
  ) {
    super(operation, context);
    this.args = args;
    this.answer = answer;
    this.done = done;
  }

  settle(error: DaemonError | undefined, value: unknown): void {
    this.done(error, value as T | undefined);
  }

  protected writeArguments(out: FrameWriter): void {
    this.args(out);
  }

  protected readAnswer(reader: FrameReader): T {
    return this.answer(reader);
  }
}

/**
 * A list of strings read one entry at a time, each committed: a long answer (every valid path) arriving in many
 * chunks is decoded once, not again from its start on every chunk.
 */
export class ListProgress {
  private count = -1;
  private readonly items: string[] = [];
  private readonly field: string;

  constructor(field: string) {
    this.field = field;
  }

  read(reader: FrameReader): string[] {
    if (this.count < 0) {
      this.count = reader.listLength(this.field);
      reader.commit();
    }
    while (this.items.length < this.count) {
      this.items.push(reader.string(this.field));
      reader.commit();
    }
    return this.items;
  }
}
