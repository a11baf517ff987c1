/** A fake nix-daemon for tests: a unix socket server in a temp dir whose script plays the daemon's side, byte by byte. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { DaemonError, WORKER_MAGIC_1, WORKER_MAGIC_2, type DaemonErrorCode } from '../../agent/store/daemon/index.ts';

export const STDERR_LAST = 0x616c7473;
export const STDERR_ERROR = 0x63787470;
export const STDERR_NEXT = 0x6f6c6d67;
export const STDERR_START_ACTIVITY = 0x53545254;
export const STDERR_STOP_ACTIVITY = 0x53544f50;
export const PATH_A = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a';

/** Bytes of u64s and padded strings, written independently of the client's encoder. */
export function wire(...values: (number | bigint | string)[]): Buffer {
  const parts: Buffer[] = [];
  for (const value of values) {
    if (typeof value === 'string') {
      const bytes = Buffer.from(value);
      parts.push(wire(bytes.length), bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8));
    } else {
      const part = Buffer.alloc(8);
      part.writeBigUInt64LE(BigInt(value));
      parts.push(part);
    }
  }
  return Buffer.concat(parts);
}

/** The peer's side of one connection: what the client sent, read in exact sizes; a read after the client left throws. */
export class Peer {
  #data = Buffer.alloc(0);
  #wake: (() => void) | undefined;
  #closed = false;
  readonly socket: net.Socket;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#data = Buffer.concat([this.#data, chunk]);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on('error', () => undefined);
  }

  async #need(bytes: number): Promise<void> {
    while (this.#data.length < bytes) {
      if (this.#closed) throw new Error('the client went away');
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  async u64(): Promise<number> {
    await this.#need(8);
    const value = Number(this.#data.readBigUInt64LE(0));
    this.#data = this.#data.subarray(8);
    return value;
  }

  async string(): Promise<string> {
    const length = await this.u64();
    const padded = length + ((8 - (length % 8)) % 8);
    await this.#need(padded);
    const text = this.#data.subarray(0, length).toString();
    this.#data = this.#data.subarray(padded);
    return text;
  }

  async strings(): Promise<string[]> {
    const count = await this.u64();
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(await this.string());
    return out;
  }

  /** Bytes received from the client and not read yet. */
  get buffered(): number {
    return this.#data.length;
  }

  send(...values: (number | bigint | string)[]): void {
    this.socket.write(wire(...values));
  }

  /** The daemon's side of the handshake and SetOptions at protocol 1.`minor`; returns the client's features (1.38+). */
  async handshake(minor: number, daemonFeatures: string[] = []): Promise<{ clientMinor: number; clientFeatures: string[] | undefined }> {
    assert.equal(await this.u64(), WORKER_MAGIC_1);
    this.send(WORKER_MAGIC_2, (1 << 8) | minor);
    const clientMinor = (await this.u64()) & 0xff;
    const agreed = Math.min(minor, clientMinor);
    let clientFeatures: string[] | undefined;
    if (agreed >= 38) {
      clientFeatures = await this.strings();
      this.send(daemonFeatures.length, ...daemonFeatures);
    }
    if (agreed >= 14 && (await this.u64()) !== 0) await this.u64();
    if (agreed >= 11) await this.u64();
    if (agreed >= 33) this.send('2.99.0-fake');
    if (agreed >= 35) this.send(1);
    this.send(STDERR_LAST);
    assert.equal(await this.u64(), 19, 'SetOptions follows the handshake');
    for (let i = 0; i < 12; i++) await this.u64();
    assert.equal(await this.u64(), 0, 'no overrides');
    this.send(STDERR_LAST);
    return { clientMinor, clientFeatures };
  }
}

/** A unix socket server in a temp dir running `script` for each connection. */
export async function fakeDaemon(dir: string, script: (peer: Peer) => Promise<void>): Promise<{ socket: string; server: net.Server; done: Promise<void>[] }> {
  const socket = path.join(dir, `fake-${Math.random().toString(36).slice(2)}.sock`);
  const done: Promise<void>[] = [];
  const server = net.createServer((connection) => {
    done.push(script(new Peer(connection)).catch(() => undefined));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, server, done };
}

export async function expectDaemonError(promise: Promise<unknown>, code: DaemonErrorCode, operation?: string): Promise<DaemonError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DaemonError, `expected DaemonError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.hint !== undefined && caught.hint.length > 0, `${code} carries a hint`);
  if (operation !== undefined) {
    assert.equal(caught.evidence['operation'], operation);
    assert.ok(caught.message.includes(operation), `the message names ${operation}: ${caught.message}`);
  }
  return caught;
}

/**
 * A unix socket server at `socket` whose every connection gets `onConnection` (a peer that hangs, or sends garbage);
 * `close()` drops its connections too. `mode` is the socket's file mode (a child running as another user connects).
 */
export async function socketServer(socket: string, onConnection: (conn: net.Socket) => void, mode?: number): Promise<{ close(): Promise<void> }> {
  const connections = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    connections.add(conn);
    conn.on('error', () => undefined);
    conn.on('close', () => connections.delete(conn));
    onConnection(conn);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  if (mode !== undefined) fs.chmodSync(socket, mode);
  return {
    close: () =>
      new Promise((resolve) => {
        for (const conn of connections) conn.destroy();
        server.close(() => resolve());
      }),
  };
}
