import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pluggable, RetryErrorInfo, RetryStrategyV2, StandardRetryToken } from '@smithy/types';
import { ThrottledError } from '../spec/errors.ts';
import { noteThrottled } from '../spec/throttle-watch.ts';

/**
 * Error codes the SDK classifies as throttling (`THROTTLING_ERROR_CODES` of the SDK's
 * service-error-classification, @smithy/core/retry), plus HTTP 429 and a `throttling` retryable trait.
 * ThrottlingException (ECS, CloudWatch), Throttling (ELBv2), TooManyRequestsException, RequestLimitExceeded,
 * ProvisionedThroughputExceededException among them.
 */
const throttlingCodes = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** Whether AWS answered "slow down", as the SDK classifies it (its isThrottlingError). */
export function isThrottling(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  return (
    e.$metadata?.httpStatusCode === 429 ||
    (typeof e.name === 'string' && throttlingCodes.has(e.name)) ||
    e.$retryable?.throttling === true
  );
}

export interface RetryTuning {
  /** Full-jitter backoff for throttling: the n-th delay is random in [0, min(cap, base × 2^n)). Milliseconds. */
  readonly throttleBaseMs: number;
  readonly throttleCapMs: number;
  /**
   * A throttled call stops retrying after this long since its first attempt, even with no abort signal.
   * Every greenlight call carries its deadline's signal, which decides first; this bounds only a call made
   * without one. Longer than a fleet's throttling at its start: a hook's context reads (listeners, rules) wait
   * for their turn as long as the hook's deadline allows, not a fixed minute.
   */
  readonly throttleGiveUpMs: number;
  /** Attempts for other retryable errors (5xx, timeouts, resets), as the SDK's standard mode. */
  readonly otherAttempts: number;
  readonly otherBaseMs: number;
}

/** The defaults: about 8 attempts in a 5 s measurement, none past its time (the abort signal decides). */
export const defaultRetryTuning: RetryTuning = {
  throttleBaseMs: 200,
  throttleCapMs: 4_000,
  throttleGiveUpMs: 15 * 60_000,
  otherAttempts: 3,
  otherBaseMs: 100,
};

interface Token extends StandardRetryToken {
  readonly firstAt: number;
}

function token(count: number, delay: number, firstAt: number): Token {
  return {
    firstAt,
    getRetryCount: () => count,
    getRetryDelay: () => delay,
    getRetryCost: () => undefined,
  };
}

/**
 * The SDK retry strategy of every greenlight client. Throttling is AWS's answer, not the deployment's: it
 * is retried with exponential backoff and full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter") for as long as the call's abort signal allows (the SDK's retry middleware races every wait
 * against it), at most `throttleGiveUpMs`. No retry quota: the standard mode's quota would stop retrying
 * throttles exactly when a fleet needs the backoff most. Other retryable errors get the standard mode's 3
 * attempts.
 */
export function retryStrategy(tuning: RetryTuning = defaultRetryTuning, now: () => number = Date.now): RetryStrategyV2 {
  return {
    async acquireInitialRetryToken() {
      return token(0, 0, now());
    },
    async refreshRetryTokenForRetry(previous, info: RetryErrorInfo) {
      const t = previous as Token;
      const n = t.getRetryCount();
      if (info.errorType === 'THROTTLING' || isThrottling(info.error)) {
        if (now() - t.firstAt >= tuning.throttleGiveUpMs) throw new Error('throttled for too long');
        const delay = Math.floor(Math.random() * Math.min(tuning.throttleCapMs, tuning.throttleBaseMs * 2 ** n));
        return token(n + 1, delay, t.firstAt);
      }
      if ((info.errorType === 'TRANSIENT' || info.errorType === 'SERVER_ERROR') && n + 1 < tuning.otherAttempts) {
        return token(n + 1, Math.floor(Math.random() * tuning.otherBaseMs * 2 ** n), t.firstAt);
      }
      throw new Error('not retried');
    },
    recordSuccess() {},
  };
}

/** What one call went through: set by `throttleLog`, read by `throttledCall`. */
interface CallLog {
  firstThrottledAt?: number;
  throttles: number;
}

/** The call being sent, as the SDK's middleware sees it: async context follows it through retries. */
const calls = new AsyncLocalStorage<CallLog>();

/**
 * A middleware inside the retry loop that notes every throttled attempt against the call's own abort
 * call (async context), so that a call cut by its time can say it was throttled (the SDK then throws an AbortError).
 */
export const throttleLog: Pluggable<object, object> = {
  applyToStack(stack) {
    stack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          const log = calls.getStore();
          if (isThrottling(error)) {
            noteThrottled();
            if (log) {
              log.firstThrottledAt ??= Date.now();
              log.throttles++;
            }
          }
          throw error;
        }
      },
      { step: 'deserialize', priority: 'high', name: 'greenlightThrottleLog' },
    );
  },
};

/** The client options every greenlight SDK client is made with. */
export function clientConfig(tuning: RetryTuning = defaultRetryTuning): { retryStrategy: RetryStrategyV2 } {
  return { retryStrategy: retryStrategy(tuning) };
}

/**
 * Sends one call and turns "still throttled when the time ran out" into a
 * `ThrottledError` naming the operation and how long AWS throttled it ("ECS DescribeServices", 4.8 s).
 * Every other error passes through unchanged.
 */
export async function throttledCall<T>(
  operation: string,
  signal: AbortSignal | undefined,
  send: (options: { abortSignal?: AbortSignal }) => Promise<T>,
): Promise<T> {
  const log: CallLog = { throttles: 0 };
  const startedAt = Date.now();
  try {
    return await calls.run(log, () => send(signal ? { abortSignal: signal } : {}));
  } catch (error) {
    if (isThrottling(error) || (log.throttles > 0 && (error as { name?: unknown })?.name === 'AbortError')) {
      const throttles = Math.max(log.throttles, isThrottling(error) ? 1 : 0);
      throw new ThrottledError(operation, Date.now() - (log.firstThrottledAt ?? startedAt), throttles, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * A client made the greenlight way: `clientConfig`'s retry strategy, and the throttle log that lets a call
 * cut by its time say it was throttled. `make` is the client's constructor call.
 *
 * @example
 * export const ecsClient = lazy(() => withRetry((config) => new ECSClient(config)));
 */
export function withRetry<C extends { middlewareStack: { use(pluggable: never): void } }>(
  make: (config: { retryStrategy: RetryStrategyV2 }) => C,
  tuning: RetryTuning = defaultRetryTuning,
): C {
  const client = make(clientConfig(tuning));
  client.middlewareStack.use(throttleLog as never);
  return client;
}
