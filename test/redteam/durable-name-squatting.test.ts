import type { LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { durableStartAdapter } from '../../lib/aws/durable-start.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { clock, fakePauseGate, quietLog } from '../support/trigger-fakes.ts';

// Red team (redteam3): the durable execution's name is public knowledge (gl-<trigger>-sha256(trigger, key), the
// key being the service deployment ARN and hook id an EventBridge event carries). Lambda answers
// DurableExecutionAlreadyStartedException when the name is taken with ANOTHER payload
// (lib/aws/durable-start.ts), and the entry treats that as a duplicate delivery: a logged no-op. Whoever
// started that execution first (any principal that may invoke the durable function, or an execution that
// failed) chose what it does: a payload naming another trigger or another hook is `ignored`/`closed` by the
// durable function, so nobody decides the hook; ECS applies its timeoutAction at expiry (CONTINUE, if the
// service owner chose it). FAILS at 68cb56d: the entry answers analysis-already-started and decides nothing.

describe('a durable execution name taken with another payload is not a duplicate delivery', () => {
  it('the PAUSE entry does not hand a long bake to an execution started with another payload', async () => {
    const t0 = Date.now();
    const hookId = 'hook-1';
    const arn = 'arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/abc123';
    const { trigger, continued } = fakePauseGate({
      clock,
      hookId,
      expiresAt: t0 + 6 * 3_600_000,
      timeoutAction: 'CONTINUE',
    });
    // Lambda, as it answers a start whose name an execution with another payload already holds.
    const lambda = {
      send: async () => {
        throw Object.assign(new Error('Execution with this name already started with a different input'), {
          name: 'DurableExecutionAlreadyStartedException',
          $metadata: { httpStatusCode: 409 },
        });
      },
    } as unknown as LambdaClient;
    const gate = runGate(trigger, {
      loadPlan: async () =>
        parsePlan({
          version: 1,
          allow: { addresses: ['loopback'] },
          checks: { h: { type: 'http', url: 'http://127.0.0.1:9/h', count: 25, interval: '5m', timeout: '2s' } },
          hooks: { POST_TEST_TRAFFIC_SHIFT: ['h'] },
        }),
      checks: { clock },
      clock,
      log: quietLog,
      reserve: '200ms',
      durable: {
        functionArn: 'arn:aws:lambda:us-west-2:123456789012:function:gl-durable:live',
        port: durableStartAdapter(() => lambda),
      },
    });
    const out = await gate(
      {
        source: 'aws.ecs',
        'detail-type': 'ECS Hook State Change',
        detail: { eventName: 'HOOK_AWAITING_ACTION', hookType: 'PAUSE', hookId, serviceDeploymentArn: arn },
      },
      lambdaContext(5_000),
    );
    expect(out.outcome).not.toBe('analysis-already-started');
    expect(continued).toEqual(['ROLLBACK']);
  });
});
