/** Who the agent trusts (root and its own user) and which modes let someone else change a file or a directory's entries. Pure but for `trustPolicy`. */
import { readBoundedSync } from './bounded-read.ts';

/** The owners a file may have. */
export interface TrustPolicy {
  /** The agent's uid. */
  readonly uid: number;
  /**
   * The uid files of users outside this user namespace show as (the kernel's overflowuid, 65534), or undefined in
   * the initial namespace. Inside an unprivileged user namespace (the demo), real root's files show as that uid;
   * accepting it grants nothing, since "root" there has only the unprivileged user's power.
   */
  readonly outsideUid: number | undefined;
}

/** The stat fields the rules look at. */
export interface OwnerAndMode {
  readonly uid: number;
  readonly mode: number;
}

const S_ISVTX = 0o1000;
const WRITABLE_BY_OTHERS = 0o022;

/** The policy of this process: its uid (or `uid`), and the overflow uid when it runs in a user namespace. */
export function trustPolicy(uid: number = process.getuid?.() ?? 0): TrustPolicy {
  return { uid, outsideUid: uidOutsideNamespace() };
}

/** True when `uid` may own what the agent trusts. */
export function isTrustedOwner(uid: number, policy: TrustPolicy): boolean {
  return uid === 0 || uid === policy.uid || (policy.outsideUid !== undefined && uid === policy.outsideUid);
}

/** `0755`-style text of a mode's permission bits. */
export function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * Why a file (or a directory the agent writes in) is not trusted: owned by someone else, or writable by group or
 * others, sticky or not. Undefined when trusted.
 */
export function untrustedReason(stat: OwnerAndMode, policy: TrustPolicy, what: string): string | undefined {
  if (!isTrustedOwner(stat.uid, policy)) return `${what} is owned by uid ${stat.uid}, not by root or the agent's user (uid ${policy.uid})`;
  if ((stat.mode & WRITABLE_BY_OTHERS) !== 0) return `${what} is writable by group or others (mode ${modeText(stat.mode)})`;
  return undefined;
}

/**
 * Why a directory the path goes through is not trusted: owned by someone else, or writable by group or others
 * without the sticky bit. A sticky one (/tmp) is passed through, because the entry taken from it must itself be
 * owned by root or the agent's user (every entry is checked so), and the sticky bit keeps others from renaming or
 * removing such an entry.
 */
export function untrustedAncestorReason(stat: OwnerAndMode, policy: TrustPolicy, what: string): string | undefined {
  if (!isTrustedOwner(stat.uid, policy)) return `${what} is owned by uid ${stat.uid}, not by root or the agent's user (uid ${policy.uid})`;
  if ((stat.mode & WRITABLE_BY_OTHERS) !== 0 && (stat.mode & S_ISVTX) === 0) {
    return `${what} is writable by group or others and not sticky (mode ${modeText(stat.mode)})`;
  }
  return undefined;
}

/** Why a symlink may not be followed: owned by someone else (its directory is checked as an ancestor). */
export function untrustedSymlinkReason(stat: OwnerAndMode, policy: TrustPolicy, what: string): string | undefined {
  return isTrustedOwner(stat.uid, policy) ? undefined : `${what} is owned by uid ${stat.uid}, not by root or the agent's user (uid ${policy.uid})`;
}

let outside: { readonly uid: number | undefined } | undefined;

/**
 * The overflow uid when this process runs in a user namespace other than the initial one (whose uid_map is the
 * identity over the whole range), else undefined. Read once: a process does not change its user namespace.
 */
export function uidOutsideNamespace(): number | undefined {
  outside ??= { uid: readUidOutsideNamespace() };
  return outside.uid;
}

function readUidOutsideNamespace(): number | undefined {
  const limit = { what: 'kernel file', maxBytes: 64 * 1024 };
  try {
    const map = readBoundedSync('/proc/self/uid_map', limit).toString('utf8').trim().split(/\s+/);
    if (map.length === 3 && map[0] === '0' && map[1] === '0' && map[2] === '4294967295') return undefined;
    return Number(readBoundedSync('/proc/sys/kernel/overflowuid', limit).toString('utf8').trim());
  } catch {
    return undefined;
  }
}
