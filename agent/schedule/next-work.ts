/** Which piece of scheduled work runs next (pure): audit and scrub take turns on one line of work. */

/** The next piece of scheduled work: an audit, a scrub chunk, or a wait (until a time, or until woken). */
export type NextWork = { readonly kind: 'audit' } | { readonly kind: 'scrub' } | { readonly kind: 'wait'; readonly until: number | undefined };

/**
 * Picks the next piece of work at `now` (pure). Audit and scrub take turns: a due audit goes first (it is short, and a
 * change of the lower store is what alerts wait for), and a scrub pass runs one chunk per turn, so an audit that
 * falls due mid-pass waits for one chunk at most.
 */
export function nextWork(now: number, auditDue: number | undefined, scrubDue: number | undefined): NextWork {
  if (auditDue !== undefined && auditDue <= now) return { kind: 'audit' };
  if (scrubDue !== undefined && scrubDue <= now) return { kind: 'scrub' };
  const times = [auditDue, scrubDue].filter((t) => t !== undefined);
  return { kind: 'wait', until: times.length === 0 ? undefined : Math.min(...times) };
}
