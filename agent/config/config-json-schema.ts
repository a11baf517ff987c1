/** The JSON Schema of the configuration file, derived from the zod schema, for editors and other tools. */
import { z } from 'zod';
import { configSchema } from './config-schema.ts';

/** The schema of the YAML file as written (input side: defaults optional, sizes as strings or numbers). */
export function configJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }), title: 'overlay-warden configuration' };
}
