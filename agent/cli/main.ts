#!/usr/bin/env node
/**
 * The `overlay-warden` executable. It checks the Node.js version first and only then loads the CLI: the CLI's
 * modules need Node 24 (node:sqlite, type stripping), and a static import of them would fail, with a stack trace,
 * before any check here could run. Only Node-version-neutral code may be imported statically from this file.
 */
import { nodeVersionProblem } from './node-version.ts';

const problem = nodeVersionProblem(process.versions.node);
if (problem === undefined) {
  await import('./cli-process.ts');
} else {
  // The line names the program itself, so it goes without the `overlay-warden:` prefix of the CLI's own errors.
  process.stderr.write(`${problem}\n`);
  // Exit 2 as for bad usage or configuration: the command never ran.
  process.exitCode = 2;
}
