/**
 * A small nix-daemon peer for tests: the daemon's side of the handshake (worker protocol 1.37, as snix speaks it)
 * and of the read-only ops, answered from a fixture of path infos. How it meets ops it does not implement is
 * chosen per test: an STDERR_ERROR, or a dropped connection (what snix does).
 */
import net from 'node:net';
import path from 'node:path';
import { WORKER_MAGIC_1, WORKER_MAGIC_2 } from '../../agent/store/daemon/index.ts';
import type { PathInfo } from '../../agent/store/index.ts';
import { Peer, STDERR_ERROR, STDERR_LAST } from './fake-daemon-peer.ts';
const OP = { IsValidPath: 1, QueryReferrers: 6, SetOptions: 19, QueryAllValidPaths: 23, QueryPathInfo: 26 } as const;

/** How the peer meets QueryAllValidPaths: answers it, refuses it with STDERR_ERROR, or drops the connection (snix). */
export type ListingMode = 'answer' | 'stderr-error' | 'close';

export interface FakeNixDaemon {
  readonly socket: string;
  /** Ops received, by name or number, in order. */
  readonly ops: readonly string[];
  close(): Promise<void>;
}

/**
 * Serves `infos` (the store's path infos, e.g. read from a real Nix DB) on a unix socket in `dir`: IsValidPath and
 * QueryPathInfo from them, QueryReferrers always [] (as snix answers it), QueryAllValidPaths as `listing` says; any
 * other op ends the connection. With `hangAfterPathInfos`, QueryPathInfo answers stop after that many.
 */
export async function startFakeNixDaemon(
  dir: string,
  infos: readonly PathInfo[],
  listing: ListingMode,
  options: { readonly hangAfterPathInfos?: number } = {},
): Promise<FakeNixDaemon> {
  let pathInfos = 0;
  const socket = path.join(dir, `fake-${Math.random().toString(36).slice(2)}.sock`);
  const byPath = new Map(infos.map((info) => [info.path, info]));
  const ops: string[] = [];
  const connections = new Set<net.Socket>();
  const refuse = (peer: Peer, message: string): void => peer.send(STDERR_ERROR, 'Error', 0, 'Error', message, 0, 0);
  const serve = async (peer: Peer): Promise<void> => {
    if ((await peer.u64()) !== WORKER_MAGIC_1) return void peer.socket.destroy();
    peer.send(WORKER_MAGIC_2, (1 << 8) | 37);
    await peer.u64(); // client version (it asks for at most 1.37 here)
    await peer.u64(); // obsolete CPU affinity: 0
    await peer.u64(); // obsolete reserveSpace
    peer.send('2.18.2', 1, STDERR_LAST); // daemon version, trusted
    for (;;) {
      const op = await peer.u64();
      const name = Object.entries(OP).find(([, code]) => code === op)?.[0] ?? String(op);
      ops.push(name);
      if (op === OP.SetOptions) {
        for (let i = 0; i < 12; i++) await peer.u64();
        const overrides = await peer.u64();
        for (let i = 0; i < overrides * 2; i++) await peer.string();
        peer.send(STDERR_LAST);
      } else if (op === OP.IsValidPath) {
        peer.send(STDERR_LAST, byPath.has(await peer.string()) ? 1 : 0);
      } else if (op === OP.QueryReferrers) {
        await peer.string();
        peer.send(STDERR_LAST, 0);
      } else if (op === OP.QueryPathInfo) {
        const info = byPath.get(await peer.string());
        // A peer that stops answering in the middle of a read (it keeps the connection open).
        if (options.hangAfterPathInfos !== undefined && ++pathInfos > options.hangAfterPathInfos) return;
        if (info === undefined) peer.send(STDERR_LAST, 0);
        else {
          const { deriver, narHash, references, registrationTime, narSize, ultimate, sigs, ca } = info;
          peer.send(STDERR_LAST, 1, deriver ?? '', narHash.replace(/^sha256:/, ''), references.length, ...references);
          peer.send(registrationTime, narSize, ultimate ? 1 : 0, sigs.length, ...sigs, ca ?? '');
        }
      } else if (op === OP.QueryAllValidPaths && listing === 'answer') {
        peer.send(STDERR_LAST, byPath.size, ...[...byPath.keys()].sort());
      } else if (op === OP.QueryAllValidPaths && listing === 'stderr-error') {
        refuse(peer, 'Operation QueryAllValidPaths is not implemented');
      } else {
        // snix: an op it does not implement ends the connection.
        return void peer.socket.destroy();
      }
    }
  };
  const server = net.createServer((connection) => {
    connections.add(connection);
    connection.on('close', () => connections.delete(connection));
    serve(new Peer(connection)).catch(() => connection.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    ops,
    close: async () => {
      for (const connection of connections) connection.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
