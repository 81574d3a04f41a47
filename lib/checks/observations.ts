import type { Observation, Outcome } from '../core/types.ts';
import { isAccessDenied } from '../spec/denied.ts';
import { ThrottledError } from '../spec/errors.ts';
import { type Fields, join } from '../spec/fields.ts';

/*
 * What check kinds share to word their observations: an AWS call that failed as an `error`, the outcome
 * when there is no data, short and listed values in messages, and a string field with a default target.
 */

/** What a check reports when there is nothing to judge (no datapoints, INSUFFICIENT_DATA). */
export type NoDataOutcome = Outcome;
export const noDataOutcomes: readonly NoDataOutcome[] = ['fail', 'inconclusive', 'error', 'pass'];

/**
 * An AWS call that failed (throttled, denied, not found, aborted) as an `error` measurement:
 * never a pass, and the message names the SDK's error class so the cause is plain in the verdict. A call
 * AWS still throttled when the measurement's time ran out (`ThrottledError`) is marked `throttled`.
 * `denied`, when given, is said after an access denial: what the operator sets to allow the call
 * (the stack parameter that scopes the function's IAM policy).
 */
export function awsError(what: string, error: unknown, signal: AbortSignal, denied?: string): Observation {
  // Still throttled when the measurement's time ran out: AWS's answer, said as such, and marked so that the
  // analysis measures again rather than count it while the deadline allows.
  if (error instanceof ThrottledError)
    return { outcome: 'error', message: `${what}: ${error.message}`, throttled: true };
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    const why = reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'aborted';
    return { outcome: 'error', message: `${what}: ${why}` };
  }
  const cut = (error as { name?: unknown; cause?: unknown } | null)?.cause;
  if ((error as { name?: unknown } | null)?.name === 'AbortError' && cut instanceof Error) {
    return { outcome: 'error', message: `${what}: ${cut.message}` };
  }
  const e = error as { name?: unknown; message?: unknown } | null | undefined;
  const name = typeof e?.name === 'string' && e.name ? e.name : 'Error';
  const message = typeof e?.message === 'string' && e.message && e.message !== name ? `: ${short(e.message, 200)}` : '';
  const hint = denied !== undefined && isAccessDenied(error) ? ` (${denied})` : '';
  return { outcome: 'error', message: `${what}: ${name}${message}${hint}` };
}

export { isAccessDenied };

/** A string field, or `fallback` (often a `{{placeholder}}` that targets green) when the plan omits it. */
export function textOr(
  raw: Record<string, unknown>,
  key: string,
  path: string,
  f: Fields,
  fallback: string,
  max = 2048,
): string | undefined {
  return raw[key] === undefined ? fallback : f.string(raw[key], join(path, key), { max });
}

export function short(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `a, b, c and 4 more`, so a message stays one readable line. */
export function listSome(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
