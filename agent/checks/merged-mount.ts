/** Check: the merged store dir is a mount point, the mount visible there is an overlay, and nothing is stacked on it. */
import { finding, type Finding } from '../findings/index.ts';
import { type MountinfoEntry, parseOverlayOptions, canonAbsolutePath } from '../mount/index.ts';
import type { Check } from './check.ts';
import { mountLineEvidence, type ExpectedLayout, type MountFacts, type ReadMountFacts } from './mount-facts.ts';

/** At most this many malformed lines are quoted in evidence. */
const QUOTED_BAD_LINES = 5;

/**
 * Decides from the facts alone (pure): `mount.mountinfo-unreadable`, `mount.mountinfo-malformed` (warning: lines
 * skipped), `mount.mountinfo-crlf` (warning: lines ending in a carriage return), `mount.not-mounted` (with any
 * overlay mounted elsewhere with the configured layers, so the wrong setting is named), `mount.not-overlay`,
 * `mount.stacked`, `mount.options-unreadable`, and
 * `mount.relative-layer-paths` (info: how relative paths were read).
 */
export function decideMergedMount(facts: MountFacts): Finding[] {
  if (facts.status === 'unreadable') {
    return [
      finding(
        'mount.mountinfo-unreadable',
        'error',
        `cannot read the mount table ${facts.mountinfoFile}: ${facts.error.message}`,
        { mountinfoFile: facts.mountinfoFile, errno: facts.error.errno },
        'point `mountinfo` (config) or --mountinfo at a readable file; /proc must be mounted for the default /proc/self/mountinfo',
      ),
    ];
  }
  const out: Finding[] = [];
  if (facts.parseErrors.length > 0) {
    out.push(
      finding(
        'mount.mountinfo-malformed',
        'warning',
        `${facts.parseErrors.length} line(s) of the mount table ${facts.mountinfoFile} could not be read and were skipped; a mount on one of them is not seen`,
        {
          mountinfoFile: facts.mountinfoFile,
          malformedLines: facts.parseErrors.slice(0, QUOTED_BAD_LINES).map((e) => ({ lineNumber: e.lineNumber, problem: e.problem, line: e.line })),
        },
        'give the table exactly as the kernel prints it: cat /proc/self/mountinfo > FILE',
      ),
    );
  }
  out.push(...carriageReturnFindings(facts));
  const merged = facts.expected.merged;
  const where = `the merged store dir ${merged.path}`;
  if (facts.visible === undefined) {
    out.push(notMounted(facts));
    return out;
  }
  if (facts.overlay === undefined) {
    const v = facts.visible;
    out.push(
      finding(
        'mount.not-overlay',
        'error',
        `${where} is a ${v.fsType} mount (source ${v.source}), not an OverlayFS mount, so it does not merge the lower store and the upper layer`,
        { ...mountLineEvidence(facts, v), expected: 'overlay', actual: v.fsType, mergedStoreDir: merged.path, setting: merged.setting },
        `mount the overlay there (mount -t overlay overlay -o lowerdir=${facts.expected.lowerStoreDir.path},upperdir=${facts.expected.upperLayer.path},workdir=… ${merged.path}), or fix the store URL's \`${merged.setting}\` if the store is mounted elsewhere`,
      ),
    );
    return out;
  }
  if (facts.above.length > 0) {
    const top = facts.above[facts.above.length - 1]!;
    out.push(
      finding(
        'mount.stacked',
        'error',
        `${facts.above.length === 1 ? 'a' : facts.above.length} mount${facts.above.length === 1 ? ' is' : 's are'} stacked on the overlay at ${merged.path} and hide${facts.above.length === 1 ? 's' : ''} it: Nix and users see the ${top.fsType} mount (source ${top.source}), not the store`,
        { ...mountLineEvidence(facts, top), overlay: facts.overlay.line, stackedMounts: facts.above.map((e) => e.line), mergedStoreDir: merged.path },
        `unmount what is stacked (umount '${merged.path}' removes the top mount, once per mount: ${facts.above.length}) and find what mounted it; Nix's own check-mount does not notice this`,
      ),
    );
  }
  if (facts.optionsError !== undefined) {
    out.push(
      finding(
        'mount.options-unreadable',
        'error',
        `the overlay options at ${merged.path} cannot be read: ${facts.optionsError.message}`,
        { ...mountLineEvidence(facts, facts.overlay), code: facts.optionsError.code, option: facts.optionsError.option },
        'this table was not printed by a kernel as is; give it exactly as the kernel printed it, or report the line as a bug',
      ),
    );
    return out;
  }
  const relative = relativePathsFinding(facts);
  if (relative !== undefined) out.push(relative);
  return out;
}

