import type { RetryErrorInfo } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { defaultRetryTuning, retryStrategy } from '../../lib/aws/retry.ts';

const throttling = {
  errorType: 'THROTTLING',
  error: { name: 'Throttling', message: 'Rate exceeded', $metadata: {} },
} as unknown as RetryErrorInfo;

describe('the retry strategy of every greenlight client (issue 14)', () => {
  it("keeps retrying a throttled call for as long as a Lambda invocation can last, so a fleet's context reads wait their turn", async () => {
    let now = 0;
    const strategy = retryStrategy(defaultRetryTuning, () => now);
    let token = await strategy.acquireInitialRetryToken('');
    // Throttled for 14 minutes (a fleet of 200 hooks starting together queues 600 ELBv2 context reads at 10/s).
    for (const minute of [1, 2, 5, 10, 14]) {
      now = minute * 60_000;
      token = await strategy.refreshRetryTokenForRetry(token, throttling);
      expect(token.getRetryDelay()).toBeLessThan(defaultRetryTuning.throttleCapMs);
    }
    // A call made without a deadline's signal still ends: Lambda's 15-minute limit.
    now = 15 * 60_000;
    await expect(strategy.refreshRetryTokenForRetry(token, throttling)).rejects.toThrow(/throttled for too long/);
  });

  it('gives other retryable errors the standard 3 attempts', async () => {
    const strategy = retryStrategy(defaultRetryTuning, () => 0);
    const transient = {
      errorType: 'TRANSIENT',
      error: { name: 'Error', message: 'socket hang up', $metadata: {} },
    } as unknown as RetryErrorInfo;
    let token = await strategy.acquireInitialRetryToken('');
    token = await strategy.refreshRetryTokenForRetry(token, transient);
    token = await strategy.refreshRetryTokenForRetry(token, transient);
    await expect(strategy.refreshRetryTokenForRetry(token, transient)).rejects.toThrow(/not retried/);
  });
});
