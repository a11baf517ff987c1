/** What a configuration key takes, in words, from a zod issue's structured fields (the error map of every config parse), and what a misspelt key or value was meant as. */
import { z } from 'zod';
import { nearestNames } from '../errors/index.ts';

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
 * above this map, so the schema stays the place for wording of its own; an issue this map has no fields to word
 * (a failed refinement without a message) takes `a valid value`, never zod's "Invalid input".
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
      return issue.inst instanceof z.ZodObject ? `one of the keys ${Object.keys(issue.inst.shape).join(', ')}` : 'no other keys';
    case 'not_multiple_of':
      return `a multiple of ${issue.divisor}`;
    case 'invalid_format':
      return issue.format === 'regex' && issue.pattern !== undefined ? `a string matching ${issue.pattern}` : `a valid ${issue.format}`;
    default:
      return 'a valid value';
  }
};

function bound(origin: string, words: string, limit: number | bigint): string {
  if (origin === 'array') return `a list of ${words} ${limit} item${limit === 1 ? '' : 's'}`;
  if (origin === 'string') return words === 'at least' && limit === 1 ? 'a non-empty string' : `a string of ${words} ${limit} characters`;
  return `${words} ${limit}`;
}

/**
 * The dotted keys an unknown `key` of the section at `path` was most likely meant as: the other sections' keys of
 * exactly that name, case aside (the right key in the wrong section: `upperLayer` at the top level →
 * `store.upperLayer`), else the section's own keys near it (`store.uperLayer` → `store.upperLayer`). [] when none
 * is. Pure.
 */
export function nearestKeys(schema: z.core.$ZodType, path: readonly string[], key: string): string[] {
  const root = sectionAt(schema, []);
  const others = [[], ...Object.keys(root?.shape ?? {}).map((name) => [name])].filter((section) => section.join('.') !== path.join('.'));
  const elsewhere = others.flatMap((section) =>
    Object.keys(sectionAt(schema, section)?.shape ?? {})
      .filter((name) => name.toLowerCase() === key.toLowerCase())
      .map((name) => [...section, name].join('.')),
  );
  if (elsewhere.length > 0) return elsewhere;
  return nearestNames(key, Object.keys(sectionAt(schema, path)?.shape ?? {})).map((name) => [...path, name].join('.'));
}

/** The allowed values a string outside them was most likely meant as (`mount.nixconf` → `mount.nix-conf`); [] when none is near. Pure. */
export function nearestValues(value: unknown, allowed: readonly unknown[]): string[] {
  if (typeof value !== 'string') return [];
  return nearestNames(
    value,
    allowed.filter((v): v is string => typeof v === 'string'),
  );
}

/** The object schema at `path` (through defaults, prefaults and optionals); undefined when `path` names no section. */
function sectionAt(schema: z.core.$ZodType, path: readonly string[]): z.ZodObject | undefined {
  let node: z.core.$ZodType | undefined = schema;
  for (const key of path) node = objectOf(node)?.shape[key];
  return objectOf(node);
}

function objectOf(node: z.core.$ZodType | undefined): z.ZodObject | undefined {
  while (node !== undefined && !(node instanceof z.ZodObject)) node = (node._zod.def as { innerType?: z.core.$ZodType }).innerType;
  return node;
}
