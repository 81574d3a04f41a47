import type { ProtonPort, ServicePipelineState } from '../../aws/proton.ts';
import type { Clock } from '../../core/types.ts';
import { deliver } from '../../gate/deliver.ts';
import { GateEventError } from '../../gate/errors.ts';
import { eventObject } from '../../gate/event.ts';
import type { Trigger } from '../../gate/trigger.ts';
import { checksForHook } from '../../plan/schema.ts';
import { resourceIds } from '../../spec/arn.ts';

/**
 * LEGACY: AWS Proton support ended on 2026-10-07. Kept small and off by default.
 *
 * On `AWS Proton Service Pipeline Status Change` with status IN_PROGRESS: confirms the pipeline
 * deployment is in progress, runs the plan's `ProtonPipeline` checks and, when they fail, cancels
 * that deployment with `CancelServicePipelineDeployment`, reporting what Proton made of it.
 */

export interface ProtonGuardPorts {
  readonly proton: ProtonPort;
  readonly clock: Clock;
  readonly settings: { readonly region?: string | undefined };
}

export type GuardResult =
  /** The event is not an IN_PROGRESS service pipeline status change. */
  | 'ignored'
  /** GetService shows no pipeline deployment in progress: a duplicate or stale event. */
  | 'not-in-progress'
  /** The checks passed: the deployment goes on. */
  | 'passed'
  /** CancelServicePipelineDeployment outcomes: CANCELLED, FAILED, SUCCEEDED (no effect), still CANCELLING. */
  | 'cancelled'
  | 'failed'
  | 'no-effect'
  | 'cancelling'
  /** The deployment finished before the cancel: nothing left to cancel. */
  | 'already-finished'
  /** A newer deployment replaced the one checked: it is not cancelled on the old one's verdict. */
  | 'superseded';

export interface GuardOutcome {
  readonly serviceName: string;
  readonly verdict?: 'pass' | 'fail';
  readonly result: GuardResult;
  /** The pipeline's deployment status as Proton last reported it. */
  readonly pipelineStatus?: string;
  readonly reasons: readonly string[];
}

export const servicePipelineStatusChange = 'AWS Proton Service Pipeline Status Change';
const planKey = 'ProtonPipeline';
const namePattern = /^[0-9A-Za-z]+[0-9A-Za-z_-]{0,99}$/;
const cancellingPollMs = 1_000;

type Input = { readonly serviceName: string };
type Guarded = Omit<GuardOutcome, 'serviceName'>;

/**
 * LEGACY guard: on an IN_PROGRESS service pipeline status change, confirms with GetService that the
 * pipeline deployment still runs, runs the plan's `ProtonPipeline` checks in one invocation, and
 * cancels that deployment (only that one, only while it runs) when they fail.
 */
export function protonPipelineGuardTrigger(
  ports: ProtonGuardPorts,
): Trigger<Input, ServicePipelineState, Guarded, GuardOutcome> {
  const { proton } = ports;
  return {
    name: 'proton-pipeline-guard',
    read(event) {
      const input = readPipelineEvent(event);
      const { serviceName } = input;
      if (input.detailType !== undefined && input.detailType !== servicePipelineStatusChange) {
        return { kind: 'ignored', subject: serviceName, reason: `detail-type ${input.detailType} is not guarded` };
      }
      if (input.status !== 'IN_PROGRESS') {
        return { kind: 'ignored', subject: serviceName, reason: `status ${input.status} is not IN_PROGRESS` };
      }
      return { serviceName };
    },
    scope: ({ serviceName }) => ({
      logKeys: { protonService: serviceName },
      scope: { stage: planKey, group: serviceName },
    }),

    async open({ serviceName }, run) {
      const seen = await proton.getServicePipeline(serviceName, run.signal);
      if (seen.deploymentStatus !== 'IN_PROGRESS') {
        return {
          kind: 'closed',
          warn: true,
          result: 'not-in-progress',
          reason: `pipeline deployment is ${seen.deploymentStatus ?? 'absent'}, not IN_PROGRESS: a duplicate or stale event`,
          note: status(seen),
        };
      }
      run.scope.deploymentId = seen.deploymentId;
      return { kind: 'open', hook: seen };
    },
    rollback: async () => undefined,
    checks: async (_input, _seen, run) => checksForHook(await run.loadPlan(run.signal), planKey),
    context: async ({ serviceName }) => ({
      hook: planKey,
      protonServiceName: serviceName,
      region: ports.settings.region,
    }),
    state: { kind: 'none', limits: 'proton-pipeline-guard' },

    async deliver(verdict, { input, hook: seen }, _run, by) {
      if (verdict.status === 'pass') {
        return {
          kind: 'delivered',
          decision: 'continue',
          delivery: 'passed',
          detail: { verdict: 'pass', result: 'passed', reasons: verdict.reasons },
        };
      }
      const done = await cancel(ports, input.serviceName, seen, by);
      return {
        kind: 'delivered',
        decision: 'cancel',
        delivery: done.result,
        detail: { verdict: 'fail', ...done, reasons: [...verdict.reasons, ...done.reasons] },
      };
    },

    answer(outcome) {
      switch (outcome.kind) {
        case 'ignored':
          return { serviceName: outcome.subject ?? '', result: 'ignored', reasons: [outcome.reason] };
        case 'closed':
          return {
            serviceName: outcome.input.serviceName,
            result: 'not-in-progress',
            ...outcome.note,
            reasons: [outcome.reason],
          };
        case 'handed-on':
          throw new Error('the Proton guard never hands on');
        case 'decided':
          return { serviceName: outcome.input.serviceName, ...outcome.delivery.detail };
      }
    },
  };
}

