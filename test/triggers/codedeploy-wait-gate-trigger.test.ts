import { describe, expect, it } from 'vitest';
import type {
  CodeDeployDeployment,
  CodeDeployPort,
  ContinueResult,
  DeploymentWaitType,
  StopResult,
} from '../../lib/aws/codedeploy.ts';
import type { DurableStartPort } from '../../lib/aws/durable-start.ts';
import { GateEventError } from '../../lib/gate/errors.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import type { Plan } from '../../lib/plan/schema.ts';
import { readWaitInput } from '../../lib/triggers/codedeploy/wait-event.ts';
import { codeDeployWaitGateTrigger } from '../../lib/triggers/codedeploy/wait-gate.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { alarmsPlan, clock, cloudwatch, gateRun, quietLog } from '../support/trigger-fakes.ts';

/**
 * The CodeDeploy wait gate trigger with fake ports, in memory: which events it takes, how GetDeployment
 * (and the ECS target) decide whether a wait is open, which plan entry each wait runs, how it watches for
 * the termination wait and starts a durable execution for the watch or a long bake, and the
 * ContinueDeployment or StopDeployment call it makes. The durable execution itself:
 * test/gate/durable-gates.test.ts. The lifecycle around it is runGate's (test/gate/run-gate.test.ts); end to
 * end: test/functions/codedeploy-wait-gate.test.ts.
 */

const deploymentId = 'd-ABCDEFGH1';
const stateChange = 'CodeDeploy Deployment State-change Notification';
const eventOf = (state: string) => ({
  source: 'aws.codedeploy',
  'detail-type': stateChange,
  time: new Date().toISOString(),
  detail: { deploymentId, state, application: 'app', deploymentGroup: 'group' },
});

/**
 * CodeDeploy as GetDeployment and GetDeploymentTarget report it: `statuses` are the deployment's status
 * in call order (the last one repeats); `targetStatus` is the ECS target's.
 */
function fakeCodeDeploy(
  o: {
    statuses?: string[];
    targetStatus?: string;
    creator?: string;
    readyWaitMinutes?: number;
    terminationAction?: string;
    continued?: ContinueResult;
    stopped?: StopResult['result'];
  } = {},
) {
  const continued: { deploymentId: string; waitType: DeploymentWaitType }[] = [];
  const stopped: string[] = [];
  let reads = 0;
  const port: CodeDeployPort = {
    getDeployment: async (id) => {
      const statuses = o.statuses ?? ['Ready'];
      const status = statuses[Math.min(reads, statuses.length - 1)];
      reads++;
      return {
        deploymentId: id,
        applicationName: 'app',
        deploymentGroupName: 'group',
        computePlatform: 'ECS',
        deploymentType: 'BLUE_GREEN',
        testListenerArns: [],
        prodListenerArns: [],
        ...(status === undefined ? {} : { status }),
        ...(o.creator ? { creator: o.creator } : {}),
        blueGreen: {
          readyAction: 'STOP_DEPLOYMENT',
          readyWaitMinutes: o.readyWaitMinutes ?? 60,
          terminationAction: o.terminationAction ?? 'TERMINATE',
          terminationWaitMinutes: 60,
        },
      } satisfies CodeDeployDeployment;
    },
    listDeploymentTargets: async () => ['my-cluster:my-service'],
    getDeploymentTarget: async (_id, targetId) => ({
      targetId,
      type: 'ECSTarget',
      status: o.targetStatus ?? 'InProgress',
      lifecycleEvents: [],
      taskSets: [],
    }),
    putLifecycleEventHookStatus: () => Promise.reject(new Error('not a wait gate call')),
    continueDeployment: async (input) => {
      continued.push(input);
      return o.continued ?? 'continued';
    },
    stopDeploymentWithRollback: async (id) => {
      stopped.push(id);
      return { result: o.stopped ?? 'stopping', status: 'Pending' };
    },
  };
  return { port, continued, stopped };
}

/** Lambda's durable start: records each request. */
function fakeDurable() {
  const starts: { functionArn: string; name: string; payload: unknown }[] = [];
  const port: DurableStartPort = {
    start: async (request) => {
      starts.push(request);
      return 'started';
    },
  };
  return { port, starts };
}

