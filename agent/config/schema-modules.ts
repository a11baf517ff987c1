/**
 * The schema of the configuration and the wording of its issues (zod, about 95 modules), loaded on first use, so a
 * configuration that simpleSettings can settle never loads them. loadConfig is synchronous, hence require(): Node
 * loads an ES module that way into the same module graph an `import` would (one zod, one schema).
 */
import { createRequire } from 'node:module';
import type * as ConfigSchemaModule from './config-schema.ts';
import type * as ConfigExpectationsModule from './config-expectations.ts';

const require = createRequire(import.meta.url);
/** `.ts` when run from the sources, `.js` when built: require() names files, which the compiler does not rewrite. */
const EXTENSION = import.meta.url.slice(import.meta.url.lastIndexOf('.'));

export interface SchemaModules {
  readonly schema: typeof ConfigSchemaModule;
  readonly expectations: typeof ConfigExpectationsModule;
}

/** The schema modules, loaded synchronously the first time (Node caches them). Throws only if they fail to load. */
export function schemaModules(): SchemaModules {
  return {
    schema: require(`./config-schema${EXTENSION}`) as typeof ConfigSchemaModule,
    expectations: require(`./config-expectations${EXTENSION}`) as typeof ConfigExpectationsModule,
  };
}
