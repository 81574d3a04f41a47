/**
 * A small strict reader for plan fields. Every problem names its field path
 * (`checks.green-health.expect.status[0]: expected an integer 100-599`) and is collected,
 * so one pass reports all of them.
 *
 * A problem never quotes what a field holds unless the field is one whose values are never secret
 * (numbers, durations, booleans, enum names: `integer`, `number`, `duration`, `boolean`, `oneOf`).
 * Every other reader says the value's shape (`a string of 31 characters`): a mistyped header, body or
 * URL may hold a credential (`headers: "X-Api-Key: sk-live-..."`), and plan errors reach verdict
 * reasons, logs and events.
 */
export class Fields {
  readonly issues: string[] = [];

  problem(path: string, message: string): undefined {
    this.issues.push(`${path}: ${message}`);
    return undefined;
  }

  /** An object; unknown keys are problems, so a typo is an error, not a silent default. */
  object(value: unknown, path: string, allowed?: readonly string[]): Record<string, unknown> | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return this.problem(path, `expected an object, got ${describe(value)}`);
    }
    const record = value as Record<string, unknown>;
    if (allowed) {
      for (const key of Object.keys(record)) {
        if (!allowed.includes(key)) {
          this.problem(join(path, key), `unknown field (expected one of: ${allowed.join(', ')})`);
        }
      }
    }
    return record;
  }

  string(
    value: unknown,
    path: string,
    opts: { min?: number; max?: number; pattern?: RegExp; patternText?: string } = {},
  ): string | undefined {
    if (typeof value !== 'string') return this.problem(path, `expected a string, got ${describe(value)}`);
    const min = opts.min ?? 1;
    const max = opts.max ?? 8192;
    if (value.length < min)
      return this.problem(path, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
    if (value.length > max) return this.problem(path, `must be at most ${max} characters`);
    if (opts.pattern && !opts.pattern.test(value)) {
      return this.problem(path, `expected ${opts.patternText ?? `a match for ${opts.pattern}`}`);
    }
    return value;
  }

  integer(value: unknown, path: string, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return this.problem(path, `expected an integer ${min}-${max}, got ${echo(value)}`);
    }
    return value;
  }

  number(value: unknown, path: string, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      return this.problem(path, `expected a number ${min}-${max}, got ${echo(value)}`);
    }
    return value;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (typeof value !== 'boolean') return this.problem(path, `expected true or false, got ${echo(value)}`);
    return value;
  }

  oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T | undefined {
    if (typeof value !== 'string' || !options.includes(value as T)) {
      return this.problem(path, `expected one of ${options.join(', ')}, got ${echo(value)}`);
    }
    return value as T;
  }

  /** A duration such as `500ms`, `5s`, `2m` or `1h`, in milliseconds. */
  duration(value: unknown, path: string, maxMs = 24 * 3600_000): number | undefined {
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined) {
      return this.problem(path, `expected a duration such as 500ms, 5s, 2m or 1h, got ${echo(value)}`);
    }
    if (ms > maxMs) return this.problem(path, `must be at most ${formatDuration(maxMs)}`);
    return ms;
  }

  array(value: unknown, path: string, max = 100): unknown[] | undefined {
    if (!Array.isArray(value)) return this.problem(path, `expected a list, got ${describe(value)}`);
    if (value.length > max) return this.problem(path, `must have at most ${max} entries`);
    return value;
  }

  /** A map of string to string, such as HTTP headers. */
  stringMap(value: unknown, path: string, max = 50): Record<string, string> | undefined {
    const record = this.object(value, path);
    if (!record) return undefined;
    const entries = Object.entries(record);
    if (entries.length > max) return this.problem(path, `must have at most ${max} entries`);
    const out: Record<string, string> = {};
    for (const [key, v] of entries) {
      const s = this.string(v, join(path, key), { min: 0 });
      if (s !== undefined) out[key] = s;
    }
    return out;
  }

  /**
   * HTTP header fields: a map whose keys are field names (RFC 9110 section 5.1: a token). A key that is
   * not one (`"X-Api-Key: sk-live-..."`, a whole header line) is a problem that says its shape only,
   * never naming it in the path: it may hold the credential, and `fetch` would otherwise echo it whole.
   */
  headers(value: unknown, path: string, max = 50): Record<string, string> | undefined {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const bad = Object.keys(value).filter((k) => !fieldName.test(k));
      if (bad.length > 0) {
        for (const key of bad) {
          this.problem(
            path,
            `a header name is ${describe(key)} that is not an HTTP field name (letters, digits and !#$%&'*+-.^_\`|~); write each header as Name: value`,
          );
        }
        return undefined;
      }
    }
    return this.stringMap(value, path, max);
  }

  regex(value: unknown, path: string): RegExp | undefined {
    const source = this.string(value, path, { max: 1000 });
    if (source === undefined) return undefined;
    try {
      return new RegExp(source);
    } catch (error) {
      return this.problem(path, `invalid regular expression: ${(error as Error).message}`);
    }
  }
}

/**
 * A field path: `checks.web.expect.status[0]`. A key longer than `keyLimit` (a mistyped check, secret or
 * header name can be any text the plan holds) is cut there, so a path stays short whatever the plan says.
 */
/** An HTTP field name: RFC 9110 `token`. */
export const fieldName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const shown = clip(key, keyLimit);
  return path ? `${path}.${shown}` : shown;
}

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] as keyof typeof unitMs;
  return Math.round(amount * unitMs[unit]);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * What a value is, never what it holds: `a string of 31 characters`, `a number`, `an object`. For
 * problems with fields that may carry a credential (headers, bodies, URLs, anything free-form).
 */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    return value.length === 0
      ? 'an empty string'
      : `a string of ${value.length} character${value.length === 1 ? '' : 's'}`;
  }
  if (typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}

/** The most characters of a value a problem quotes (`echo`). */
export const echoLimit = 40;

/** The most characters of a key a field path shows (`join`): names a plan may use are at most 64. */
export const keyLimit = 64;

/** `text`, cut at `max` characters with an ellipsis. */
export function clip(text: string, max = echoLimit): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * The value itself, a string cut at `echoLimit` (40) characters: only for fields whose values are never
 * secret (counts, durations, enum names, versions, check types, status codes, host names), where showing
 * what was written helps fix it. A problem about any other field says the shape (`describe`), and every
 * problem that quotes plan text goes through one of the two, so none holds more than 40 characters of it.
 */
export function echo(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(clip(value));
  return describe(value);
}
