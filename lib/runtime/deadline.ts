import { durationSettings, readDurationSetting, SettingError } from './settings.ts';

/** The part of the Lambda context that tells time. */
export interface RemainingTime {
  getRemainingTimeInMillis(): number;
}

export interface Deadline {
  /** Aborted when the analysis must stop so that the verdict can still be delivered. */
  readonly signal: AbortSignal;
  /** Epoch ms at which the analysis is stopped. */
  readonly analysisEndsAt: number;
  /** Epoch ms by which the verdict must have been delivered (just before Lambda stops the function). */
  readonly reportBy: number;
  /**
   * GREENLIGHT_REPORT_RESERVE was unparseable or out of range: the deadline uses the default reserve so that
   * the verdict is still delivered, and the trigger must fail the verdict with this error.
   */
  readonly settingError?: SettingError;
  dispose(): void;
}

export class DeadlineReachedError extends Error {
  constructor(reserveMs: number) {
    super(`deadline reached: stopped with ${reserveMs} ms left to deliver the verdict`);
    this.name = 'DeadlineReachedError';
  }
}

const finalMarginMs = 250;

/**
 * Splits the invocation's remaining time: the analysis gets all but a reserve, the reserve
 * delivers the verdict. The reserve is `GREENLIGHT_REPORT_RESERVE` (default 5s, from 100ms to 15m), at most
 * half the time left. Never throws: a bad setting is returned as `settingError` with the default reserve.
 * The verdict is due a final margin before Lambda's own deadline: 250 ms, but never more than half the
 * reserve, so that however little time is left (or however small the reserve) the report still has time
 * after the analysis ends.
 */
export function deadlineFor(context: RemainingTime, now: number, reserveSetting: string | undefined): Deadline {
  const remaining = Math.max(0, context.getRemainingTimeInMillis());
  let configured: number = durationSettings.reserve.defaultMs;
  let settingError: SettingError | undefined;
  try {
    configured = readDurationSetting(durationSettings.reserve, reserveSetting);
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    settingError = error;
  }
  const reserveMs = Math.min(configured, Math.floor(remaining / 2));
  const marginMs = Math.min(finalMarginMs, Math.floor(reserveMs / 2));
  const analysisEndsAt = now + remaining - reserveMs;
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DeadlineReachedError(reserveMs)),
    Math.max(0, analysisEndsAt - now),
  );
  return {
    signal: controller.signal,
    analysisEndsAt,
    reportBy: now + remaining - marginMs,
    ...(settingError ? { settingError } : {}),
    dispose: () => clearTimeout(timer),
  };
}
