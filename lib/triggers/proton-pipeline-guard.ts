import type { ProtonPort, ServicePipelineState } from '../aws/proton.ts';
import { buildRuns } from '../checks/build-runs.ts';
import { errorMessage } from '../core/analyze.ts';
import type { Verdict } from '../core/types.ts';
import { checksForHook } from '../plan/schema.ts';
import { minutes, scheduleProblem } from '../plan/trigger-limits.ts';
import { deadlineFor, type RemainingTime } from '../runtime/deadline.ts';
import { SettingError } from '../runtime/settings.ts';
import { resourceIds } from '../spec/arn.ts';
import { PlanError } from '../spec/errors.ts';
import type { TriggerDeps, TriggerSettings } from './deps.ts';
import { evaluate, failedVerdict, summarizeChecks } from './evaluate.ts';
import { eventObject } from './event.ts';
import { publishVerdict, verdictRecord } from './observe.ts';
import { deliver, ReportError } from './report.ts';

/**
 * LEGACY: AWS Proton support ended on 2026-10-07. Kept small and off by default.
 *
 * On `AWS Proton Service Pipeline Status Change` with status IN_PROGRESS: confirms the pipeline
 * deployment is in progress, runs the plan's `ProtonPipeline` checks and, when they fail, cancels
 * that deployment with `CancelServicePipelineDeployment`, reporting what Proton made of it.
 */

export interface ProtonGuardDeps extends TriggerDeps {
  readonly proton: ProtonPort;
  readonly settings: TriggerSettings;
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

/** An event from which no service name can be read: there is nothing to guard. */
export class ProtonEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtonEventError';
  }
}

export const servicePipelineStatusChange = 'AWS Proton Service Pipeline Status Change';
const planKey = 'ProtonPipeline';
const namePattern = /^[0-9A-Za-z]+[0-9A-Za-z_-]{0,99}$/;
const deliveryWindowMs = 30_000;
const cancellingPollMs = 1_000;

export function protonPipelineGuard(deps: ProtonGuardDeps) {
  return async (event: unknown, context: RemainingTime): Promise<GuardOutcome> => {
    const { log, clock } = deps;
    const input = readPipelineEvent(event);
    const { serviceName } = input;
    log.appendKeys({ protonService: serviceName });
    if (input.detailType !== undefined && input.detailType !== servicePipelineStatusChange) {
      log.info('not a service pipeline status change: nothing to do', { detailType: input.detailType });
      return { serviceName, result: 'ignored', reasons: [`detail-type ${input.detailType} is not guarded`] };
    }
    if (input.status !== 'IN_PROGRESS') {
      log.info('pipeline status needs no guard', { status: input.status });
      return { serviceName, result: 'ignored', reasons: [`status ${input.status} is not IN_PROGRESS`] };
    }

    const deadline = deadlineFor(context, clock.now(), deps.settings.reserve);
    let seen: ServicePipelineState | undefined;
    let verdict: Verdict;
    try {
      seen = await deps.proton.getServicePipeline(serviceName, deadline.signal);
      if (seen.deploymentStatus !== 'IN_PROGRESS') {
        const reason = `pipeline deployment is ${seen.deploymentStatus ?? 'absent'}, not IN_PROGRESS: a duplicate or stale event`;
        log.warn('nothing in progress: nothing to do', { reason });
        return { serviceName, result: 'not-in-progress', ...status(seen), reasons: [reason] };
      }
      log.appendKeys({ pipelineDeploymentId: seen.deploymentId });
      if (deadline.settingError) throw deadline.settingError;
      const plan = await deps.loadPlan(deadline.signal);
      const selected = checksForHook(plan, planKey);
      const runs = buildRuns(
        selected.checks,
        { hook: planKey, protonServiceName: serviceName, region: deps.settings.region },
        deps.checks,
      );
      // Refused before the first measurement (a `*` entry is not checked when the plan is parsed).
      const misfit = scheduleProblem('proton-pipeline-guard', selected.key, selected.checks);
      if (misfit !== undefined) throw new PlanError([misfit]);
      log.info('running checks', { planKey: selected.key, checks: runs.map((r) => r.name) });
      const analysis = await evaluate({
        runs,
        clock,
        signal: deadline.signal,
        log,
        suspendAt: deadline.analysisEndsAt,
        suspendCountsTimeout: false,
      });
      verdict =
        analysis.kind === 'verdict'
          ? analysis.verdict
          : failedVerdict(
              `the plan's schedule does not fit in this invocation (next measurement due in ${minutes(analysis.resumeAt - clock.now())}, after the ${minutes(deadline.analysisEndsAt - clock.now())} left): raise the function timeout or shorten the schedule`,
              clock.now(),
            );
    } catch (error) {
      const known = error instanceof PlanError || error instanceof SettingError;
      const reason = known ? (error as Error).message : `could not validate: ${errorMessage(error)}`;
      log.error('no verdict from the checks; cancelling', { reason, errorName: (error as Error)?.name });
      verdict = failedVerdict(reason, clock.now());
    } finally {
      deadline.dispose();
    }

    const pass = verdict.status === 'pass';
    log.info('verdict', {
      verdict: pass ? 'pass' : 'fail',
      analysis: verdict.status,
      reasons: verdict.reasons,
      checks: summarizeChecks(verdict.checks),
    });
    const published = (result: GuardResult) =>
      publishVerdict(deps, deadline.reportBy, () =>
        verdictRecord(
          'proton-pipeline-guard',
          verdict,
          { stage: planKey, group: serviceName, deploymentId: seen?.deploymentId },
          { decision: pass ? 'continue' : 'cancel', delivery: result },
        ),
      );
    if (pass) {
      await published('passed');
      return { serviceName, verdict: 'pass', result: 'passed', reasons: verdict.reasons };
    }
    try {
      const done = await cancel(deps, serviceName, seen, Math.min(deadline.reportBy, clock.now() + deliveryWindowMs));
      log.warn('pipeline deployment guarded', { result: done.result, pipelineStatus: done.pipelineStatus });
      await published(done.result);
      return { serviceName, verdict: 'fail', ...done, reasons: [...verdict.reasons, ...done.reasons] };
    } catch (error) {
      log.error('could not cancel the pipeline deployment', {
        error: errorMessage(error),
        errorName: (error as Error)?.name,
      });
      throw error instanceof ReportError ? error : new ReportError(errorMessage(error), { cause: error });
    }
  };
}

type Cancelled = Pick<GuardOutcome, 'result' | 'pipelineStatus' | 'reasons'>;

async function cancel(
  deps: ProtonGuardDeps,
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
    throw new ProtonEventError('malformed event: expected an AWS Proton service pipeline status change event');
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
    throw new ProtonEventError('malformed event: no service name in detail.serviceName or the pipeline resource ARN');
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