type Cancelled = Pick<GuardOutcome, 'result' | 'pipelineStatus' | 'reasons'>;

async function cancel(
  deps: ProtonGuardPorts,
  serviceName: string,
  seen: ServicePipelineState | undefined,
  by: number,
): Promise<Cancelled> {
  const { proton, clock } = deps;
  const read = () => deliver((signal) => proton.getServicePipeline(serviceName, signal), by, clock);
  // Cancel only the deployment that was checked, and only while it runs.
  const before = await read();
  if (before.deploymentStatus !== 'IN_PROGRESS') return finished(before);
  if (seen?.deploymentId && before.deploymentId && before.deploymentId !== seen.deploymentId) {
    return {
      result: 'superseded',
      ...status(before),
      reasons: [`deployment ${seen.deploymentId} was replaced by ${before.deploymentId}: not cancelled`],
    };
  }
  let answer: ServicePipelineState;
  try {
    answer = await deliver((signal) => proton.cancelServicePipelineDeployment(serviceName, signal), by, clock);
  } catch (error) {
    // Proton refuses to cancel what is no longer in progress: tell that apart from a real failure.
    const after = await read();
    if (after.deploymentStatus !== 'IN_PROGRESS') return finished(after);
    throw error;
  }
  let current = answer.deploymentStatus;
  // CANCELLING settles shortly after: look again while there is time, to report how it ended.
  while (current === 'CANCELLING' && clock.now() + cancellingPollMs < by) {
    await clock.sleep(cancellingPollMs, AbortSignal.timeout(cancellingPollMs + 100));
    current = (await read()).deploymentStatus;
  }
  const [result, said] = cancelOutcomes[current ?? ''] ?? cancelOutcomes.CANCELLING;
  return {
    result,
    ...(current ? { pipelineStatus: current } : {}),
    reasons: [`${said} (status ${current ?? 'unknown'})`],
  };
}

/** What the pipeline's status after CancelServicePipelineDeployment means, as the API reference documents it. */
const cancelOutcomes: Readonly<Record<string, readonly [GuardResult, string]>> & {
  readonly CANCELLING: readonly [GuardResult, string];
} = {
  CANCELLED: ['cancelled', 'Proton cancelled the pipeline deployment'],
  FAILED: ['failed', 'the cancellation failed and Proton marked the pipeline deployment FAILED'],
  SUCCEEDED: ['no-effect', 'the pipeline deployment had already succeeded: the cancellation had no effect'],
  CANCELLING: ['cancelling', 'Proton is still cancelling the pipeline deployment'],
};

function finished(state: ServicePipelineState): Cancelled {
  return {
    result: 'already-finished',
    ...status(state),
    reasons: [
      `the pipeline deployment had already ended (${state.deploymentStatus ?? 'no pipeline'}): nothing to cancel`,
    ],
  };
}

function status(state: ServicePipelineState): { pipelineStatus?: string } {
  return state.deploymentStatus ? { pipelineStatus: state.deploymentStatus } : {};
}

/**
 * Reads the service name and status of a service pipeline status change (unknown keys ignored):
 * `detail.serviceName`, else `detail.name`, else the `.../service/<name>/pipeline` resource ARN.
 */
export function readPipelineEvent(event: unknown): {
  serviceName: string;
  status: string;
  detailType?: string;
} {
  const record = eventObject(event, 256 * 1024);
  if (!record) {
    throw new GateEventError('malformed event: expected an AWS Proton service pipeline status change event');
  }
  const detail = record.detail;
  const d =
    detail !== null && typeof detail === 'object' && !Array.isArray(detail) ? (detail as Record<string, unknown>) : {};
  // The first `.../service/<name>/pipeline` resource ARN; the rest are not read.
  let fromArn: string | undefined;
  for (const r of Array.isArray(record.resources) ? record.resources : []) {
    const ids = resourceIds(r, 'proton', 'service', 2);
    if (ids?.[1] === 'pipeline') {
      fromArn = ids[0];
      break;
    }
  }
  const serviceName = [d.serviceName, d.name, fromArn].find((n): n is string => typeof n === 'string');
  if (serviceName === undefined || !namePattern.test(serviceName)) {
    throw new GateEventError('malformed event: no service name in detail.serviceName or the pipeline resource ARN');
  }
  const detailType = record['detail-type'];
  // Both end up in logs and answers: an oversized one is cut (it then matches nothing and is ignored).
  return {
    serviceName,
    status: typeof d.status === 'string' ? clip(d.status) : '',
    ...(typeof detailType === 'string' ? { detailType: clip(detailType) } : {}),
  };
}

function clip(text: string, max = 128): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
