import { errorMessage } from '../core/analyze.ts';
import type { Clock } from '../core/types.ts';

/** The verdict could not be delivered. Thrown loudly so the invocation fails and Lambda retries it. */
export class ReportError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportError';
  }
}

/** Throttling, 5xx and network faults: worth another try while there is time. */
export function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; code?: string };
  if (e?.$retryable) return true;
  if (
    typeof e?.name === 'string' &&
    /Throttl|TooManyRequests|RequestLimitExceeded|ServiceUnavailable|InternalFailure|InternalServerError/.test(e.name)
  ) {
    return true;
  }
  const status = e?.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  return ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].includes(e?.code ?? '');
}

/**
 * Sends the verdict, retrying retryable faults (beyond the SDK's own retries) until `by`.
 * Returns what the send returned; throws a `ReportError` when it cannot be delivered in time.
 */
export async function deliver<T>(send: (signal: AbortSignal) => Promise<T>, by: number, clock: Clock): Promise<T> {
  let attempt = 0;
  let last: unknown;
  for (;;) {
    const left = by - clock.now();
    if (left <= 0) {
      throw new ReportError(
        `verdict not delivered in time after ${attempt} attempts${last ? `; last error: ${(last as Error)?.name ?? 'Error'}: ${errorMessage(last)}` : ''}`,
        { cause: last },
      );
    }
    attempt++;
    const signal = AbortSignal.timeout(left);
    try {
      return await send(signal);
    } catch (error) {
      if (signal.aborted) continue;
      last = error;
      if (!isRetryable(error)) {
        throw new ReportError(`verdict not delivered: ${(error as Error)?.name ?? 'Error'}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      const pause = Math.min(100 * 2 ** attempt, 2_000, Math.max(0, by - clock.now() - 50));
      await clock.sleep(pause, AbortSignal.timeout(Math.max(1, pause + 10)));
    }
  }
}
