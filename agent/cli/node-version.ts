/** Whether this Node.js can run overlay-warden: loaded before anything else, so it uses nothing newer than Node 18 has. */

/** The oldest Node.js major version overlay-warden runs on: node:sqlite (the Nix DBs) and type stripping (the sources) need 24. */
export const MIN_NODE_MAJOR = 24;

/**
 * The one line to print when Node.js `version` (`process.versions.node`, e.g. `20.19.2`) is older than
 * MIN_NODE_MAJOR; undefined when it will do. Pure.
 */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number.parseInt(version, 10);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return `overlay-warden needs Node.js ${MIN_NODE_MAJOR} or later, found ${version}: run it with the project's node (node_modules/.bin/node) or install Node ${MIN_NODE_MAJOR}`;
}
