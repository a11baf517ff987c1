/** The text of anything thrown, for a message meant for people. */

/**
 * An Error's `message` (without the `Error: ` prefix `String()` would add), else the value as a string. Never throws:
 * a value `String()` rejects (an object without a prototype) gives its `Object.prototype.toString` tag.
 */
export function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
