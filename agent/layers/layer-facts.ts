/** Which filesystem and block device hold each layer, from systeminformation's lists (pure). */
import type { Systeminformation } from 'systeminformation';

export type LayerName = 'lower' | 'upper';

/** The filesystem and device facts of one layer. */
export interface LayerFacts {
  readonly layer: LayerName;
  readonly path: string;
  /** Where the filesystem holding it is mounted; undefined when no listed filesystem holds it. */
  readonly mount?: string;
  /** The filesystem's source (`/dev/sda2`, `tmpfs`). */
  readonly device?: string;
  readonly fsType?: string;
  readonly sizeBytes?: number;
  readonly availableBytes?: number;
  /** Mounted read-only; undefined when systeminformation could not tell. */
  readonly readOnly?: boolean;
  /** The block device's model and kind (`disk`, `part`) when the filesystem sits on one. */
  readonly blockDevice?: { readonly name: string; readonly type: string; readonly model: string; readonly removable: boolean };
}

const holds = (mount: string, path: string): boolean => mount === '/' || path === mount || path.startsWith(`${mount}/`);

/**
 * The facts of the layer at `path`: the listed filesystem with the longest mount point holding it, and the block
 * device named like its source (`/dev/sda2` → `sda2`). Paths are compared as given (callers pass real paths).
 */
export function layerFactsOf(
  layer: LayerName,
  path: string,
  filesystems: readonly Pick<Systeminformation.FsSizeData, 'fs' | 'type' | 'size' | 'available' | 'mount' | 'rw'>[],
  devices: readonly Pick<Systeminformation.BlockDevicesData, 'name' | 'type' | 'model' | 'removable'>[],
): LayerFacts {
  const fs = filesystems.filter((f) => holds(f.mount, path)).sort((a, b) => b.mount.length - a.mount.length)[0];
  if (fs === undefined) return { layer, path };
  const name = fs.fs.startsWith('/dev/') ? fs.fs.slice('/dev/'.length) : undefined;
  const device = name === undefined ? undefined : devices.find((d) => d.name === name);
  return {
    layer,
    path,
    mount: fs.mount,
    device: fs.fs,
    fsType: fs.type,
    sizeBytes: fs.size,
    availableBytes: fs.available,
    ...(fs.rw === null ? {} : { readOnly: !fs.rw }),
    ...(device === undefined ? {} : { blockDevice: { name: device.name, type: device.type, model: device.model, removable: device.removable } }),
  };
}
