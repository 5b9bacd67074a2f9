/**
 * How untrusted values appear in messages. Private to `core/admin/`.
 *
 * @module
 */

/** Longest piece of an untrusted string repeated in a message, in UTF-16 code units. */
const MAX_QUOTED = 40;

/**
 * Names a value's type for a message: `null`, `array`, or `typeof`.
 *
 * @param value Anything.
 * @returns Its type's name.
 */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * Shows a value in a message: numbers and booleans as written, strings
 * quoted and cut short, anything else by its type.
 *
 * @param value Anything.
 * @returns Its text for a message.
 */
export function describeValue(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return quote(value);
  return describeType(value);
}

/**
 * Quotes an untrusted string as JSON, cut to 40 code units with an ellipsis,
 * so that a message stays one short line whatever the caller sent.
 *
 * @param text The string.
 * @returns `"text"`, or `"first 40…"`.
 */
export function quote(text: string): string {
  const cut = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED).toWellFormed()}…` : text;
  return JSON.stringify(cut);
}
