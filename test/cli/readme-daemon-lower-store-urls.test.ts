/** The README's daemon lower store URLs (snix, a shared nix-daemon) resolve to what the README says they name. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCliCaptured } from '../support/cli-run.ts';
import { parseEnvelope } from '../support/json-output.ts';

/** The `local-overlay://` URLs of the README's section on daemon lower stores, in order. */
function sectionUrls(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('### A snix or shared nix-daemon as lower store');
  assert.ok(start >= 0, 'the README has the section');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  return [...section.matchAll(/^(local-overlay:\/\/\S+)$/gm)].map((m) => m[1]!);
}

async function lowerOf(url: string): Promise<Record<string, unknown>> {
  const run = await runCliCaptured(['layout', '--json', '--store', url]);
  assert.equal(run.code, 0, run.stderr);
  return (parseEnvelope(run.stdout, 'layout').result as { layout: { lower: Record<string, unknown> } }).layout.lower;
}

describe("the README's daemon lower store URLs", () => {
  it('snix: its nix-daemon socket, its FUSE mount as the lower store dir, no DB file', async () => {
    const [snix] = sectionUrls();
    assert.match(snix ?? '', /lower-store=unix%3A%2F%2F%2Ftmp%2Fsnix-daemon\.sock%3Freal%3D/);
    const lower = await lowerOf(snix!);
    assert.deepEqual(
      [lower['kind'], lower['daemonSocket'], lower['realStoreDir'], lower['db']],
      ['daemon', '/tmp/snix-daemon.sock', '/mnt/snix-store', undefined],
    );
  });

  it("a shared nix-daemon: Nix's default socket, /nix/store as the lower store dir", async () => {
    const [, shared] = sectionUrls();
    const lower = await lowerOf(shared!);
    assert.deepEqual(
      [lower['kind'], lower['daemonSocket'], lower['realStoreDir'], lower['db']],
      ['daemon', '/nix/var/nix/daemon-socket/socket', '/nix/store', undefined],
    );
  });
});
