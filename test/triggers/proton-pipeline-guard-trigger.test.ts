import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ProtonPort, ServicePipelineState } from '../../lib/aws/proton.ts';
import { GateEventError } from '../../lib/gate/errors.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import type { Plan } from '../../lib/plan/schema.ts';
import { protonPipelineGuardTrigger } from '../../lib/triggers/proton/guard.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { alarmsPlan, clock, cloudwatch, gateRun, quietLog } from '../support/trigger-fakes.ts';

/**
 * The legacy Proton pipeline guard trigger with fake ports, in memory: which events it takes, how
 * GetService confirms the pipeline deployment runs, and when it calls CancelServicePipelineDeployment.
 * The lifecycle around it is runGate's (test/gate/run-gate.test.ts); end to end:
 * test/functions/proton-pipeline-guard.test.ts.
 */

const event = JSON.parse(
  readFileSync(
    new URL('../../events/proton-pipeline-guard/service-pipeline-in-progress.json', import.meta.url),
    'utf8',
  ),
) as Record<string, unknown>;

/**
 * Proton as GetService reports the pipeline: `reads` are the states in call order (the last repeats).
 * `cancel` is what CancelServicePipelineDeployment answers, or `throws`.
 */
function fakeProton(o: { reads?: Partial<ServicePipelineState>[]; cancel?: string | 'throws' } = {}) {
  const cancelled: string[] = [];
  let n = 0;
  const inProgress = { deploymentStatus: 'IN_PROGRESS', deploymentId: 'dep-1' };
  const port: ProtonPort = {
    getServicePipeline: async (serviceName) => {
      const reads = o.reads ?? [inProgress];
      const state = reads[Math.min(n, reads.length - 1)];
      n++;
      return { serviceName, ...state };
    },
    cancelServicePipelineDeployment: async (serviceName) => {
      cancelled.push(serviceName);
      if (o.cancel === 'throws') throw Object.assign(new Error('not in progress'), { name: 'ValidationException' });
      return { serviceName, deploymentStatus: o.cancel ?? 'CANCELLED', deploymentId: 'dep-1' };
    },
  };
  return { port, cancelled };
}

function trigger(proton: ProtonPort) {
  return protonPipelineGuardTrigger({ proton, clock, settings: { region: 'us-east-1' } });
}

function gate(o: { plan: Plan; proton: ProtonPort; alarm?: 'OK' | 'ALARM' }) {
  return runGate(trigger(o.proton), {
    loadPlan: async () => o.plan,
    checks: { clock, cloudwatch: cloudwatch(o.alarm ?? 'OK') },
    clock,
    log: quietLog,
    reserve: '200ms',
  });
}

const guarded = alarmsPlan({ ProtonPipeline: 'alarms', AfterAllowTraffic: 'none' });

