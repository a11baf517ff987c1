// Lint rules for overlay-warden: type-aware checks that catch what tsc does not (floating promises, misused
// promises), import boundaries between agent/ folders, and no import cycles. Style is the formatter's job.
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

import { readdirSync } from 'node:fs';

/** agent/'s part folders: each is imported by the others only through its index.ts. */
const PARTS = readdirSync(new URL('./agent/', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** One zone per part: nothing outside it may reach past its index.ts. */
const PART_BOUNDARIES = PARTS.map((part) => ({
  target: ['./agent/*.ts', ...PARTS.filter((other) => other !== part).map((other) => `./agent/${other}/**/*`)],
  from: `./agent/${part}`,
  except: ['./index.ts'],
  message: `import agent/${part}/ through its index.ts`,
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs'] })], 'import-x/extensions': ['.ts', '.js', '.mjs'] },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'import-x/no-cycle': 'error',
      'import-x/no-duplicates': ['error', { 'prefer-inline': true }],
    },
  },
  {
    files: ['agent/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: PART_BOUNDARIES }],
    },
  },
);
