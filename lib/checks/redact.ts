import type { Observation } from '../core/types.ts';

/**
 * Header names whose values are credentials: never forwarded to another origin, and scrubbed from
 * every measurement (a server that echoes them back cannot put them in a verdict, a log line or an event).
 */
const sensitiveHeader =
  /^(?:authorization|proxy-authorization|cookie|set-cookie)$|token|secret|passw|api-?key|auth|session|cookie|credential|signature/i;

export function isSensitiveHeader(name: string): boolean {
  return sensitiveHeader.test(name);
}

/** Shorter values are not scrubbed: replacing two or three common characters would garble every message. */
const minSecretChars = 4;
/** A cut excerpt (`…`) may end in the first characters of a secret: from this many on, they are scrubbed too. */
const minPrefixChars = 4;
export const redacted = '***';
const authSchemes = /^(?:bearer|basic|digest|token|negotiate|ntlm)$/i;

/**
 * Scrubs known secret values from text: as they are, JSON-escaped and URL-encoded, and their first
 * characters when an excerpt was cut in the middle of one (`abcd…`).
 */
export class Redactor {
  readonly #variants = new Set<string>();

  /** A value to scrub from now on. Returns this, for chaining. */
  add(value: string | undefined): this {
    if (value === undefined || value.length < minSecretChars) return this;
    for (const v of [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]) {
      if (v.length >= minSecretChars) this.#variants.add(v);
    }
    return this;
  }

  /** Header values the plan sends that are credentials (by header name), and their token parts. */
  addHeaders(headers: Readonly<Record<string, string>> | undefined): this {
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (!isSensitiveHeader(name)) continue;
      this.add(value);
      // `Bearer <token>`, `a=1; session=<value>`: the credential alone may be echoed back.
      for (const part of value.split(/[\s;,]+/)) {
        if (authSchemes.test(part)) continue;
        this.add(part);
        const eq = part.indexOf('=');
        if (eq > 0) this.add(part.slice(eq + 1));
      }
    }
    return this;
  }

  scrub(text: string): string {
    if (this.#variants.size === 0 || text === '') return text;
    // Longest first, so that a value containing another is scrubbed whole.
    const variants = [...this.#variants].sort((a, b) => b.length - a.length);
    let out = text;
    for (const v of variants) out = out.split(v).join(redacted);
    if (out.includes('…')) {
      for (const v of variants) {
        for (let k = v.length - 1; k >= minPrefixChars; k--) {
          const cut = `${v.slice(0, k)}…`;
          if (out.includes(cut)) out = out.split(cut).join(`${redacted}…`);
        }
      }
    }
    return out;
  }

  observation(o: Observation): Observation {
    if (this.#variants.size === 0) return o;
    const message = this.scrub(o.message);
    if (typeof o.value === 'string') return { ...o, message, value: this.scrub(o.value) };
    return { ...o, message };
  }
}
