import type { Observation } from '../core/types.ts';

/**
 * Words in a header name that say its value is a credential. A name is split into words at `-`, `_`,
 * `.` and camelCase (`Ocp-Apim-Subscription-Key` -> ocp apim subscription key, `apiKey` -> api key).
 */
const credentialWords = new Set([
  'key',
  'keys',
  'token',
  'secret',
  'password',
  'passwd',
  'pass',
  'passphrase',
  'pwd',
  'pin',
  'otp',
  'auth',
  'authorization',
  'authentication',
  'credential',
  'credentials',
  'signature',
  'sig',
  'session',
  'cookie',
  'jwt',
  'bearer',
  'csrf',
  'xsrf',
]);
/** Fragments that make a name a credential wherever they stand (`apikey`, `accesstoken`, `x-sessionid`). */
const credentialFragments = /key|token|secret|passw|auth|session|cookie|credential|signature|jwt/i;

/**
 * Whether a header's value is a credential, by its name: never forwarded to another origin, and
 * scrubbed from every measurement (a server that echoes it back cannot put it in a verdict, a log
 * line or an event). Errs towards yes: a header wrongly taken for a credential is only kept from
 * another origin and out of messages.
 */
export function isSensitiveHeader(name: string): boolean {
  if (credentialFragments.test(name)) return true;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => credentialWords.has(w));
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
