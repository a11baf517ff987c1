/**
 * QueryPathInfo for many paths on one connection: one small exchange object per path, at most `ahead` of them
 * queued at once (the connection writes up to its in-flight window of those), the next ones queued as answers come in.
 */
import type { DaemonConnection } from './daemon-connection.ts';
import type { DaemonError } from './daemon-error.ts';
import type { FrameWriter } from './frame-encode.ts';
import type { FrameReader } from './frame-reader.ts';
import { readPathInfo, type DaemonPathInfo } from './daemon-path-info.ts';
import { OpExchange, type OpContext } from './op-exchange.ts';

/** Where a path's answer goes: its index in the caller's list. */
export interface PathInfoSink {
  settled(index: number, error: DaemonError | undefined, info: DaemonPathInfo | undefined): void;
}

/** QueryPathInfo of one path; its answer goes to `sink` under `index`. */
export class PathInfoOp extends OpExchange {
  private readonly path: string;
  private readonly index: number;
  private readonly sink: PathInfoSink;

  constructor(context: OpContext, path: string, index: number, sink: PathInfoSink) {
    super('QueryPathInfo', context);
    this.path = path;
    this.index = index;
    this.sink = sink;
  }

  settle(error: DaemonError | undefined, value: unknown): void {
    this.sink.settled(this.index, error, value as DaemonPathInfo | undefined);
  }

  protected writeArguments(out: FrameWriter): void {
    out.string(this.path);
  }

  protected readAnswer(reader: FrameReader): DaemonPathInfo | undefined {
    if (!reader.bool('valid')) return undefined;
    return readPathInfo(reader, this.context.storeDir, this.path);
  }
}

/**
 * The metadata of every path of `paths` (checked store paths), in their order; undefined for a path that is not
 * valid. The paths are handed out one at a time to whichever connection has room (at most `ahead` queued on each),
 * so a slower daemon worker takes fewer. Rejects with the first error (a DAEMON_REMOTE_ERROR for one path included);
 * the answers still due are then read and dropped.
 */
export function queryPathInfosOn(
  connections: readonly { readonly connection: DaemonConnection; readonly context: OpContext }[],
  paths: readonly string[],
  ahead: number,
): Promise<(DaemonPathInfo | undefined)[]> {
  return new Promise((resolve, reject) => {
    const results: (DaemonPathInfo | undefined)[] = new Array<DaemonPathInfo | undefined>(paths.length).fill(undefined);
    const queuedOn = new Array<number>(connections.length).fill(0);
    let next = 0;
    let answered = 0;
    let failed = false;
    const feed = (on: number): void => {
      const { connection, context } = connections[on]!;
      while (!failed && next < paths.length && queuedOn[on]! < ahead) {
        const index = next++;
        queuedOn[on]!++;
        connection.submit(new PathInfoOp(context, paths[index]!, index, sinks[on]!));
      }
    };
    const sinks: PathInfoSink[] = connections.map((_, on) => ({
      settled(index, error, info) {
        if (failed) return;
        if (error !== undefined) {
          failed = true;
          return reject(error);
        }
        results[index] = info;
        queuedOn[on]!--;
        if (++answered === paths.length) return resolve(results);
        feed(on);
      },
    }));
    if (paths.length === 0) return resolve(results);
    for (let on = 0; on < connections.length; on++) feed(on);
  });
}
