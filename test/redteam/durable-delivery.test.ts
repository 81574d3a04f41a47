import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/core/types.ts';
import { runDurableGate } from '../../lib/gate/durable.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { skippingClock as steppingClock } from '../support/durable-time.ts';
import { fakePauseGate, quietLog } from '../support/trigger-fakes.ts';

// Red team (redteam3): a durable execution delivers its verdict in a step retried 3 times (`fewRetries(3)`,
// each attempt bounded by 30 s), then fails the execution. The hook may wait hours or days more (a PAUSE
// hook up to its expiresAt, 14 days at most). ECS then applies the hook's own timeoutAction, which the
// service owner may have set to CONTINUE: a ROLLBACK verdict that met a few minutes of ECS throttling
// becomes a CONTINUE. FAILS at 68cb56d: the execution gives up after about 1.5 minutes (test clock, 9 attempts) of
// throttling, an hour before the hook expires, and never rolls back.

const minute = 60_000;

beforeAll(() => LocalDurableTestRunner.setupTestEnvironment({ skipTime: true }));
afterAll(() => LocalDurableTestRunner.teardownTestEnvironment());

describe('a durable execution keeps delivering its verdict while the hook still waits', () => {
  it('a ROLLBACK that meets 3 minutes of ECS throttling is still delivered, before a CONTINUE timeout action an hour later', async () => {
    const t0 = Date.UTC(2026, 10, 30, 8);
    const clock = steppingClock(t0) as Clock & { advanceBy(ms: number): void };
    const hookId = 'hook-1';
    const arn = 'arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/abc123';
    const expiresAt = t0 + 60 * minute;
    const throttledUntil = t0 + 3 * minute;
    let attempts = 0;
    const { trigger, continued } = fakePauseGate({
      clock,
      hookId,
      expiresAt,
      timeoutAction: 'CONTINUE',
      onContinue: () => {
        attempts++;
        if (clock.now() < throttledUntil) {
          clock.advanceBy(10_000);
          throw Object.assign(new Error('Rate exceeded'), {
            name: 'ThrottlingException',
            $metadata: { httpStatusCode: 400 },
          });
        }
      },
    });
    // A schedule that cannot end before the hook expires: a Failed verdict at once, ROLLBACK to deliver.
    const plan = parsePlan({
      version: 1,
      allow: { addresses: ['loopback'] },
      checks: { h: { type: 'http', url: 'http://127.0.0.1:9/h', count: 25, interval: '5m', timeout: '2s' } },
      hooks: { POST_TEST_TRAFFIC_SHIFT: ['h'] },
    });
    const analyse = runDurableGate(trigger, {
      loadPlan: async () => plan,
      checks: { clock },
      clock,
      log: quietLog,
      reserve: '5s',
    });
    const runner = new LocalDurableTestRunner({
      handlerFunction: withDurableExecution((p: unknown, ctx) => analyse(p, ctx)),
    });
    await runner.run({
      payload: {
        v: 1,
        trigger: 'ecs-pause-gate',
        event: {
          source: 'aws.ecs',
          'detail-type': 'ECS Hook State Change',
          detail: { eventName: 'HOOK_AWAITING_ACTION', hookType: 'PAUSE', hookId, serviceDeploymentArn: arn },
        },
      },
    });
    expect(attempts).toBeGreaterThan(0);
    expect(clock.now()).toBeLessThan(expiresAt);
    expect(continued).toEqual(['ROLLBACK']);
  }, 90_000);
});
