/** Refuses files that someone other than root (or the agent's own user) could have written: configs, hooks, tokens. */
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { WardenError } from '../errors/index.ts';

export type TrustErrorCode = 'FILE_UNTRUSTED' | 'FILE_MISSING';

export class TrustError extends WardenError<TrustErrorCode> {}

/**
 * What makes a file trustworthy for an agent running as `uid`: pure, so tests can pass any stat values.
 * `outsideUid` is the uid files owned by users outside this user namespace show as (the kernel's overflowuid,
 * 65534), or undefined in the initial namespace. Inside an unprivileged user namespace (the demo), real root's
 * files show as that uid; accepting it grants nothing, since "root" there has only the unprivileged user's power.
 */
export function untrustedReason(stat: { uid: number; mode: number }, uid: number, what: string, outsideUid?: number): string | undefined {
  if (stat.uid !== 0 && stat.uid !== uid && stat.uid !== outsideUid) return `${what} is owned by uid ${stat.uid}, not by root or the agent's user (uid ${uid})`;
  if ((stat.mode & 0o022) !== 0) return `${what} is writable by group or others (mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')})`;
  return undefined;
}

/**
 * Throws TrustError unless `file` and its directory are owned by root or the
 * current user and writable by nobody else: the agent runs as root, so a file
 * anyone can edit would hand them root. A sticky world-writable dir (/tmp) is
 * accepted for the directory, since others cannot replace files in it.
 */
export function assertTrustedFile(file: string, what: string, uid: number = process.getuid?.() ?? 0): void {
  let stat;
  try {
    stat = statSync(file);
  } catch (cause) {
    throw new TrustError('FILE_MISSING', `${what} ${file} cannot be read`, { cause, evidence: { file } });
  }
  const outside = uidOutsideNamespace();
  const reason = untrustedReason(stat, uid, `${what} ${file}`, outside);
  const dir = dirname(file);
  const dirStat = statSync(dir);
  const sticky = (dirStat.mode & 0o1000) !== 0;
  const dirReason = sticky ? undefined : untrustedReason(dirStat, uid, `the directory ${dir} of ${what}`, outside);
  const problem = reason ?? dirReason;
  if (problem !== undefined) {
    throw new TrustError('FILE_UNTRUSTED', `refusing ${what}: ${problem}`, {
      evidence: { file, uid: stat.uid, mode: (stat.mode & 0o7777).toString(8), dirUid: dirStat.uid, dirMode: (dirStat.mode & 0o7777).toString(8) },
      hint: `chown root ${file} && chmod go-w ${file} ${sticky ? '' : dir}`.trim(),
    });
  }
}

/**
 * The overflow uid when this process runs in a user namespace other than the initial one (whose uid_map is the
 * identity over the whole range), else undefined.
 */
export function uidOutsideNamespace(): number | undefined {
  try {
    const map = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
    if (map.length === 3 && map[0] === '0' && map[1] === '0' && map[2] === '4294967295') return undefined;
    return Number(readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim());
  } catch {
    return undefined;
  }
}
