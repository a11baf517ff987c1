/**
 * The agent as a child process, for end-to-end scenarios: real Nix stores (nix-overlay-fixture), their overlay
 * mounted in a private mount namespace (mount-namespace.ts), `overlay-warden run --config FILE` entered into that
 * namespace, its JSON log lines (stderr) parsed as they come, and `overlay-warden status --json` asked over the
 * control socket. Waits poll for a condition with a generous limit; nothing asserts on elapsed time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { AgentStatus } from '../../agent/agent.ts';
import { CLI_MAIN } from './cli-run.ts';
import { reportOf } from './json-output.ts';
import { MountNamespace } from './mount-namespace.ts';
import { createNixOverlayFixture, MOUNT_OVERLAY, scriptEnv, type NixOverlayFixture } from './nix-overlay-fixture.ts';
import { REACTION_TIMEOUT_MS, waitFor } from './wait-for.ts';

/** One line of the agent's JSON log (winston: level, message, timestamp, then the line's fields). */
export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly timestamp?: string;
  readonly [field: string]: unknown;
}

/** How a child ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** `overlay-warden run` as a child process, its log collected line by line. */
export class AgentChild {
  readonly child: ChildProcess;
  /** Parsed JSON log lines, in order. */
  readonly log: LogLine[] = [];
  /** Lines on stderr that were not JSON (a crash's stack trace). */
  readonly other: string[] = [];
  /** Everything it printed on stdout (with --json: the envelope, once it stops). */
  stdout = '';
  readonly exited: Promise<Exit>;
  #partial = '';

  constructor(argv: readonly string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => this.#take(chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The log lines that match. */
  lines(match: (line: LogLine) => boolean): LogLine[] {
    return this.log.filter(match);
  }

  /** The log so far as text, for failure messages. */
  describe(): string {
    return `--- agent log ---\n${this.log.map((l) => `${l.level} ${l.message} ${JSON.stringify(l).slice(0, 400)}`).join('\n')}${this.other.length === 0 ? '' : `\n--- other stderr ---\n${this.other.join('\n')}`}`;
  }

  /** Resolves with the first log line (from the start of the log, or after line `from`) that matches; rejects if the agent exits first. */
  async waitForLog(match: (line: LogLine) => boolean, what: string, options: { from?: number; timeoutMs?: number } = {}): Promise<LogLine> {
    return waitFor(
      () => {
        const found = this.log.slice(options.from ?? 0).find(match);
        if (found !== undefined) return found;
        if (!this.running) throw new Error(`the agent exited (${String(this.child.exitCode ?? this.child.signalCode)}) before ${what}\n${this.describe()}`);
        return undefined;
      },
      what,
      { ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), describe: () => this.describe() },
    );
  }

  /**
   * Sends `signal` and waits for the exit. `timeoutMs` is a safety net far above any expected stop, not a
   * measure: when it passes, the agent is SIGKILLed and this rejects.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = REACTION_TIMEOUT_MS): Promise<Exit> {
    if (!this.running) return this.exited;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const result = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (result === 'late') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`the agent did not exit within ${timeoutMs} ms of ${signal}\n${this.describe()}`);
    }
    return result;
  }

  /** Cleanup: SIGKILL if still running, then wait for the exit. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  #take(chunk: string): void {
    const text = this.#partial + chunk;
    const lines = text.split('\n');
    this.#partial = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        this.log.push(JSON.parse(line) as LogLine);
      } catch {
        this.other.push(line);
      }
    }
  }
}

/** The message the agent logs once it is watching (start-up done). */
export const WATCHING = /^watching the lower store/;

/** A remount log line of the given RemountEvent type (`remount-started`, `remount-verified`…). */
export const remountLine =
  (type: string) =>
  (line: LogLine): boolean =>
    line['remount'] === type;

/** A drift log line of the given DriftEvent type. */
export const driftLine =
  (type: string) =>
  (line: LogLine): boolean =>
    line['event'] === type;

type Settings = Record<string, unknown>;

function merge(base: Settings, over: Settings): Settings {
  const out: Settings = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prior = out[key];
    out[key] =
      typeof value === 'object' && value !== null && !Array.isArray(value) && typeof prior === 'object' && prior !== null && !Array.isArray(prior)
        ? merge(prior as Settings, value as Settings)
        : value;
  }
  return out;
}

/**
 * One end-to-end scenario: the Nix fixture (stores made by the caller's scripts), the overlay namespace, a state
 * dir, a control socket and a config file, and every agent started (all killed by `close`).
 */
export class AgentScenario {
  readonly fixture: NixOverlayFixture;
  readonly stateDir: string;
  readonly socket: string;
  readonly configFile: string;
  #ns: MountNamespace | undefined;
  readonly #agents: AgentChild[] = [];

