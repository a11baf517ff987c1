/** What a configuration key takes, in words, from a zod issue's structured fields: the error map of every config parse. */
import { z } from 'zod';

/** How people call each type zod reports in `invalid_type.expected`, in the words of a YAML file. */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a section (indented `key: value` lines)',
};

/**
 * The message of a configuration issue: what the key takes, as a phrase that reads after "expected" (`a number`,
 * `at least 1`, `one of "error", "warn"`), built from the issue's code and fields (`expected`, `minimum`,
 * `values`, the object's own keys for an unknown key). Zod ranks a schema's own message (`an absolute path`)
 * above this map, so the schema stays the place for wording of its own; undefined leaves zod's wording.
 */
export const expectationOf: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_WORDS[issue.expected] ?? `a value of type ${issue.expected}`;
    case 'too_small':
      return bound(issue.origin, issue.exact === true ? 'exactly' : issue.inclusive === false ? 'more than' : 'at least', issue.minimum);
    case 'too_big':
      return bound(issue.origin, issue.exact === true ? 'exactly' : issue.inclusive === false ? 'less than' : 'at most', issue.maximum);
    case 'invalid_value':
      return issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return issue.inst instanceof z.ZodObject ? `one of the keys ${Object.keys(issue.inst.shape).join(', ')}` : undefined;
    default:
      return undefined;
  }
};

function bound(origin: string, words: string, limit: number | bigint): string {
  if (origin === 'array') return `a list of ${words} ${limit} item${limit === 1 ? '' : 's'}`;
  if (origin === 'string') return words === 'at least' && limit === 1 ? 'a non-empty string' : `a string of ${words} ${limit} characters`;
  return `${words} ${limit}`;
}