function trigger(codedeploy: CodeDeployPort, pollInterval = '50ms') {
  return codeDeployWaitGateTrigger({
    codedeploy,
    listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
    taskSets: { taskSetOrigins: () => Promise.reject(new Error('no task sets needed')) },
    clock,
    log: quietLog,
    settings: { pollInterval, region: 'us-east-1' },
  });
}

function gate(o: {
  plan: Plan;
  cd: CodeDeployPort;
  durable?: DurableStartPort;
  alarm?: 'OK' | 'ALARM';
  pollInterval?: string;
}) {
  return runGate(trigger(o.cd, o.pollInterval), {
    loadPlan: async () => o.plan,
    checks: { clock, cloudwatch: cloudwatch(o.alarm ?? 'OK') },
    clock,
    log: quietLog,
    reserve: '200ms',
    ...(o.durable
      ? { durable: { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:gl-durable:live', port: o.durable } }
      : {}),
  });
}

const both = alarmsPlan({ ReadyWait: 'none', TerminationWait: 'none' });

describe('CodeDeploy wait gate trigger (fake ports)', () => {
  describe('reading the event', () => {
    const t = trigger(fakeCodeDeploy().port);

    it('ignores the states that end a deployment, and other detail types', () => {
      for (const state of ['SUCCESS', 'FAILURE', 'STOP']) {
        expect(t.read(eventOf(state))).toMatchObject({ kind: 'ignored', subject: deploymentId });
      }
      expect(t.read({ ...eventOf('READY'), 'detail-type': 'CodeDeploy Instance State-change Notification' })).toEqual({
        kind: 'ignored',
        subject: deploymentId,
        reason: 'detail-type CodeDeploy Instance State-change Notification signals no wait',
      });
    });

    it('throws a GateEventError on an event that names no deployment, a payload that once carried state included', () => {
      expect(() => t.read({ detail: { state: 'READY' } })).toThrow(GateEventError);
      expect(() => t.read({ detail: { deploymentId: 'd-1', state: 'READY' } })).toThrow(/d-XXXXXXXXX/);
      expect(() => t.read({ greenlightWaitGateContinuation: { deploymentId, wait: 'READY_WAIT' } })).toThrow(
        /no detail object/,
      );
    });
  });

  it('continues the ready wait with ContinueDeployment(READY_WAIT) when its checks pass', async () => {
    const cd = fakeCodeDeploy();
    const out = await gate({ plan: both, cd: cd.port })(eventOf('READY'), lambdaContext(5_000));
    expect(out).toMatchObject({ deploymentId, wait: 'READY_WAIT', verdict: 'pass', result: 'continued' });
    expect(cd.continued).toEqual([{ deploymentId, waitType: 'READY_WAIT' }]);
    expect(cd.stopped).toEqual([]);
  });

  it('stops the deployment with rollback when the ReadyWait checks fail', async () => {
    const cd = fakeCodeDeploy();
    const plan = alarmsPlan({ ReadyWait: 'alarms', TerminationWait: 'none' });
    const out = await gate({ plan, cd: cd.port, alarm: 'ALARM' })(eventOf('READY'), lambdaContext(5_000));
    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(cd.stopped).toEqual([deploymentId]);
    expect(cd.continued).toEqual([]);
  });

  it('maps CodeDeploy\'s "already done" answers to duplicate deliveries', async () => {
    const continued = fakeCodeDeploy({ continued: 'already-completed' });
    const passed = await gate({ plan: both, cd: continued.port })(eventOf('READY'), lambdaContext(5_000));
    expect(passed.result).toBe('already-completed');

    const stopped = fakeCodeDeploy({ stopped: 'already-completed' });
    const plan = alarmsPlan({ ReadyWait: 'alarms' });
    const failed = await gate({ plan, cd: stopped.port, alarm: 'ALARM' })(eventOf('READY'), lambdaContext(5_000));
    expect(failed).toMatchObject({ verdict: 'fail', result: 'already-completed' });
  });

  it('does nothing on READY when GetDeployment shows the deployment is not Ready', async () => {
    const cd = fakeCodeDeploy({ statuses: ['InProgress'] });
    const out = await gate({ plan: both, cd: cd.port })(eventOf('READY'), lambdaContext(5_000));
    expect(out).toMatchObject({ result: 'not-waiting' });
    expect(out.reasons.join()).toMatch(/deployment is InProgress, not in its READY_WAIT/);
    expect(cd.continued).toEqual([]);
    expect(cd.stopped).toEqual([]);
  });

  it('does nothing when the wait was decided elsewhere while the checks ran', async () => {
    const cd = fakeCodeDeploy({ statuses: ['Ready', 'InProgress'] });
    const out = await gate({ plan: both, cd: cd.port })(eventOf('READY'), lambdaContext(5_000));
    expect(out).toMatchObject({ verdict: 'pass', result: 'not-waiting' });
    expect(cd.continued).toEqual([]);
  });

  it('continues a rollback deployment without running its checks', async () => {
    const cd = fakeCodeDeploy({ creator: 'autoRollback' });
    const plan = alarmsPlan({ ReadyWait: 'alarms' });
    const out = await gate({ plan, cd: cd.port, alarm: 'ALARM' })(eventOf('READY'), lambdaContext(5_000));
    expect(out).toMatchObject({ verdict: 'pass', result: 'continued', reasons: ['rollback deployment: not blocked'] });
  });

  it("stops the deployment when the ReadyWait schedule cannot fit in the deployment's ready wait", async () => {
    const cd = fakeCodeDeploy({ readyWaitMinutes: 1 });
    const plan = alarmsPlan({ ReadyWait: 'alarms' }, 10, '1m');
    const out = await gate({ plan, cd: cd.port })(eventOf('READY'), lambdaContext(5_000));
    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out.reasons.join()).toMatch(/deploymentReadyOption\.waitTimeInMinutes/);
  });

  it('builds the context from the deployment and its ECS target', async () => {
    const t = trigger(fakeCodeDeploy().port);
    const input = t.read(eventOf('READY'));
    if ('kind' in input && input.kind === 'ignored') throw new Error('expected READY to be taken');
    const run = gateRun(both);
    const opened = await t.open(input as never, run);
    if (opened.kind !== 'open') throw new Error(`expected the wait to open, got ${opened.kind}`);
    const context = await t.context(input as never, opened.hook, { key: 'ReadyWait', checks: [] }, run);
    expect(context).toMatchObject({
      hook: 'ReadyWait',
      deploymentId,
      applicationName: 'app',
      deploymentGroupName: 'group',
      cluster: 'my-cluster',
      service: 'my-service',
      region: 'us-east-1',
    });
  });

  describe('the termination wait', () => {
    it('ignores START when the deployment keeps the original task set alive (no termination wait)', async () => {
      const cd = fakeCodeDeploy({ statuses: ['InProgress'], terminationAction: 'KEEP_ALIVE' });
      const out = await gate({ plan: both, cd: cd.port })(eventOf('START'), lambdaContext(5_000));
      expect(out).toMatchObject({ wait: 'TERMINATION_WAIT', result: 'ignored' });
      expect(out.reasons.join()).toMatch(/no termination wait configured/);
    });

    it('ignores START when the plan does not gate the termination wait', async () => {
      const cd = fakeCodeDeploy({ statuses: ['InProgress'] });
      const out = await gate({ plan: alarmsPlan({ ReadyWait: 'none' }), cd: cd.port })(
        eventOf('START'),
        lambdaContext(5_000),
      );
      expect(out).toMatchObject({ result: 'ignored' });
      expect(out.reasons.join()).toMatch(/no TerminationWait entry/);
    });

    it('runs the TerminationWait checks, not the ReadyWait ones, once the ECS target has Succeeded', async () => {
      const cd = fakeCodeDeploy({ statuses: ['InProgress'], targetStatus: 'Succeeded' });
      const plan = alarmsPlan({ ReadyWait: 'alarms', TerminationWait: 'none' });
      const out = await gate({ plan, cd: cd.port, alarm: 'ALARM' })(eventOf('START'), lambdaContext(5_000));
      expect(out).toMatchObject({ wait: 'TERMINATION_WAIT', verdict: 'pass', result: 'continued' });
      expect(cd.continued).toEqual([{ deploymentId, waitType: 'TERMINATION_WAIT' }]);
    });

    it('hands the watch to a durable execution named after the deployment and the wait, with its ids only', async () => {
      const durable = fakeDurable();
      const watching = fakeCodeDeploy({ statuses: ['InProgress'] });
      const first = await gate({ plan: both, cd: watching.port, durable: durable.port })(
        eventOf('START'),
        lambdaContext(1_500),
      );
      expect(first).toMatchObject({ wait: 'TERMINATION_WAIT', result: 'analysis-started' });
      expect(durable.starts).toHaveLength(1);
      const payload = durable.starts[0]?.payload as { trigger: string; event: unknown };
      expect(payload.trigger).toBe('codedeploy-wait-gate');
      expect(readWaitInput(payload.event)).toEqual({ deploymentId, state: 'START', detailType: stateChange });
      expect(watching.continued).toEqual([]);
      expect(watching.stopped).toEqual([]);
    });

    it('stops the deployment, naming GREENLIGHT_DURABLE_FUNCTION, when the watch has no durable function to run on', async () => {
      const cd = fakeCodeDeploy({ statuses: ['InProgress'] });
      const out = await gate({ plan: both, cd: cd.port })(eventOf('START'), lambdaContext(1_500));
      expect(out).toMatchObject({ wait: 'TERMINATION_WAIT', verdict: 'fail', result: 'stopping' });
      expect(out.reasons.join()).toMatch(/GREENLIGHT_DURABLE_FUNCTION/);
      expect(cd.stopped).toEqual([deploymentId]);
    });

    it('stops the deployment, naming the setting, when the watch cannot run as configured', async () => {
      const cd = fakeCodeDeploy({ statuses: ['InProgress'] });
      const out = await gate({ plan: both, cd: cd.port, pollInterval: 'often' })(
        eventOf('START'),
        lambdaContext(5_000),
      );
      expect(out).toMatchObject({ wait: 'TERMINATION_WAIT', verdict: 'fail', result: 'stopping' });
      expect(out.reasons.join()).toMatch(/^GREENLIGHT_WAIT_POLL_INTERVAL/);
      expect(cd.stopped).toEqual([deploymentId]);
    });

    it('fails the invocation, for Lambda to retry, when the deployment cannot be read at all', async () => {
      const cd = fakeCodeDeploy({ statuses: ['InProgress'] });
      const denied: CodeDeployPort = {
        ...cd.port,
        getDeployment: () => Promise.reject(Object.assign(new Error('denied'), { name: 'AccessDeniedException' })),
      };
      await expect(
        gate({ plan: both, cd: denied, durable: fakeDurable().port })(eventOf('START'), lambdaContext(1_500)),
      ).rejects.toThrow(/denied/);
      expect(cd.continued).toEqual([]);
      expect(cd.stopped).toEqual([]);
    });
  });

  describe('an analysis longer than one invocation', () => {
    const long = alarmsPlan({ ReadyWait: 'alarms' }, 3, '10s');

    it('starts a durable execution for a bake longer than the invocation, deciding nothing', async () => {
      const durable = fakeDurable();
      const cd = fakeCodeDeploy();
      const out = await gate({ plan: long, cd: cd.port, durable: durable.port })(
        eventOf('READY'),
        lambdaContext(1_500),
      );
      expect(out).toMatchObject({ wait: 'READY_WAIT', result: 'analysis-started' });
      expect(durable.starts.map((s) => (s.payload as { event: unknown }).event)).toEqual([
        { source: 'aws.codedeploy', 'detail-type': stateChange, detail: { deploymentId, state: 'READY' } },
      ]);
      expect(cd.continued).toEqual([]);
      expect(cd.stopped).toEqual([]);
    });

    it("stops the deployment, before starting anything, when the bake cannot end within the deployment's ready wait", async () => {
      const durable = fakeDurable();
      const cd = fakeCodeDeploy({ readyWaitMinutes: 1 });
      const plan = alarmsPlan({ ReadyWait: 'alarms' }, 10, '10s');
      const out = await gate({ plan, cd: cd.port, durable: durable.port })(eventOf('READY'), lambdaContext(1_500));
      expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
      expect(out.reasons.join()).toMatch(/deploymentReadyOption\.waitTimeInMinutes/);
      expect(durable.starts).toEqual([]);
    });
  });
});
