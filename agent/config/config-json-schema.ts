/** The JSON Schema of the configuration file, derived from the zod schema, for editors and other tools. */
import { z } from 'zod';
import { configSchema, storeSchema } from './config-schema.ts';

/**
 * The schema of the YAML file as written (input side: defaults optional, sizes as strings or numbers), with what
 * zod's refinements check and JSON Schema can say too: `store` takes `url` or `nixConf`, not both.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema === storeSchema) ctx.jsonSchema.not = { required: ['url', 'nixConf'] };
    },
  });
  return { ...schema, title: 'overlay-warden configuration' };
}
