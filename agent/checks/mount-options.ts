/** Check: the overlay is writable (unless meant to be read-only), and the options that matter for a store whose upper layer Nix edits directly. */
import { finding, type Finding } from '../findings/index.ts';
import { mountAccess } from '../mount/index.ts';
import type { Check } from './check.ts';
import { mountLineEvidence, type MountFacts } from './mount-facts.ts';

/** The kernel documentation's rule that the store's life depends on: the lower store grows while the upper layer lives on. */
const OFFLINE_RULE =
  'OverlayFS allows changes to the lower layers only if metacopy, index, xino and redirect_dir were never used with them, and a lower store grows';

/** One option's effective value, and whether it came from the mount line or from the kernel module's default. */
function effective<T>(value: T | undefined, fallback: T | undefined, source: string | undefined): { value: T | undefined; from: string } {
  return value !== undefined
    ? { value, from: 'mount options' }
    : { value: fallback, from: fallback === undefined ? 'unknown (not shown, saved table)' : `kernel default (${source})` };
}

/**
 * Decides from the facts alone (pure), for a readable overlay: `mount.read-only` (error: unless `expectReadOnly`),
 * `mount.not-read-only` (warning: `expectReadOnly` but writable), `mount.option-volatile`, `mount.option-metacopy`,
 * `mount.option-index`, `mount.option-redirect-dir` (warnings) and `mount.option-userxattr` (info). An option the
 * line does not show takes the kernel module's default when the table is live (the kernel prints differences only).
 */
export function decideMountOptions(facts: MountFacts, expectReadOnly: boolean): Finding[] {
  if (facts.status !== 'read' || facts.overlay === undefined || facts.options === undefined) return [];
  const o = facts.options;
  const merged = facts.expected.merged.path;
  const line = mountLineEvidence(facts, facts.overlay);
  const defaults = facts.moduleDefaults;
  const out: Finding[] = [];

  const access = mountAccess(facts.overlay);
  if (access.readOnly && !expectReadOnly) {
    const why = [
      access.mountReadOnly ? 'the mount is read-only (ro in the mount options)' : '',
      access.superblockReadOnly
        ? o.upperdir === undefined
          ? 'the overlay has no upper layer, so its filesystem is read-only'
          : 'the overlay filesystem is read-only (ro in the super options)'
        : '',
    ].filter((s) => s !== '');
    out.push(
      finding(
        'mount.read-only',
        'error',
        `the store at ${merged} is read-only: ${why.join(' and ')}; Nix cannot add, build or delete anything`,
        { ...line, expected: 'rw', actual: 'ro', mountReadOnly: access.mountReadOnly, superblockReadOnly: access.superblockReadOnly },
        o.upperdir === undefined
          ? `mount the overlay with upperdir= and workdir=, or set checks.expectReadOnly: true if a read-only store is intended`
          : `mount -o remount,rw '${merged}', or set checks.expectReadOnly: true if a read-only store is intended`,
      ),
    );
  } else if (!access.readOnly && expectReadOnly) {
    out.push(
      finding(
        'mount.not-read-only',
        'warning',
        `the store at ${merged} is writable, but the configuration says it is meant to be read-only`,
        { ...line, expected: 'ro', actual: 'rw' },
        `mount -o remount,ro '${merged}', or set checks.expectReadOnly: false`,
      ),
    );
  }
  if (o.volatile) {
    out.push(
      finding(
        'mount.option-volatile',
        'warning',
        `the overlay at ${merged} is volatile: nothing written to the upper layer is ever synced, so after a crash store objects the upper DB calls valid may be empty or partial, and the kernel refuses to mount this upper layer again until its work dir is cleaned`,
        { ...line, option: o.fsync === 'volatile' ? 'fsync=volatile' : 'volatile' },
        'mount without volatile (a remount cannot change it: umount, then mount again)',
      ),
    );
  }
  const metacopy = effective(o.metacopy, defaults?.metacopy, defaults?.source);
  if (metacopy.value === true) {
    out.push(
      finding(
        'mount.option-metacopy',
        'warning',
        `metacopy is on at ${merged}: a chmod or chown through the store copies up only metadata, leaving upper-layer files without data that point at lower files; Nix's direct deletes in the upper layer and any scan of it see those stubs, and their data is lost if the lower store changes. ${OFFLINE_RULE}`,
        { ...line, option: 'metacopy', value: 'on', from: metacopy.from },
        'mount with metacopy=off (an upper layer that already holds metacopy files needs them copied up fully first)',
      ),
    );
  }
  const index = effective(o.index, defaults?.index, defaults?.source);
  if (index.value === true) {
    out.push(
      finding(
        'mount.option-index',
        'warning',
        `index is on at ${merged}: the upper layer is bound to the file handles and UUID of the lower layers, so when the lower store is replaced or restored (a new cache image, a template update) the kernel refuses to mount with this upper layer until its index is cleared. ${OFFLINE_RULE}`,
        { ...line, option: 'index', value: 'on', from: index.from },
        'mount with index=off',
      ),
    );
  }
  const redirect = effective(o.redirectDir, defaults?.redirectDir === undefined ? undefined : defaults.redirectDir ? 'on' : 'off', defaults?.source);
  if (redirect.value === 'on') {
    out.push(
      finding(
        'mount.option-redirect-dir',
        'warning',
        `redirect_dir is on at ${merged}: renaming a directory that comes from a lower layer writes a redirect into the upper layer pointing at the lower path; direct edits of the upper layer (Nix's GC and optimise) and changes to the lower store can leave redirects dangling. ${OFFLINE_RULE}`,
        { ...line, option: 'redirect_dir', value: 'on', from: redirect.from },
        'mount with redirect_dir=off (or nofollow)',
      ),
    );
  }
  if (o.userxattr === true) {
    out.push(
      finding(
        'mount.option-userxattr',
        'info',
        `userxattr is set at ${merged} (an unprivileged mount): OverlayFS marks opaque dirs and redirects with user.overlay.* xattrs instead of trusted.overlay.*, so tools that read the upper layer directly must look there; overlay-warden does`,
        { ...line, option: 'userxattr' },
        'nothing to do; the upper layer must stay on a filesystem with user xattrs (tmpfs needs Linux ≥ 6.6)',
      ),
    );
  }
  return out;
}

export const mountOptionsCheck: Check = {
  id: 'mount.options',
  title: 'overlay is writable; options that matter',
  run: (context) => decideMountOptions(context.mount, context.config.checks.expectReadOnly),
};