  private constructor(fixture: NixOverlayFixture) {
    this.fixture = fixture;
    this.stateDir = path.join(fixture.dir, 'state');
    this.socket = path.join(fixture.dir, 'run', 'control.sock');
    this.configFile = path.join(fixture.dir, 'overlay-warden.yaml');
    fs.mkdirSync(path.dirname(this.socket), { mode: 0o700 });
  }

  /** Makes the directories and runs `lowerSetup` (bash, unmounted: make the lower store) before mounting. */
  static async create(lowerSetup = 'nix-store --store "$A" --add "$EXPR" >/dev/null'): Promise<AgentScenario> {
    const scenario = new AgentScenario(createNixOverlayFixture());
    try {
      scenario.fixture.unmounted(lowerSetup);
      scenario.#ns = await MountNamespace.open({ setup: MOUNT_OVERLAY, env: scriptEnv(scenario.fixture) });
      return scenario;
    } catch (error) {
      await scenario.close();
      throw error;
    }
  }

  /** The namespace holding the fixture's overlay; its `bash` scripts see the fixture's variables (scriptEnv). */
  get ns(): MountNamespace {
    return this.#ns!;
  }

  /** Unmounts the overlay in the namespace (as a shutdown would); `mountOverlay()` mounts it again. */
  unmountOverlay(): void {
    this.ns.bash('umount "$B/nix/store"');
  }

  mountOverlay(): void {
    this.ns.bash(MOUNT_OVERLAY);
  }

  /** Writes the config (JSON is YAML): the fixture's store URL, this state dir and socket, JSON logs, no HTTP; `over` is merged in. */
  writeConfig(over: Settings = {}, file = this.configFile): string {
    const base: Settings = {
      store: { url: this.fixture.storeUrl },
      stateDir: this.stateDir,
      control: { socket: this.socket },
      http: { address: 'off' },
      log: { level: 'info', format: 'json' },
      remount: { coalesceMs: 200, backoffSeconds: 0.1 },
    };
    fs.writeFileSync(file, `${JSON.stringify(merge(base, over), null, 2)}\n`, { mode: 0o600 });
    return file;
  }

  /** Starts `overlay-warden run --config FILE [ARGS]` inside the namespace; resolves once it logs that it is watching. */
  async startAgent(configFile = this.configFile, args: readonly string[] = []): Promise<AgentChild> {
    const agent = this.spawnAgent(configFile, args);
    await agent.waitForLog((l) => WATCHING.test(l.message), 'the agent to start watching');
    return agent;
  }

  /** Starts the agent without waiting for anything. */
  spawnAgent(configFile = this.configFile, args: readonly string[] = []): AgentChild {
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], NO_COLOR: '1' };
    const agent = new AgentChild([...this.ns.nsenter, process.execPath, CLI_MAIN, 'run', '--config', configFile, ...args], env);
    this.#agents.push(agent);
    return agent;
  }

  /**
   * `overlay-warden status --json` (a child process, over the control socket; `configFile` names the socket), its
   * envelope validated against the schema and put back together as the agent's AgentStatus.
   */
  async status(configFile = this.configFile): Promise<AgentStatus> {
    const run = await runCli(['status', '--json', '--config', configFile]);
    let report;
    try {
      report = reportOf(run.stdout, 'status');
    } catch (error) {
      throw new Error(`status --json printed no valid envelope (exit ${String(run.code)}): ${(error as Error).message}\n${run.stderr}`);
    }
    const { findings, lastCheck, socket: _socket, ...rest } = report;
    return { ...rest, lastCheck: lastCheck === null ? undefined : { ...lastCheck, findings } } as AgentStatus;
  }

  /** Polls `status` until `match` holds for it; resolves with that status. */
  async waitForStatus(match: (status: AgentStatus) => boolean, what: string, agent?: AgentChild, configFile = this.configFile): Promise<AgentStatus> {
    let last: AgentStatus | undefined;
    return waitFor(
      async () => {
        last = await this.status(configFile).catch(() => undefined);
        return last !== undefined && match(last) ? last : undefined;
      },
      what,
      { intervalMs: 100, describe: () => `last status: ${JSON.stringify(last)?.slice(0, 2000)}\n${agent?.describe() ?? ''}` },
    );
  }

  async close(): Promise<void> {
    // OW_AGENT_LOG=1 prints every agent's log, to see what a passing scenario did.
    if (process.env['OW_AGENT_LOG'] === '1') for (const agent of this.#agents) console.log(agent.describe());
    await Promise.allSettled(this.#agents.map((a) => a.kill()));
    await this.#ns?.close();
    this.fixture.remove();
  }
}

/** Runs the CLI as a child process without blocking this process's event loop. */
export function runCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], NO_COLOR: '1' },
  prefix: readonly string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const [file, ...args] = [...prefix, process.execPath, CLI_MAIN, ...argv];
    const child = spawn(file!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
