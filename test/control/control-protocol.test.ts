import assert from 'node:assert/strict';
import { encodeControlLine, errorResponseFor, parseControlRequest, parseControlResponse } from '../../agent/control/index.ts';
import { WardenError } from '../../agent/errors/index.ts';

describe('control protocol', () => {
  it('reads a request: id, action and the action fields', () => {
    assert.deepEqual(parseControlRequest('{"id":7,"action":"remount","source":"nix-hook"}'), { request: { id: 7, action: 'remount', source: 'nix-hook' } });
    assert.deepEqual(parseControlRequest('{"id":"a-1","action":"status"}'), { request: { id: 'a-1', action: 'status' } });
  });

  it('answers a bad line with CONTROL_BAD_REQUEST, echoing the id when it could be read', () => {
    const code = (line: string) => {
      const parsed = parseControlRequest(line);
      assert.ok('response' in parsed && !parsed.response.ok);
      return [parsed.response.id, parsed.response.ok ? '' : parsed.response.error.code];
    };
    assert.deepEqual(code('{nope'), [null, 'CONTROL_BAD_REQUEST']);
    assert.deepEqual(code('[1,2]'), [null, 'CONTROL_BAD_REQUEST']);
    assert.deepEqual(code('{"action":"status"}'), [null, 'CONTROL_BAD_REQUEST']);
    assert.deepEqual(code('{"id":1.5,"action":"status"}'), [null, 'CONTROL_BAD_REQUEST']);
    assert.deepEqual(code('{"id":3}'), [3, 'CONTROL_BAD_REQUEST']);
    assert.deepEqual(code('{"id":3,"action":"Remount!"}'), [3, 'CONTROL_BAD_REQUEST']);
  });

  it('keeps a WardenError code in the error response, and wraps anything else', () => {
    assert.deepEqual(errorResponseFor(1, new WardenError('X_CODE', 'went wrong', { hint: 'fix it', evidence: { a: 1 } })), {
      id: 1,
      ok: false,
      error: { code: 'X_CODE', message: 'went wrong', hint: 'fix it', evidence: { a: 1 } },
    });
    const wrapped = errorResponseFor(2, new TypeError('boom'));
    assert.equal(!wrapped.ok && wrapped.error.code, 'CONTROL_HANDLER_FAILED');
  });

  it('writes one line per message, and an unserialisable result becomes an error', () => {
    assert.equal(encodeControlLine({ id: 1, ok: true, result: { a: 'x\ny' } }), '{"id":1,"ok":true,"result":{"a":"x\\ny"}}\n');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.match(encodeControlLine({ id: 1, ok: true, result: cyclic }), /^\{"id":1,"ok":false,"error":\{"code":"CONTROL_HANDLER_FAILED".*\n$/);
  });

  it('checks the shape of a response', () => {
    assert.deepEqual(parseControlResponse('{"id":1,"ok":true,"result":null}'), { id: 1, ok: true, result: null });
    assert.equal(parseControlResponse('{"id":1,"ok":true}'), undefined);
    assert.equal(parseControlResponse('{"id":1,"ok":false,"error":{"code":"X"}}'), undefined);
    assert.equal(parseControlResponse('nope'), undefined);
  });
});
