/**
 * The `layers` section of status: each layer's filesystem and block device (systeminformation, cached: its calls
 * shell out and take a while), and the system's disk read and write rates while scheduled work keeps the pool busy.
 */
import { realpathSync } from 'node:fs';
import si from 'systeminformation';
import type { AgentServiceStarter } from '../agent-options.ts';
import { messageOf } from '../errors/index.ts';
import { layerFactsOf, type LayerFacts } from './layer-facts.ts';

/** How often the filesystem facts are collected again (they rarely change). */
const FACTS_EVERY_MS = 60_000;
/** How often disk I/O rates are sampled while work runs. */
const IO_EVERY_MS = 5_000;

/** The `layers` section of status. */
export interface LayersStatus {
  /** When the facts were collected; undefined while the first collection runs. */
  readonly collectedAt?: string;
  readonly layers: readonly LayerFacts[];
  /** Disk read and write rates (bytes per second, all filesystems) while scheduled work runs; absent when idle. */
  readonly io?: { readonly at: string; readonly readBytesPerSecond: number; readonly writeBytesPerSecond: number };
  /** Why the last collection failed, if it did. */
  readonly error?: string;
}

const real = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

const poolBusy = (schedule: unknown): boolean => ((schedule as { pool?: { busy?: unknown } } | undefined)?.pool?.busy ?? 0) !== 0;

/** Collects layer facts in the background (never blocks the agent's start) and adds the `layers` section to status. */
export function layersService(): AgentServiceStarter {
  return async (agent, { config }) => {
    const targets = [
      ['lower', config.layout.lower.realStoreDir],
      ['upper', config.layout.upperLayer],
    ] as const;
    let state: LayersStatus = { layers: targets.map(([layer, path]) => ({ layer, path })) };
    let closed = false;
    const collect = async (): Promise<void> => {
      try {
        const [filesystems, devices] = await Promise.all([si.fsSize(), si.blockDevices()]);
        if (closed) return;
        const layers = targets.map(([layer, path]) => layerFactsOf(layer, real(path), filesystems, devices));
        state = { collectedAt: new Date().toISOString(), layers, ...(state.io === undefined ? {} : { io: state.io }) };
      } catch (error) {
        state = { ...state, error: messageOf(error) };
      }
    };
    const sampleIo = async (): Promise<void> => {
      if (!poolBusy(agent.status().schedule)) {
        const { io: _idle, ...rest } = state;
        state = rest;
        return;
      }
      try {
        const stats = await si.fsStats();
        if (closed || stats.rx_sec === null || stats.wx_sec === null) return;
        state = { ...state, io: { at: new Date().toISOString(), readBytesPerSecond: Math.round(stats.rx_sec), writeBytesPerSecond: Math.round(stats.wx_sec) } };
      } catch {
        // Rates are a nicety: the facts stay.
      }
    };
    void collect();
    const factsTimer = setInterval(() => void collect(), FACTS_EVERY_MS).unref();
    const ioTimer = setInterval(() => void sampleIo(), IO_EVERY_MS).unref();
    agent.extendStatus(() => ({ layers: state }));
    return {
      close: async () => {
        closed = true;
        clearInterval(factsTimer);
        clearInterval(ioTimer);
      },
    };
  };
}
