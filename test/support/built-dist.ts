/**
 * The JavaScript `npm test` compiles before the tests run: its one `tsc -p tsconfig.json` type-checks agent/, test/
 * and bench/ and emits them into dist/. Tests of what ships use dist/agent from there instead of compiling again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * dist/agent, checked against the sources: every agent/**.ts has its .js, written no earlier than the source was.
 * Throws (failing the test, never skipping it) when dist/ is missing or stale, saying how to build it.
 */
export function builtAgentDir(): string {
  const dist = path.join(ROOT, 'dist', 'agent');
  const sources = fs
    .readdirSync(path.join(ROOT, 'agent'), { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts'));
  for (const source of sources) {
    const built = path.join(dist, source.replace(/\.ts$/, '.js'));
    const stale = !fs.existsSync(built)
      ? 'is missing'
      : fs.statSync(built).mtimeMs < fs.statSync(path.join(ROOT, 'agent', source)).mtimeMs
        ? 'is older than its source'
        : '';
    if (stale === '') continue;
    throw new Error(
      `${path.relative(ROOT, built)} ${stale}: \`npm test\` compiles dist/ before the tests; to run test files alone, run \`npx tsc -p tsconfig.json\` first`,
    );
  }
  return dist;
}
