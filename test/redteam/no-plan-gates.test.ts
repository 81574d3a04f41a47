import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeDeployDeployment, CodeDeployPort, DeploymentWaitType } from '../../lib/aws/codedeploy.ts';
import type { Clock } from '../../lib/core/types.ts';
import { type DurableOutcome, runDurableGate } from '../../lib/gate/durable.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import type { Trigger } from '../../lib/gate/trigger.ts';
import { NoPlanError } from '../../lib/plan/load.ts';
import { codeDeployWaitGateTrigger } from '../../lib/triggers/codedeploy/wait-gate.ts';
import { skippingClock as fixedClock } from '../support/durable-time.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { fakePauseGate, quietLog } from '../support/trigger-fakes.ts';

// Red team (redteam3): the ECS PAUSE gate and the CodeDeploy wait gate receive every deployment of their
// EventBridge scope; one that no plan routes to is someone else's and must never be stopped or rolled back
// (lib/gate/run-gate.ts: "a misconfigured gate must not act on a deployment that is not its own").
// These tests FAIL on the code at 68cb56d:
// - the wait gate's START watch refuses on a setting error before it looks for the plan, so a bad
//   GREENLIGHT_WAIT_POLL_INTERVAL / GREENLIGHT_REPORT_RESERVE stops, with rollback, every deployment in scope;
// - the durable execution's first step (runDurableGate `prepare`) does not honour `withoutPlan: 'ignore'`:
//   a durable start for a deployment without a plan (forged, or the plan removed since the entry looked)
//   ends in ROLLBACK / StopDeployment.

const minute = 60_000;
const deploymentId = 'd-ABCDEFGH1';
const noPlan = async () => {
  throw new NoPlanError(['/greenlight/plans/codedeploy/app/group'], []);
};

function codeDeploy(status: string, targetStatus = 'InProgress') {
  const decisions: { call: string; wait?: DeploymentWaitType }[] = [];
  const port: CodeDeployPort = {
    getDeployment: async (id) =>
      ({
        deploymentId: id,
        applicationName: 'someone-elses-app',
        deploymentGroupName: 'their-group',
        computePlatform: 'ECS',
        deploymentType: 'BLUE_GREEN',
        testListenerArns: [],
        prodListenerArns: [],
        status,
        blueGreen: {
          readyAction: 'STOP_DEPLOYMENT',
          readyWaitMinutes: 60,
          terminationAction: 'TERMINATE',
          terminationWaitMinutes: 60,
        },
      }) satisfies CodeDeployDeployment,
    listDeploymentTargets: async () => ['their-cluster:their-service'],
    getDeploymentTarget: async (_id, targetId) => ({
      targetId,
      type: 'ECSTarget',
      status: targetStatus,
      lifecycleEvents: [],
      taskSets: [],
    }),
    putLifecycleEventHookStatus: () => Promise.reject(new Error('not a wait gate call')),
    continueDeployment: async ({ waitType }) => {
      decisions.push({ call: 'ContinueDeployment', wait: waitType });
      return 'continued';
    },
    stopDeploymentWithRollback: async () => {
      decisions.push({ call: 'StopDeployment' });
      return { result: 'stopping', status: 'Pending' };
    },
  };
  return { port, decisions };
}

function waitTrigger(cd: CodeDeployPort, clock: Clock, pollInterval = '30s') {
  return codeDeployWaitGateTrigger({
    codedeploy: cd,
    listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
    taskSets: { taskSetOrigins: () => Promise.reject(new Error('no task sets needed')) },
    clock,
    log: quietLog,
    settings: { pollInterval, region: 'us-east-1' },
  });
}

const stateChange = (state: string) => ({
  source: 'aws.codedeploy',
  'detail-type': 'CodeDeploy Deployment State-change Notification',
  detail: { deploymentId, state },
});

describe('the wait gate entry, misconfigured, never stops a deployment that has no plan', () => {
  it('a bad GREENLIGHT_WAIT_POLL_INTERVAL does not stop (with rollback) a START deployment no plan routes to', async () => {
    const clock = fixedClock(Date.now());
    const cd = codeDeploy('InProgress');
    const gate = runGate(waitTrigger(cd.port, clock, 'often'), {
      loadPlan: noPlan,
      checks: { clock },
      clock,
      log: quietLog,
      reserve: '200ms',
    });
    const out = await gate(stateChange('START'), lambdaContext(5_000));
    expect(cd.decisions).toEqual([]);
    expect(out).toMatchObject({ result: 'no-plan' });
  });

  it('a bad GREENLIGHT_REPORT_RESERVE does not stop (with rollback) a START deployment no plan routes to', async () => {
    const clock = fixedClock(Date.now());
    const cd = codeDeploy('InProgress');
    const gate = runGate(waitTrigger(cd.port, clock), {
      loadPlan: noPlan,
      checks: { clock },
      clock,
      log: quietLog,
      reserve: 'soon',
    });
    const out = await gate(stateChange('START'), lambdaContext(5_000));
    expect(cd.decisions).toEqual([]);
    expect(out).toMatchObject({ result: 'no-plan' });
  });
});

beforeAll(() => LocalDurableTestRunner.setupTestEnvironment({ skipTime: true }));
afterAll(() => LocalDurableTestRunner.teardownTestEnvironment());

async function runDurable<I, H, D, A>(trigger: Trigger<I, H, D, A>, clock: Clock, payload: unknown) {
  const analyse = runDurableGate(trigger, { loadPlan: noPlan, checks: { clock }, clock, log: quietLog, reserve: '5s' });
  const runner = new LocalDurableTestRunner({
    handlerFunction: withDurableExecution((p: unknown, ctx) => analyse(p, ctx)),
  });
  const execution = await runner.run({ payload });
  return execution.getResult() as DurableOutcome;
}

describe('a durable execution never acts on a deployment that has no plan', () => {
  it('a PAUSE start payload for a hook whose service has no plan does not roll it back', async () => {
    const t0 = Date.UTC(2026, 10, 30, 8);
    const clock = fixedClock(t0);
    const hookId = 'hook-1';
    const arn = 'arn:aws:ecs:us-west-2:123456789012:service-deployment/their-cluster/their-service/abc123';
    const { trigger, continued } = fakePauseGate({
      clock,
      hookId,
      expiresAt: t0 + 60 * minute,
      cluster: 'their-cluster',
      service: 'their-service',
    });
    const result = await runDurable(trigger, clock, {
      v: 1,
      trigger: 'ecs-pause-gate',
      event: {
        source: 'aws.ecs',
        'detail-type': 'ECS Hook State Change',
        detail: { eventName: 'HOOK_AWAITING_ACTION', hookType: 'PAUSE', hookId, serviceDeploymentArn: arn },
      },
    });
    expect(continued).toEqual([]);
    expect(result.result).toBe('closed');
  }, 30_000);

  it('a READY start payload for a deployment no plan routes to does not stop it', async () => {
    const clock = fixedClock(Date.UTC(2026, 10, 30, 9));
    const cd = codeDeploy('Ready');
    const result = await runDurable(waitTrigger(cd.port, clock), clock, {
      v: 1,
      trigger: 'codedeploy-wait-gate',
      event: stateChange('READY'),
    });
    expect(cd.decisions).toEqual([]);
    expect(result.result).toBe('closed');
  }, 30_000);
});