describe('Proton pipeline guard trigger (fake ports, legacy)', () => {
  describe('reading the event', () => {
    const t = trigger(fakeProton().port);

    it('ignores a status other than IN_PROGRESS, and other detail types', () => {
      const detail = event.detail as Record<string, unknown>;
      expect(t.read({ ...event, detail: { ...detail, status: 'SUCCEEDED' } })).toEqual({
        kind: 'ignored',
        subject: 'my-service',
        reason: 'status SUCCEEDED is not IN_PROGRESS',
      });
      expect(t.read({ ...event, 'detail-type': 'AWS Proton Service Status Change' })).toMatchObject({
        kind: 'ignored',
        reason: 'detail-type AWS Proton Service Status Change is not guarded',
      });
    });

    it('reads the service name from the pipeline resource ARN when the detail has none', () => {
      expect(t.read({ ...event, detail: { status: 'IN_PROGRESS' } })).toEqual({ serviceName: 'my-service' });
    });

    it('throws a GateEventError on an event that names no service', () => {
      expect(() => t.read({ ...event, detail: { status: 'IN_PROGRESS' }, resources: [] })).toThrow(GateEventError);
      expect(() => t.read('not json')).toThrow(GateEventError);
    });
  });

  it('lets the deployment go on, cancelling nothing, when the ProtonPipeline checks pass', async () => {
    const proton = fakeProton();
    const out = await gate({ plan: guarded, proton: proton.port })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ serviceName: 'my-service', verdict: 'pass', result: 'passed' });
    expect(proton.cancelled).toEqual([]);
  });

  it('cancels the pipeline deployment with CancelServicePipelineDeployment when the checks fail', async () => {
    const proton = fakeProton();
    const out = await gate({ plan: guarded, proton: proton.port, alarm: 'ALARM' })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ verdict: 'fail', result: 'cancelled', pipelineStatus: 'CANCELLED' });
    expect(proton.cancelled).toEqual(['my-service']);
  });

  it('runs the ProtonPipeline entry, not another hook', async () => {
    const proton = fakeProton();
    const plan = alarmsPlan({ ProtonPipeline: 'none', AfterAllowTraffic: 'alarms' });
    const out = await gate({ plan, proton: proton.port, alarm: 'ALARM' })(event, lambdaContext(5_000));
    expect(out.result).toBe('passed');
  });

  it('does nothing when GetService shows no pipeline deployment in progress: a duplicate or stale event', async () => {
    const proton = fakeProton({ reads: [{ deploymentStatus: 'SUCCEEDED' }] });
    const out = await gate({ plan: guarded, proton: proton.port, alarm: 'ALARM' })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ result: 'not-in-progress', pipelineStatus: 'SUCCEEDED' });
    expect(proton.cancelled).toEqual([]);
  });

  it('does not cancel a newer deployment on the verdict of the one it checked', async () => {
    const proton = fakeProton({
      reads: [
        { deploymentStatus: 'IN_PROGRESS', deploymentId: 'dep-1' },
        { deploymentStatus: 'IN_PROGRESS', deploymentId: 'dep-2' },
      ],
    });
    const out = await gate({ plan: guarded, proton: proton.port, alarm: 'ALARM' })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ verdict: 'fail', result: 'superseded' });
    expect(proton.cancelled).toEqual([]);
  });

  it('reports a deployment that ended while the checks ran as already finished, cancelling nothing', async () => {
    const proton = fakeProton({
      reads: [{ deploymentStatus: 'IN_PROGRESS', deploymentId: 'dep-1' }, { deploymentStatus: 'SUCCEEDED' }],
    });
    const out = await gate({ plan: guarded, proton: proton.port, alarm: 'ALARM' })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ result: 'already-finished', pipelineStatus: 'SUCCEEDED' });
    expect(proton.cancelled).toEqual([]);
  });

  it('maps a refused cancel on a deployment that has since ended to already finished', async () => {
    const proton = fakeProton({
      reads: [
        { deploymentStatus: 'IN_PROGRESS', deploymentId: 'dep-1' },
        { deploymentStatus: 'IN_PROGRESS', deploymentId: 'dep-1' },
        { deploymentStatus: 'FAILED', deploymentId: 'dep-1' },
      ],
      cancel: 'throws',
    });
    const out = await gate({ plan: guarded, proton: proton.port, alarm: 'ALARM' })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ result: 'already-finished', pipelineStatus: 'FAILED' });
    expect(proton.cancelled).toEqual(['my-service']);
  });

  it('reports what Proton made of the cancel: SUCCEEDED means it had no effect', async () => {
    const proton = fakeProton({ cancel: 'SUCCEEDED' });
    const out = await gate({ plan: guarded, proton: proton.port, alarm: 'ALARM' })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ result: 'no-effect', pipelineStatus: 'SUCCEEDED' });
  });

  it('builds the context from the event: the Proton service name and the ProtonPipeline hook', async () => {
    const t = trigger(fakeProton().port);
    const run = gateRun(guarded);
    const input = { serviceName: 'my-service' };
    const opened = await t.open(input, run);
    if (opened.kind !== 'open') throw new Error(`expected the pipeline to open, got ${opened.kind}`);
    expect(run.scope.deploymentId).toBe('dep-1');
    expect(await t.context(input, opened.hook, { key: 'ProtonPipeline', checks: [] }, run)).toEqual({
      hook: 'ProtonPipeline',
      protonServiceName: 'my-service',
      region: 'us-east-1',
    });
  });
});
