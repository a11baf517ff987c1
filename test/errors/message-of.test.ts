import assert from 'node:assert/strict';
import { messageOf, WardenError } from '../../agent/errors/index.ts';

describe('errors/messageOf', () => {
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    ['an Error: its message, without the class name', new TypeError('x is undefined'), 'x is undefined'],
    ['a WardenError: its message', new WardenError('TEST_CODE', 'the DB is locked'), 'the DB is locked'],
    [
      'a Node system error: its message',
      Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT' }),
      "ENOENT: no such file or directory, open '/x'",
    ],
    ['a thrown string: itself', 'boom', 'boom'],
    ['a number', 42, '42'],
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['a plain object: String() of it', { reason: 'x' }, '[object Object]'],
    ['an object with its own toString', { toString: () => 'custom' }, 'custom'],
    ['an object String() rejects: its tag', Object.create(null) as unknown, '[object Object]'],
  ];
  for (const [what, value, expected] of cases) {
    it(what, () => assert.equal(messageOf(value), expected));
  }
});
