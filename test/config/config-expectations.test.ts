import assert from 'node:assert/strict';
import { z } from 'zod';
import { expectationOf, nearestKeys, nearestValues } from '../../agent/config/config-expectations.ts';
import { configSchema } from '../../agent/config/config-schema.ts';

/** The message of the one issue `schema` raises for `input` under the config error map. */
function messageOf(schema: z.ZodType, input: unknown): string {
  const result = schema.safeParse(input, { error: expectationOf });
  assert.equal(result.success, false, JSON.stringify(input));
  assert.equal(result.error!.issues.length, 1, JSON.stringify(result.error!.issues));
  return result.error!.issues[0]!.message;
}

describe('expectationOf', () => {
  it('words each issue from its structured fields, as what the key takes', () => {
    const cases: Array<[z.ZodType, unknown, string]> = [
      [z.number(), 'abc', 'a number'],
      [z.number().int(), 1.5, 'a whole number'],
      [z.boolean(), 'yes', 'true or false'],
      [z.string(), 5, 'a string'],
      [z.array(z.string()), 'ls', 'a list'],
      [z.object({}), 5, 'a section (indented `key: value` lines)'],
      [z.number().min(1), 0, 'at least 1'],
      [z.number().positive(), 0, 'more than 0'],
      [z.number().max(10), 11, 'at most 10'],
      [z.number().lt(10), 10, 'less than 10'],
      [z.array(z.string()).min(1), [], 'a list of at least 1 item'],
      [z.array(z.string()).min(2), [], 'a list of at least 2 items'],
      [z.string().min(1), '', 'a non-empty string'],
      [z.string().max(3), 'abcd', 'a string of at most 3 characters'],
      [z.enum(['a', 'b']), 'c', 'one of "a", "b"'],
      [z.literal('auto'), 'x', '"auto"'],
      [z.object({ one: z.number(), two: z.number() }).strict(), { one: 1, two: 2, three: 3 }, 'one of the keys one, two'],
      [z.number().multipleOf(5), 7, 'a multiple of 5'],
      [z.string().regex(/^a+$/), 'b', 'a string matching /^a+$/'],
      [z.email(), 'x', 'a valid email'],
      // Nothing to word it from: still a phrase that reads after "expected", not zod's "Invalid input".
      [z.string().refine((s) => s === 'x'), 'y', 'a valid value'],
    ];
    for (const [schema, input, expected] of cases) assert.equal(messageOf(schema, input), expected, JSON.stringify(input));
  });

  it("leaves a schema's own message in place", () => {
    assert.equal(
      messageOf(
        z.string({ error: 'an absolute path' }).refine((s) => s.startsWith('/')),
        'rel',
      ),
      'an absolute path',
    );
    assert.equal(messageOf(z.number({ error: 'a port' }), 'x'), 'a port');
  });
});

describe('what a misspelt key or value was meant as', () => {
  it('names the keys of the same section near an unknown key, as dotted keys', () => {
    assert.deepEqual(nearestKeys(configSchema, ['store'], 'uperLayer'), ['store.upperLayer']);
    assert.deepEqual(nearestKeys(configSchema, ['remount'], 'atempts'), ['remount.attempts']);
    assert.deepEqual(nearestKeys(configSchema, [], 'stateDri'), ['stateDir']);
    assert.deepEqual(nearestKeys(configSchema, ['log'], 'Format'), ['log.format']);
  });

  it('names the section that has the key when it is in the wrong one', () => {
    assert.deepEqual(nearestKeys(configSchema, [], 'upperLayer'), ['store.upperLayer']);
    assert.deepEqual(nearestKeys(configSchema, ['store'], 'stateDir'), ['stateDir']);
    assert.deepEqual(nearestKeys(configSchema, ['remount'], 'debounceMs'), ['watch.debounceMs']);
  });

  it('names nothing when nothing is near', () => {
    assert.deepEqual(nearestKeys(configSchema, [], 'workers'), []);
    assert.deepEqual(nearestKeys(configSchema, ['no', 'such'], 'x'), []);
  });

  it('names the allowed values near a string outside them', () => {
    assert.deepEqual(nearestValues('mount.nixconf', ['mount.merged', 'mount.nix-conf']), ['mount.nix-conf']);
    assert.deepEqual(nearestValues('warning', ['error', 'warn', 'info', 'debug']), ['warn']);
    assert.deepEqual(nearestValues('loud', ['error', 'warn', 'info', 'debug']), []);
    assert.deepEqual(nearestValues(3, ['error']), []);
  });
});