/** `mount.not-mounted`, saying what is there instead, and whether the overlay is mounted elsewhere or hidden. */
function notMounted(facts: ReadMountFacts): Finding {
  const merged = facts.expected.merged;
  const hiddenOverlay = facts.hidden.findLast((e) => e.fsType === 'overlay');
  const elsewhere = overlaysWithConfiguredLayers(facts.table.entries, facts.expected).filter((e) => e !== hiddenOverlay);
  const containing = facts.containing;
  const evidence = {
    expected: merged.path,
    setting: merged.setting,
    configured: merged.given,
    canonicalised: merged.how,
    mountinfoFile: facts.mountinfoFile,
    ...(containing === undefined ? {} : { containingMount: containing.line }),
    ...(facts.hidden.length === 0 ? {} : { hiddenMounts: facts.hidden.map((e) => e.line) }),
    ...(elsewhere.length === 0 ? {} : { overlaysWithTheseLayers: elsewhere.map((e) => e.line) }),
  };
  let message = `the merged store dir ${merged.path} (from the store URL's \`${merged.setting}\`) is not a mount point`;
  if (hiddenOverlay !== undefined && containing !== undefined) {
    message += `: an overlay is mounted there, but the ${containing.fsType} mount at ${containing.mountPoint} covers it, so nobody sees it`;
  } else {
    message += containing === undefined ? '' : `: it is a plain directory on the ${containing.fsType} mount at ${containing.mountPoint}`;
    if (elsewhere.length > 0) message += `; an overlay with the configured layers is mounted at ${elsewhere.map((e) => e.mountPoint).join(', ')} instead`;
  }
  const hint =
    elsewhere.length > 0
      ? `set the store URL's \`${merged.setting}\` so the merged store dir is ${elsewhere[0]!.mountPoint}, or mount the overlay at ${merged.path}`
      : hiddenOverlay !== undefined
        ? `unmount what covers it (umount '${containing?.mountPoint ?? merged.path}') or mount the overlay again after it`
        : `mount the overlay: mount -t overlay overlay -o lowerdir=${facts.expected.lowerStoreDir.path},upperdir=${facts.expected.upperLayer.path},workdir=DIR ${merged.path} (DIR on the upper layer's filesystem), or fix \`${merged.setting}\``;
  return finding('mount.not-mounted', 'error', message, evidence, hint);
}

/** Overlays anywhere in the table whose upperdir or a lowerdir is the configured one (compared lexically: a saved table's paths may not exist here). */
function overlaysWithConfiguredLayers(entries: readonly MountinfoEntry[], expected: ExpectedLayout): MountinfoEntry[] {
  const wanted = new Set(
    [expected.upperLayer.path, expected.upperLayer.given, expected.lowerStoreDir.path, expected.lowerStoreDir.given].map((p) => canonAbsolutePath(p) ?? p),
  );
  return entries.filter((e) => {
    if (e.fsType !== 'overlay') return false;
    try {
      const o = parseOverlayOptions(e.superOptions);
      return [o.upperdir, ...o.lowerLayers.map((l) => l.path)].some((p) => p !== undefined && wanted.has(canonAbsolutePath(p) ?? p));
    } catch {
      return false;
    }
  });
}

/** Info when the mounter gave relative layer paths: what they were resolved against, or that they could not be. */
function relativePathsFinding(facts: ReadMountFacts): Finding | undefined {
  const paths = [
    ...facts.lowers.map((l) => ({ ...l, option: `${l.option} #${l.position}` })),
    ...(facts.upper === undefined ? [] : [{ ...facts.upper, option: 'upperdir' }]),
    ...(facts.work === undefined ? [] : [{ ...facts.work, option: 'workdir' }]),
  ].filter((p) => !p.given.startsWith('/'));
  if (paths.length === 0 || facts.overlay === undefined) return undefined;
  const cwd = facts.mounterCwd;
  const message =
    cwd !== undefined
      ? `the overlay at ${facts.expected.merged.path} was mounted with relative layer paths; the kernel keeps them as given and does not record the mounter's working directory, so they were resolved against ${cwd.path}, inferred from the configured paths`
      : `the overlay at ${facts.expected.merged.path} was mounted with relative layer paths and the mounter's working directory cannot be inferred (no relative layer is a suffix of a configured path); paths that end like a configured one were taken to be it`;
  return finding(
    'mount.relative-layer-paths',
    'info',
    message,
    {
      ...mountLineEvidence(facts, facts.overlay),
      mounterCwd: cwd?.path ?? null,
      inferredFrom: cwd?.inferredFrom ?? null,
      relativePaths: paths.map((p) => ({ option: p.option, given: p.given, resolved: p.path, how: p.how })),
    },
    'mount with absolute layer paths, so the mount table says which directories they are',
  );
}

/**
 * `mount.mountinfo-crlf` (warning) when lines of the table end in a carriage return: either every line did (Windows
 * line endings, removed before parsing: the table was read as the kernel printed it), or only some did, and each
 * stayed part of its line's last field (a layer path there then ends in one). Pure.
 */
function carriageReturnFindings(facts: ReadMountFacts): Finding[] {
  const cr = facts.carriageReturns;
  if (cr === undefined) return [];
  const evidence = { mountinfoFile: facts.mountinfoFile, linesEndingInCr: cr.count, firstLines: cr.lines, removed: cr.stripped };
  if (cr.stripped) {
    return [
      finding(
        'mount.mountinfo-crlf',
        'warning',
        `the mount table ${facts.mountinfoFile} has Windows (CRLF) line endings: the carriage return ending each of its lines was removed before it was read`,
        evidence,
        'save the table as the kernel prints it (cat /proc/self/mountinfo > FILE), or convert it with dos2unix',
      ),
    ];
  }
  return [
    finding(
      'mount.mountinfo-crlf',
      'warning',
      `${cr.count} line(s) of the mount table ${facts.mountinfoFile} end in a carriage return (line ${cr.lines.join(', ')}${cr.count > cr.lines.length ? ', …' : ''}) and the others do not: each was kept as part of its line's last field, as the kernel prints a carriage return in a path unescaped, so an option there names a path ending in one`,
      evidence,
      "if the table went through a Windows tool, convert it with dos2unix; if it is the kernel's, a layer path really ends in a carriage return: rename it",
    ),
  ];
}

export const mergedMountCheck: Check = {
  id: 'mount.merged',
  title: 'merged store dir is a visible overlay mount',
  run: (context) => decideMergedMount(context.mount),
};
