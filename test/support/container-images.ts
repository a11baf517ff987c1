/**
 * Container images for the deployment tests, built with buildah (chroot isolation: the OCI runtimes cannot start
 * containers in this sandbox, and no image registry is reachable): a Node 24 base standing in for
 * docker.io/library/node:24-slim, made from the shared Debian root, and the project's image built on it from
 * deploy/container/Containerfile.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { debianRootfsTar, requireDebianRootfs } from './debian-rootfs.ts';
import { requireCommand } from './requirements.ts';
import { ROOT } from './built-dist.ts';
import { runCommand as run } from './run-command.ts';

/** The CA bundle this machine reaches the npm registry through (/etc/npmrc names it), given to npm in the base. */
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Requires what building and running images here needs: root, buildah, and the shared Debian root. */
export function requireContainerImages(ctx: Mocha.Context): void {
  requireDebianRootfs(ctx);
  requireCommand(ctx, 'buildah');
}

export { run };

/** True when buildah's storage holds an image of that name. */
export function imageExists(name: string): boolean {
  return spawnSync('buildah', ['inspect', '--type', 'image', name], { stdio: 'ignore' }).status === 0;
}

/** The real file behind this project's node_modules/.bin/node (the `node` devDependency: Node 24). */
export function projectNodeBinary(): string {
  return fs.realpathSync(path.join(ROOT, 'node_modules', '.bin', 'node'));
}

/** The directory of the npm package this machine runs as `npm` (e.g. /usr/lib/node_modules/npm). */
export function machineNpmDir(): string {
  const found = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  if (found === '') throw new Error('npm is not on PATH');
  // bin/npm-cli.js → the package directory two levels up.
  return path.dirname(path.dirname(fs.realpathSync(found)));
}

function fileDigest(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

let baseBuilding: Promise<string> | undefined;

/**
 * The Node 24 base image (like node:24-slim: Debian with node and npm under /usr/local), made once per machine and
 * kept in buildah's storage under a name keyed by what went into it: the Debian root, this project's Node binary,
 * the machine's npm and CA bundle. It carries the CA bundle and an npmrc naming it (npm's global config of a Node
 * under /usr/local is /usr/local/etc/npmrc), so the Containerfile's `npm ci` reaches the registry as npm does here.
 */
export function nodeBaseImage(): Promise<string> {
  baseBuilding ??= buildNodeBase();
  return baseBuilding;
}

async function buildNodeBase(): Promise<string> {
  const tar = await debianRootfsTar();
  const node = projectNodeBinary();
  const npm = machineNpmDir();
  const npmVersion = (JSON.parse(fs.readFileSync(path.join(npm, 'package.json'), 'utf8')) as { version: string }).version;
  const key = crypto
    .createHash('sha256')
    .update([path.basename(tar), fs.statSync(node).size, fs.statSync(node).mtimeMs, npmVersion, fileDigest(CA_BUNDLE)].join('\0'))
    .digest('hex')
    .slice(0, 16);
  const name = `localhost/overlay-warden-test-node-base:${key}`;
  if (imageExists(name)) return name;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-node-base-'));
  const npmrc = path.join(scratch, 'npmrc');
  fs.writeFileSync(npmrc, `cafile=${CA_BUNDLE}\n`);
  const container = (await run('buildah', ['from', 'scratch'])).trim();
  try {
    await run('buildah', ['add', '--quiet', container, tar, '/']);
    await run('buildah', ['copy', '--quiet', '--chmod', '0755', container, node, '/usr/local/bin/node']);
    await run('buildah', ['copy', '--quiet', container, npm, '/usr/local/lib/node_modules/npm']);
    await run('buildah', ['copy', '--quiet', '--chmod', '0644', container, CA_BUNDLE, CA_BUNDLE]);
    await run('buildah', ['copy', '--quiet', '--chmod', '0644', container, npmrc, '/usr/local/etc/npmrc']);
    await run('buildah', [
      'run',
      '--isolation',
      'chroot',
      container,
      '--',
      'sh',
      '-c',
      'ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && node --version && npm --version',
    ]);
    await run('buildah', ['config', '--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--cmd', 'node', container]);
    // The name appears only once the commit is whole: a run stopped half-way leaves no image under it.
    await run('buildah', ['commit', '--quiet', container, name]);
  } finally {
    await run('buildah', ['rm', container]).catch(() => undefined);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return name;
}

/** What `buildAppImage` did: the image's name and how long the build took (the base excluded). */
export interface BuiltImage {
  readonly name: string;
  readonly seconds: number;
  /** buildah's output, for a report of where the time went. */
  readonly log: string;
}

/**
 * Builds deploy/container/Containerfile from the project root on `base`, as a user would with `podman build` (chroot
 * isolation here; docker format so the HEALTHCHECK is kept: the OCI image format has no field for it).
 */
export async function buildAppImage(base: string, name: string): Promise<BuiltImage> {
  const started = process.hrtime.bigint();
  const log = await run('buildah', [
    'build',
    '--isolation',
    'chroot',
    '--format',
    'docker',
    '--build-arg',
    `BASE=${base}`,
    '-f',
    'deploy/container/Containerfile',
    '-t',
    name,
    ROOT,
  ]);
  return { name, seconds: Number(process.hrtime.bigint() - started) / 1e9, log };
}

/** The parts of an image's configuration a container runtime uses (docker format). */
export interface ImageConfig {
  readonly Entrypoint: readonly string[] | null;
  readonly Cmd: readonly string[] | null;
  readonly Env: readonly string[] | null;
  readonly WorkingDir: string;
  readonly User: string;
  readonly Healthcheck?: { readonly Test: readonly string[]; readonly Interval?: number; readonly Timeout?: number };
  readonly ExposedPorts?: Record<string, unknown>;
}

/** The image's configuration (its docker-format config), as `buildah inspect` reads it. */
export async function imageConfig(name: string): Promise<ImageConfig> {
  const out = await run('buildah', ['inspect', '--type', 'image', name]);
  return (JSON.parse(out) as { Docker: { config: ImageConfig } }).Docker.config;
}

/** Removes an image and the containers made from it (cleanup; never fails). */
export async function removeImage(name: string): Promise<void> {
  await run('buildah', ['rmi', '--force', name]).catch(() => undefined);
}
