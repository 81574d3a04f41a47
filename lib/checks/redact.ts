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
 * Every form `value` can take on its way out of a probe and back into a message: as it is; percent-encoded
 * the way `encodeURIComponent`, `encodeURI` and the WHATWG URL serialiser do in a path, a query, a
 * fragment, a user name or password and a host (upper- and lower-case hex); form-encoded (`+` for a
 * space); each of those JSON-escaped (also `\uXXXX` for every non-ASCII character) and HTML-escaped;
 * and base64 (standard and URL alphabets) at each of the three byte alignments it can have inside a
 * longer encoded text, such as the `Authorization: Basic` header a URL's `user:password@` becomes
 * (RFC 7617). Only the characters fixed by the value alone are kept of a base64 form.
 */
export function encodingsOf(value: string): Set<string> {
  const out = new Set<string>([value]);
  const add = (make: () => string): void => {
    try {
      out.add(make());
    } catch {
      // A lone surrogate cannot be percent-encoded: that form cannot be sent either.
    }
  };
  add(() => encodeURIComponent(value));
  add(() => encodeURI(value));
  add(() => new URLSearchParams([['', value]]).toString().slice(1));
  const url = (set: (u: URL) => string): void => add(() => set(new URL('http://example.invalid/')));
  url((u) => {
    u.pathname = `/${value}`;
    return u.pathname.slice(1);
  });
  // A value written raw into a URL ends its path at `?` or `#`: the path then holds only what came before.
  url((u) => new URL(`/${value}`, u).pathname.slice(1));
  url((u) => {
    u.search = value;
    return u.search.slice(1);
  });
  url((u) => {
    u.hash = value;
    return u.hash.slice(1);
  });
  url((u) => {
    u.username = value;
    return u.username;
  });
  url((u) => {
    u.password = value;
    return u.password;
  });
  url((u) => {
    u.hostname = value;
    return u.hostname === 'example.invalid' ? value : u.hostname;
  });
  // Host names are lower-cased by the URL parser, and so are some echoes.
  out.add(value.toLowerCase());
  for (const v of [...out]) {
    if (/%[0-9A-F]{2}/.test(v)) out.add(v.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
  }
  for (const v of [...out]) {
    add(() => JSON.stringify(v).slice(1, -1));
    const ascii = JSON.stringify(v)
      .slice(1, -1)
      .replace(/[^ -~]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    out.add(ascii);
    out.add(ascii.replace(/\\u[0-9a-f]{4}/g, (u) => `\\u${u.slice(2).toUpperCase()}`));
    add(() => escapeHtml(v));
  }
  for (const b of base64Cores(value)) out.add(b);
  return out;
}

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => htmlEscapes[c] ?? c);
}

/**
 * The base64 characters that depend on `value` alone, when it starts 0, 1 or 2 bytes into an encoded
 * text: whatever precedes it (`user:` in Basic authentication) changes only the edges.
 */
function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const cores: string[] = [];
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    // Characters holding bits of the filler, and a last one padded with bits of what follows, are dropped.
    const start = shift === 0 ? 0 : shift + 1;
    const end = (shift + bytes.length) % 3 === 0 ? encoded.length : encoded.length - 1;
    const core = encoded.slice(start, end);
    cores.push(core, core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return cores;
}

/**
 * Scrubs known secret values from text in every encoding they can take (`encodingsOf`), and their
 * first characters when an excerpt was cut in the middle of one (`abcd…`).
 */
export class Redactor {
  readonly #variants = new Set<string>();
  #longestFirst: string[] = [];

  /** A value to scrub from now on. Returns this, for chaining. */
  add(value: string | undefined): this {
    if (value === undefined || value.length < minSecretChars) return this;
    for (const v of encodingsOf(value)) {
      if (v.length >= minSecretChars) this.#variants.add(v);
    }
    // Longest first, so that a value containing another is scrubbed whole.
    this.#longestFirst = [...this.#variants].sort((a, b) => b.length - a.length);
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

  /**
   * The password of every URL with user info in `value` (strings, lists and objects walked), and the
   * `Basic` credentials Node sends for it (base64 of `user:password`, RFC 7617).
   */
  addUrlCredentials(value: unknown): this {
    if (typeof value === 'string') {
      if (!value.includes('@')) return this;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return this;
      }
      if (url.password === '') return this;
      const decode = (part: string): string => {
        try {
          return decodeURIComponent(part);
        } catch {
          return part;
        }
      };
      const password = decode(url.password);
      this.add(password);
      if (password.length >= minSecretChars) {
        this.add(Buffer.from(`${decode(url.username)}:${password}`, 'utf8').toString('base64'));
      }
    } else if (Array.isArray(value)) {
      for (const v of value) this.addUrlCredentials(v);
    } else if (value !== null && typeof value === 'object') {
      for (const v of Object.values(value)) this.addUrlCredentials(v);
    }
    return this;
  }

  scrub(text: string): string {
    if (this.#variants.size === 0 || text === '') return text;
    const variants = this.#longestFirst;
    let out = text;
    for (const v of variants) out = out.split(v).join(redacted);
    if (out.includes('…')) {
      for (const v of variants) {
        // Most variants are nowhere in the text: skip them at the cost of one search.
        if (!out.includes(v.slice(0, minPrefixChars))) continue;
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
