import assert from 'node:assert/strict';
import { z } from 'zod';
import { expectationOf } from '../../agent/config/config-expectations.ts';

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
