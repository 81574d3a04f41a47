/**
 * An event as an object: Lambda hands over what the caller sent, and a caller (or a person testing by
 * hand) may send the JSON as a string. Undefined when it is neither; each trigger says why in its own words.
 */
export function eventObject(event: unknown, maxChars: number): Record<string, unknown> | undefined {
  let value = event;
  if (typeof value === 'string' && value.length < maxChars) {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}
