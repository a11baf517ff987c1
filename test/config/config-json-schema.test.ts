import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configJsonSchema } from '../../agent/config/config-json-schema.ts';

describe('config/overlay-warden.schema.json', () => {
  it('is the schema the code validates with (regenerate: npm run config:schema)', () => {
    const shipped = JSON.parse(readFileSync(new URL('../../config/overlay-warden.schema.json', import.meta.url), 'utf8'));
    assert.deepEqual(shipped, configJsonSchema());
  });

  it('lists every top-level key the example configuration documents', () => {
    const example = readFileSync(new URL('../../config/overlay-warden.example.yaml', import.meta.url), 'utf8');
    const documented = [...example.matchAll(/^([a-zA-Z]+):/gm)].map((m) => m[1]);
    assert.deepEqual(documented.sort(), Object.keys(configJsonSchema()['properties'] as object).sort());
  });
});
