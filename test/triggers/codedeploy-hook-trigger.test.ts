import { describe, expect, it } from 'vitest';
import type { CodeDeployDeployment, CodeDeployPort, HookStatus } from '../../lib/aws/codedeploy.ts';
import type { Clock } from '../../lib/core/types.ts';
import { GateEventError } from '../../lib/gate/errors.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import type { Log } from '../../lib/runtime/logger.ts';
import { codeDeployHookTrigger } from '../../lib/triggers/codedeploy/hook.ts';
import { lambdaContext } from '../support/lambda-context.ts';

/**
 * The CodeDeploy hook trigger with fake ports, in memory: what it reads, which hook it opens, how it
 * reports. The lifecycle around it is runGate's (test/gate/run-gate.test.ts); the end-to-end behaviour
 * against loopback AWS is test/functions/codedeploy-hook.test.ts.
 */

const clock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    }),
};
const log: Log = { debug() {}, info() {}, warn() {}, error() {}, appendKeys() {} };
// An explicit empty entry: no checks, so a verdict needs nothing but the hook.
const plan = parsePlan({ version: 1, hooks: { AfterAllowTestTraffic: [], BeforeInstall: [] } });

function fakeCodeDeploy(o: { creator?: string; inProgress?: string; already?: boolean } = {}) {
  const reported: { executionId: string; status: HookStatus }[] = [];
  const deployment: CodeDeployDeployment = {
    deploymentId: 'd-ABCDEFGH1',
    applicationName: 'app',
    deploymentGroupName: 'group',
    computePlatform: 'ECS',
    testListenerArns: [],
    prodListenerArns: [],
    ...(o.creator ? { creator: o.creator } : {}),
  };
  const port: CodeDeployPort = {
    getDeployment: async () => deployment,
    listDeploymentTargets: async () => ['cluster:service'],
    getDeploymentTarget: async (_id, targetId) => ({
      targetId,
      type: 'ECSTarget',
      lifecycleEvents: o.inProgress ? [{ name: o.inProgress, status: 'InProgress' }] : [],
      taskSets: [],
    }),
    putLifecycleEventHookStatus: async ({ executionId, status }) => {
      reported.push({ executionId, status });
      return o.already ? 'already-completed' : 'reported';
    },
    continueDeployment: () => Promise.reject(new Error('not a hook call')),
    stopDeploymentWithRollback: () => Promise.reject(new Error('not a hook call')),
  };
  return { port, reported };
}

function gate(codedeploy: CodeDeployPort, hook?: string) {
  return runGate(
    codeDeployHookTrigger({
      codedeploy,
      listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
      taskSets: { taskSetOrigins: () => Promise.reject(new Error('no task sets needed')) },
      clock,
      log,
      settings: { hook },
    }),
    { loadPlan: async () => plan, checks: { clock }, clock, log, reserve: '200ms' },
  );
}

const event = { DeploymentId: 'd-ABCDEFGH1', LifecycleEventHookExecutionId: 'exec-1' };

describe('CodeDeploy hook trigger (fake ports)', () => {
  it('opens the hook that is InProgress on the target and reports Succeeded once', async () => {
    const cd = fakeCodeDeploy({ inProgress: 'AfterAllowTestTraffic' });
    const out = await gate(cd.port)(event, lambdaContext(5_000));
    expect(out).toMatchObject({ status: 'Succeeded', delivery: 'reported', hook: 'AfterAllowTestTraffic' });
    expect(cd.reported).toEqual([{ executionId: 'exec-1', status: 'Succeeded' }]);
  });

  it('reports Failed, naming GREENLIGHT_HOOK, when no hook is InProgress', async () => {
    const cd = fakeCodeDeploy();
    const out = await gate(cd.port)(event, lambdaContext(5_000));
    expect(out.status).toBe('Failed');
    expect(out.reasons.join()).toMatch(/set GREENLIGHT_HOOK/);
    expect(cd.reported).toEqual([{ executionId: 'exec-1', status: 'Failed' }]);
  });

  it('takes the pinned hook from GREENLIGHT_HOOK over the target', async () => {
    const cd = fakeCodeDeploy({ inProgress: 'AfterAllowTestTraffic' });
    const out = await gate(cd.port, 'BeforeInstall')(event, lambdaContext(5_000));
    expect(out).toMatchObject({ status: 'Succeeded', hook: 'BeforeInstall' });
  });

  it('passes a rollback deployment without checks', async () => {
    const cd = fakeCodeDeploy({ creator: 'codeDeployRollback', inProgress: 'AfterAllowTestTraffic' });
    const out = await gate(cd.port)(event, lambdaContext(5_000));
    expect(out).toMatchObject({ status: 'Succeeded', reasons: ['rollback deployment: not blocked'] });
  });

  it('reports Failed, without reading the deployment, on a deployment id of the wrong form', async () => {
    const cd = fakeCodeDeploy({ inProgress: 'AfterAllowTestTraffic' });
    const out = await gate(cd.port)({ ...event, DeploymentId: 'not_a_deployment' }, lambdaContext(5_000));
    expect(out.status).toBe('Failed');
    expect(out.reasons.join()).toMatch(/DeploymentId is not of the form/);
  });

  it('answers a duplicate delivery as already-completed', async () => {
    const cd = fakeCodeDeploy({ inProgress: 'AfterAllowTestTraffic', already: true });
    const out = await gate(cd.port)(event, lambdaContext(5_000));
    expect(out.delivery).toBe('already-completed');
  });

  it('fails the invocation on an event without hook ids: nobody to report to', async () => {
    const cd = fakeCodeDeploy();
    await expect(gate(cd.port)({ hello: 'world' }, lambdaContext(5_000))).rejects.toBeInstanceOf(GateEventError);
    expect(cd.reported).toEqual([]);
  });
});
