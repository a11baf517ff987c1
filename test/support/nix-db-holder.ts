/**
 * Real Nix holding a store's DB open, as a live Nix command does: `nix-store --import` waiting for its input has
 * opened the DB (its `-wal` and `-shm` are there) and does nothing until its input ends. Ending the input lets it
 * exit as Nix does (the last connection checkpoints and deletes both); SIGKILL leaves them behind, as a crash does.
 * And the DB directory's listing, to prove a reader changed nothing there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nixEnv } from './nix-kit.ts';
import { waitFor } from './wait-for.ts';

/** One DB directory as `ls -l --full-time` would show it: the directory's own mtime, then each entry's size and mtime. */
export interface DirListing {
  readonly dir: string;
  readonly mtimeNs: string;
  readonly entries: readonly string[];
}

/** Lists `dir` (names, sizes, mtimes to the nanosecond, and the directory's mtime). */
export function listDir(dir: string): DirListing {
  const entries = fs
    .readdirSync(dir)
    .sort()
    .map((name) => {
      const s = fs.lstatSync(path.join(dir, name), { bigint: true });
      return `${name} size=${s.size} mtime=${s.mtimeNs}`;
    });
  return { dir, mtimeNs: String(fs.statSync(dir, { bigint: true }).mtimeNs), entries };
}

/** The names in a DB directory listing. */
export const namesOf = (listing: DirListing): string[] => listing.entries.map((entry) => entry.split(' ')[0]!);

/** A `nix-store --import` into the store at `root`, holding its DB open. */
export class NixDbHolder {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /**
   * Starts it and resolves once its `-wal` and `-shm` are beside the DB. `store` is what `--store` takes: the root of
   * a local store; the DB is `dbFile`.
   */
  static async start(store: string, dbFile: string): Promise<NixDbHolder> {
    const child = spawn('nix-store', ['--store', store, '--import'], { env: nixEnv(), stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    const holder = new NixDbHolder(child);
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`nix-store --import exited (${child.exitCode}) before opening the DB:\n${stderr}`);
      return fs.existsSync(`${dbFile}-wal`) && fs.existsSync(`${dbFile}-shm`);
    }, `nix-store --import to open ${dbFile}`);
    return holder;
  }

  /** Ends its input: it fails on the empty import and exits, its DB connection closing as Nix closes it. */
  async release(): Promise<void> {
    this.#child.stdin!.end();
    await this.#exited;
  }

  /** SIGKILL, as a crash: its `-wal` and `-shm` stay. */
  async kill(): Promise<void> {
    this.#child.kill('SIGKILL');
    await this.#exited;
  }
}
