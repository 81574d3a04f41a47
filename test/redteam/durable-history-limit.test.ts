import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DurableOutcome, runDurableGate } from '../../lib/gate/durable.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { skippingClock as clockAt } from '../support/durable-time.ts';
import { fakePauseGate, quietLog } from '../support/trigger-fakes.ts';

// Red team (redteam3): Lambda keeps at most 25,000 operations in one durable execution's history; each
// measurement round is a step and a durable wait (two operations). The wait gate bounds its watch
// (`maxWatchLooks`), but nothing bounds the rounds of a bake: a PAUSE plan of count 10000, interval 4s,
// consecutiveErrorLimit 1 is accepted (20,000 attempts, 22.2 h, under the 24 h every ECS stage is held to),
// and a green that errors once before each pass (green is the deployment's, not greenlight's) drives the
// execution to 40,000 operations. (A ReadyWait bake, held to 48 h, can go further.) The execution then fails with no verdict: ECS applies the hook's timeoutAction (CONTINUE, if the
// service owner chose it). FAILS at 68cb56d: the plan is measured instead of being refused up front.

const minute = 60_000;

beforeAll(() => LocalDurableTestRunner.setupTestEnvironment({ skipTime: true }));
afterAll(() => LocalDurableTestRunner.teardownTestEnvironment());

describe('a durable bake never outgrows the durable execution history', () => {
  it('a PAUSE plan whose rounds can exceed 25,000 history operations is refused before measuring, naming the limit', async () => {
    const t0 = Date.UTC(2026, 10, 30, 8);
    const clock = clockAt(t0);
    const hits: number[] = [];
    // Fails at once: on the current code the test ends after one round rather than 18,000.
    const server: Server = createServer((_req, res) => {
      hits.push(clock.now());
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
    try {
      const hookId = 'hook-1';
      const { trigger } = fakePauseGate({ clock, hookId, expiresAt: t0 + 14 * 24 * 60 * minute - minute });
      const document = {
        version: 1,
        allow: { addresses: ['loopback'] },
        checks: {
          h: { type: 'http', url, count: 10_000, interval: '4s', timeout: '2s', consecutiveErrorLimit: 1 },
        },
        hooks: { POST_TEST_TRAFFIC_SHIFT: ['h'] },
      };
      // Mapped by name, validate refuses it (the one table of trigger limits) ...
      expect(() => parsePlan(document)).toThrow(/20000 measurements, more than the 12000 rounds/);
      // ... and under "*", which parsing cannot pin to one trigger, the execution refuses it before measuring.
      const plan = parsePlan({ ...document, hooks: { '*': ['h'] } });
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
      const execution = await runner.run({
        payload: {
          v: 1,
          trigger: 'ecs-pause-gate',
          event: {
            source: 'aws.ecs',
            'detail-type': 'ECS Hook State Change',
            detail: {
              eventName: 'HOOK_AWAITING_ACTION',
              hookType: 'PAUSE',
              hookId,
              serviceDeploymentArn:
                'arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/abc123',
            },
          },
        },
      });
      const result = execution.getResult() as DurableOutcome;
      expect(result).toMatchObject({ result: 'decided', decision: 'ROLLBACK' });
      expect(result.reasons.join()).toMatch(/history|25,?000|rounds/i);
      expect(hits).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    }
  }, 60_000);
});
