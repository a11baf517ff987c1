/**
 * A JSON Schema (2020-12) validator for the subset of keywords agent/cli/json-output.schema.json uses, for tests. A
 * schema with any other keyword is refused, so the schema cannot say something this validator would not check.
 */

type Schema = boolean | { readonly [keyword: string]: unknown };

/** Keywords that only annotate. */
const ANNOTATIONS = new Set(['$schema', '$defs', 'title', 'description']);
/** Keywords validated here. */
const ASSERTIONS = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minimum',
  'maximum',
  'pattern',
  'allOf',
  'oneOf',
  'if',
  'then',
  'else',
  '$ref',
]);

/** JSON Schema's type of a JSON value (`integer` is also a `number`). */
function typesOf(value: unknown): string[] {
  if (value === null) return ['null'];
  if (Array.isArray(value)) return ['array'];
  if (typeof value === 'number') return Number.isInteger(value) ? ['integer', 'number'] : ['number'];
  return [typeof value];
}

/** JSON equality, as `enum` and `const` compare. */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The errors of `value` against `schema` (empty when it validates), each as `PATH: what is wrong`. `$ref` resolves
 * JSON pointers within `root` (`#` and `#/$defs/NAME`).
 * @throws Error for a keyword outside the subset, or a `$ref` that does not resolve.
 */
export function validate(value: unknown, schema: Schema, root: Schema = schema, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: no value is allowed here`];
  for (const keyword of Object.keys(schema)) {
    if (!ANNOTATIONS.has(keyword) && !ASSERTIONS.has(keyword)) throw new Error(`schema keyword ${keyword} is outside the subset this validator checks`);
  }
  const errors: string[] = [];
  const s = schema as Record<string, unknown>;
  if (s['$ref'] !== undefined) errors.push(...validate(value, resolve(root, s['$ref'] as string), root, path));
  if (s['type'] !== undefined) {
    const wanted = ([] as string[]).concat(s['type'] as string | string[]);
    if (!typesOf(value).some((t) => wanted.includes(t))) errors.push(`${path}: expected ${wanted.join(' or ')}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  if (s['enum'] !== undefined && !(s['enum'] as unknown[]).some((v) => same(v, value)))
    errors.push(`${path}: ${JSON.stringify(value)?.slice(0, 80)} is not one of ${JSON.stringify(s['enum'])}`);
  if ('const' in s && !same(s['const'], value)) errors.push(`${path}: expected ${JSON.stringify(s['const'])}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  if (typeof value === 'number') {
    if (typeof s['minimum'] === 'number' && value < s['minimum']) errors.push(`${path}: ${value} is below ${s['minimum']}`);
    if (typeof s['maximum'] === 'number' && value > s['maximum']) errors.push(`${path}: ${value} is above ${s['maximum']}`);
  }
  if (typeof value === 'string' && typeof s['pattern'] === 'string' && !new RegExp(s['pattern'], 'u').test(value))
    errors.push(`${path}: ${JSON.stringify(value)} does not match ${s['pattern']}`);
  if (Array.isArray(value) && s['items'] !== undefined) value.forEach((item, i) => errors.push(...validate(item, s['items'] as Schema, root, `${path}[${i}]`)));
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) errors.push(...validateObject(value as Record<string, unknown>, s, root, path));
  for (const sub of (s['allOf'] as Schema[] | undefined) ?? []) errors.push(...validate(value, sub, root, path));
  if (s['oneOf'] !== undefined) {
    const outcomes = (s['oneOf'] as Schema[]).map((sub) => validate(value, sub, root, path));
    const passing = outcomes.filter((e) => e.length === 0).length;
    if (passing !== 1) errors.push(`${path}: matches ${passing} of the oneOf schemas, not exactly one (${outcomes.flat().join('; ')})`);
  }
  if (s['if'] !== undefined) {
    const branch = validate(value, s['if'] as Schema, root, path).length === 0 ? s['then'] : s['else'];
    if (branch !== undefined) errors.push(...validate(value, branch as Schema, root, path));
  }
  return errors;
}

function validateObject(value: Record<string, unknown>, s: Record<string, unknown>, root: Schema, path: string): string[] {
  const errors: string[] = [];
  const properties = (s['properties'] as Record<string, Schema> | undefined) ?? {};
  for (const key of (s['required'] as string[] | undefined) ?? []) if (!Object.hasOwn(value, key)) errors.push(`${path}: ${key} is missing`);
  for (const [key, item] of Object.entries(value)) {
    const sub = Object.hasOwn(properties, key) ? properties[key] : (s['additionalProperties'] as Schema | undefined);
    if (sub === false) errors.push(`${path}: ${key} is not allowed`);
    else if (sub !== undefined) errors.push(...validate(item, sub, root, `${path}.${key}`));
  }
  return errors;
}

function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#')) throw new Error(`$ref ${ref}: only references within the schema are supported`);
  let node: unknown = root;
  for (const part of ref
    .slice(1)
    .split('/')
    .filter((p) => p !== '')) {
    node = (node as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  if (node === undefined) throw new Error(`$ref ${ref} does not resolve`);
  return node as Schema;
}
