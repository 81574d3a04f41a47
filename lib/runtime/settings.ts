import { echo, formatDuration, parseDuration } from '../spec/fields.ts';

/**
 * A setting read from the function's environment that is unparseable or out of its range. Triggers turn
 * it into a failed verdict that names the variable, still delivered: a misconfigured gate never passes.
 */
export class SettingError extends Error {
  /** The environment variable at fault. */
  readonly variable: string;
  constructor(variable: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SettingError';
    this.variable = variable;
  }
}

/** A duration setting: its variable, its default and its documented range (milliseconds, inclusive). */
export interface DurationSetting {
  readonly variable: string;
  readonly defaultMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * Every duration setting greenlight reads from its environment, with its floor and ceiling. README's
 * settings table repeats these; `test/runtime/settings.test.ts` holds each to its bounds.
 */
export const durationSettings = {
  /** Time kept after the analysis to deliver the verdict; below 100 ms nothing can be delivered. */
  reserve: { variable: 'GREENLIGHT_REPORT_RESERVE', defaultMs: 5_000, minMs: 100, maxMs: 900_000 },
  /** How often the wait gate reads a deployment while it watches for the termination wait. */
  pollInterval: { variable: 'GREENLIGHT_WAIT_POLL_INTERVAL', defaultMs: 30_000, minMs: 50, maxMs: 600_000 },
  /** How long the wait gate watches for a termination wait before it gives up. */
  watchLimit: {
    variable: 'GREENLIGHT_WAIT_WATCH_LIMIT',
    defaultMs: 72 * 3_600_000,
    minMs: 60_000,
    maxMs: 7 * 24 * 3_600_000,
  },
} as const satisfies Record<string, DurationSetting>;

/**
 * Reads a duration setting (`30s`, `2h`, `500ms`; unset or blank: the default). Throws a `SettingError`
 * naming the variable and its range when the text is not a duration or falls outside the range.
 */
export function readDurationSetting(setting: DurationSetting, text: string | undefined): number {
  if (text === undefined || text.trim() === '') return setting.defaultMs;
  const ms = parseDuration(text);
  if (ms === undefined || ms < setting.minMs || ms > setting.maxMs) {
    throw new SettingError(
      setting.variable,
      `${setting.variable}: expected a duration from ${formatDuration(setting.minMs)} to ${formatDuration(setting.maxMs)} (such as ${formatDuration(setting.defaultMs)}), got ${echo(text)}`,
    );
  }
  return ms;
}

/**
 * Reads a `true` / `false` setting (any case, surrounding blanks ignored; unset or blank: `defaultValue`).
 * Throws a `SettingError` naming the variable for anything else (`no`, `0`, `flase`): a typo must not
 * silently mean the default.
 */
export function readBooleanSetting(variable: string, text: string | undefined, defaultValue: boolean): boolean {
  const t = text?.trim().toLowerCase();
  if (t === undefined || t === '') return defaultValue;
  if (t === 'true') return true;
  if (t === 'false') return false;
  const shown = text !== undefined && text.length > 40 ? `${text.slice(0, 40)}…` : text;
  throw new SettingError(variable, `${variable}: expected true or false, got ${JSON.stringify(shown)}`);
}

/** The variable that turns the verdict events off (`false`); on by default. */
export const publishVerdictsVariable = 'GREENLIGHT_PUBLISH_VERDICTS';
