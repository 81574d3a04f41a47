import { describe, expect, it } from 'vitest';
import type { CodeDeployTarget } from '../../lib/aws/codedeploy.ts';
import type { DurableHistoryEvent, DurableReadPort } from '../../lib/aws/durable-read.ts';
import { readStatus, type StatusSources } from '../../lib/status/snapshot.ts';

/** readStatus over in-memory ports: how each target finds its deployments and analyses. */

const now = Date.UTC(2026, 10, 30, 10);
const started = (deploymentId: string): DurableHistoryEvent[] => [
  {
    type: 'ExecutionStarted',
    at: now - 60_000,
    payload: JSON.stringify({
      v: 1,
      trigger: 'codedeploy-hook',
      event: { DeploymentId: deploymentId, LifecycleEventHookExecutionId: 'x' },
    }),
  },
];

function sources(o: { ecs?: StatusSources['ecs'] } = {}): StatusSources {
  const targets: Record<string, CodeDeployTarget> = {
    'd-ECS000001': {
      targetId: 'prod:orders',
      type: 'ECSTarget',
      lifecycleEvents: [{ name: 'AfterAllowTestTraffic', status: 'InProgress', startTime: now - 120_000 }],
      taskSets: [],
    },
    'd-LAMBDA001': {
      targetId: 'checkout:live',
      type: 'LambdaTarget',
      lifecycleEvents: [{ name: 'AfterAllowTraffic', status: 'Succeeded' }],
      taskSets: [],
    },
  };
  const durable: DurableReadPort = {
    list: async () =>
      ['d-ECS000001', 'd-LAMBDA001'].map((id, i) => ({
        arn: `arn:${id}`,
        name: `gl-${i}`,
        status: i === 0 ? 'RUNNING' : 'SUCCEEDED',
        startedAt: now - 60_000 + i,
      })),
    get: async (arn) => ({ arn, name: arn, status: 'RUNNING', input: started(arn.slice(4))[0]?.payload as string }),
    history: async (arn) => started(arn.slice(4)),
  };
  return {
    codedeploy: {
      getDeployment: async (id) => ({
        deploymentId: id,
        status: id === 'd-ECS000001' ? 'InProgress' : 'Succeeded',
        testListenerArns: [],
        prodListenerArns: [],
      }),
      listDeploymentTargets: async (id) => [targets[id]?.targetId ?? ''],
      getDeploymentTarget: async (id) => targets[id] as CodeDeployTarget,
    },
    durable: { port: durable, functionName: 'gl-durable' },
    ...(o.ecs ? { ecs: o.ecs } : {}),
  };
}

describe('readStatus', () => {
  it('--cluster/--service finds the CodeDeploy deployment whose target is cluster:service, and the hook it is at', async () => {
    const s = await readStatus({ kind: 'service', cluster: 'prod', service: 'orders' }, sources(), now);
    expect(s.analyses.map((a) => a.deploymentId)).toEqual(['d-ECS000001']);
    expect(s.deployments.map((d) => d.id)).toEqual(['d-ECS000001']);
    expect(s.judging).toEqual([{ deploymentId: 'd-ECS000001', hook: 'AfterAllowTestTraffic', execution: 'gl-0' }]);
    expect(s.deployments[0]?.targets[0]?.hooks[0]?.deadline).toBe(now - 120_000 + 3_600_000);
    expect(s).toMatchObject({ done: false, outcome: 'pending' });
  });

  it('--function finds the Lambda deployment whose target is function:alias; ended, nothing failed: pass', async () => {
    const s = await readStatus({ kind: 'function', functionName: 'checkout' }, sources(), now);
    expect(s.analyses.map((a) => a.deploymentId)).toEqual(['d-LAMBDA001']);
    expect(s).toMatchObject({ done: true, outcome: 'pass', judging: [] });
  });

  it('--cluster/--service also shows the newest ECS native deployment and the stage it is at; its rollback is a failure', async () => {
    const ecs: StatusSources['ecs'] = {
      latest: async () => ({
        serviceDeploymentArn: 'arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/orders/abc',
        status: 'ROLLBACK_SUCCESSFUL',
        lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
        rolledBack: true,
        hooks: [],
      }),
    };
    const s = await readStatus({ kind: 'service', cluster: 'prod', service: 'orders' }, sources({ ecs }), now);
    expect(s.deployments.map((d) => [d.source, d.status, d.stage])).toContainEqual([
      'ecs',
      'ROLLBACK_SUCCESSFUL',
      'POST_TEST_TRAFFIC_SHIFT',
    ]);
    expect(s.outcome).toBe('fail');
  });

  it('a failing ECS read is a note, not a crash; no durable function is a note too', async () => {
    const ecs: StatusSources['ecs'] = { latest: () => Promise.reject(new Error('AccessDeniedException: no')) };
    const { durable: _d, ...withoutDurable } = sources({ ecs });
    const s = await readStatus({ kind: 'service', cluster: 'prod', service: 'orders' }, withoutDurable, now);
    expect(s.notes.join('\n')).toMatch(/ECS service deployments could not be read: Error: AccessDeniedException/);
    expect(s.notes.join('\n')).toMatch(/no durable analysis function given/);
  });
});
