import type { CodeDeployPort, CodeDeployTarget, HookStatus } from '../aws/codedeploy.ts';
import type { ListenerPort } from '../aws/elbv2.ts';
import type { TaskSetOriginPort } from '../aws/task-sets.ts';
import { buildRuns, usedPlaceholders } from '../checks/build-runs.ts';
import { errorMessage } from '../core/analyze.ts';
import type { Verdict } from '../core/types.ts';
import { checksForHook } from '../plan/schema.ts';
import { minutes, scheduleProblem } from '../plan/trigger-limits.ts';
import { deadlineFor, type RemainingTime } from '../runtime/deadline.ts';
import { SettingError } from '../runtime/settings.ts';
import { PlanError } from '../spec/errors.ts';
import { codeDeployHooks } from '../spec/hooks.ts';
import { resolveCodeDeployContext } from './codedeploy-context.ts';
import type { TriggerDeps, TriggerSettings } from './deps.ts';
import { evaluate, failedVerdict, summarizeChecks } from './evaluate.ts';
import { eventObject } from './event.ts';
import { deploymentGroup, publishVerdict, type VerdictScope, verdictRecord } from './observe.ts';
import { deliver, ReportError } from './report.ts';

/** The CodeDeploy hook event: `{DeploymentId, LifecycleEventHookExecutionId}`; other keys are ignored. */
export interface HookIds {
  readonly deploymentId: string;
  readonly executionId: string;
}

export interface CodeDeployHookDeps extends TriggerDeps {
  readonly codedeploy: CodeDeployPort;
  readonly listeners: ListenerPort;
  /** ECS DescribeTaskSets: tells green from blue when CodeDeploy omits the task set labels. */
  readonly taskSets: TaskSetOriginPort;
  readonly settings: TriggerSettings & {
    /** GREENLIGHT_HOOK: pins the hook instead of reading it from the deployment target. */
    readonly hook?: string | undefined;
  };
}

export interface HookOutcome {
  readonly deploymentId: string;
  readonly hook?: string;
  readonly status: HookStatus;
  readonly delivery: 'reported' | 'already-completed';
  readonly reasons: readonly string[];
}

/** An event from which the hook ids cannot be read: there is nothing to report to. */
export class HookEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookEventError';
  }
}

/** How long a failing report is retried before the invocation fails loudly (and Lambda retries it). */
const reportRetryWindowMs = 30_000;
const idPattern = /^[A-Za-z0-9_-]{1,128}$/;
const deploymentIdPattern = /^d-[A-Z0-9]{9}$/;

/** Reads the ids; `problems` lists what is off about an event whose ids could still be read. */
export function readHookIds(event: unknown): HookIds & { problems: string[] } {
  const record = eventObject(event, 64 * 1024);
  if (!record) {
    throw new HookEventError('malformed event: expected an object with DeploymentId and LifecycleEventHookExecutionId');
  }
  const deploymentId = record.DeploymentId;
  const executionId = record.LifecycleEventHookExecutionId;
  if (
    typeof deploymentId !== 'string' ||
    typeof executionId !== 'string' ||
    !idPattern.test(deploymentId) ||
    !idPattern.test(executionId)
  ) {
    throw new HookEventError('malformed event: DeploymentId and LifecycleEventHookExecutionId must be present as ids');
  }
  const problems: string[] = [];
  if (!deploymentIdPattern.test(deploymentId))
    problems.push('malformed event: DeploymentId is not of the form d-XXXXXXXXX');
  return { deploymentId, executionId, problems };
}

/**
 * Handles one CodeDeploy lifecycle hook invocation: decides Succeeded or Failed and reports it
 * exactly once, before the Lambda deadline. Every error before the report becomes a Failed report.
 */
export function codeDeployHook(deps: CodeDeployHookDeps) {
  return async (event: unknown, context: RemainingTime): Promise<HookOutcome> => {
    const { log, clock } = deps;
    const ids = readHookIds(event);
    log.appendKeys({ deploymentId: ids.deploymentId });
    const deadline = deadlineFor(context, clock.now(), deps.settings.reserve);
    let hook: string | undefined;
    const scope: VerdictScope = { deploymentId: ids.deploymentId };
    let verdict: Verdict;
    try {
      if (deadline.settingError) throw deadline.settingError;
      const decided = await decide(deps, ids, deadline.signal, deadline.analysisEndsAt, scope, (h) => {
        hook = h;
        scope.stage = h;
        log.appendKeys({ hook: h });
      });
      verdict = decided;
    } catch (error) {
      const known = error instanceof PlanError || error instanceof SettingError;
      const reason = known ? (error as Error).message : `could not validate: ${errorMessage(error)}`;
      log.error('no verdict from the checks; reporting Failed', { reason, errorName: (error as Error)?.name });
      verdict = failedVerdict(reason, clock.now());
    } finally {
      deadline.dispose();
    }

    const status: HookStatus = verdict.status === 'pass' ? 'Succeeded' : 'Failed';
    log.info('verdict', {
      verdict: status,
      analysis: verdict.status,
      reasons: verdict.reasons,
      durationMs: verdict.finishedAt - verdict.startedAt,
      checks: summarizeChecks(verdict.checks),
    });
    try {
      const delivery = await deliver(
        (signal) =>
          deps.codedeploy.putLifecycleEventHookStatus(
            { deploymentId: ids.deploymentId, executionId: ids.executionId, status },
            signal,
          ),
        Math.min(deadline.reportBy, clock.now() + reportRetryWindowMs),
        clock,
      );
      if (delivery === 'already-completed') {
        log.warn('hook status was already reported: duplicate delivery, nothing to do', { status });
      } else {
        log.info('reported hook status', { status });
      }
      await publishVerdict(deps, deadline.reportBy, () =>
        verdictRecord('codedeploy-hook', verdict, scope, { decision: status, delivery }),
      );
      const outcome = { deploymentId: ids.deploymentId, status, delivery, reasons: verdict.reasons };
      return hook === undefined ? outcome : { ...outcome, hook };
    } catch (error) {
      log.error('could not report the hook status to CodeDeploy', {
        status,
        error: errorMessage(error),
        errorName: (error as Error)?.name,
      });
      throw error instanceof ReportError ? error : new ReportError(errorMessage(error), { cause: error });
    }
  };
}

async function decide(
  deps: CodeDeployHookDeps,
  ids: HookIds & { problems: string[] },
  signal: AbortSignal,
  analysisEndsAt: number,
  scope: VerdictScope,
  onHook: (hook: string) => void,
): Promise<Verdict> {
  const { clock, log } = deps;
  if (ids.problems.length > 0) return failedVerdict(ids.problems.join('; '), clock.now());
  // Independent reads, in parallel: each round trip is time the verdict waits for. Failures are
  // reported in this order, as if read one after the other.
  const [planRead, deploymentRead, targetsRead] = await Promise.allSettled([
    deps.loadPlan(signal),
    deps.codedeploy.getDeployment(ids.deploymentId, signal),
    deps.codedeploy.listDeploymentTargets(ids.deploymentId, signal),
  ]);
  const plan = settled(planRead);
  const deployment = settled(deploymentRead);
  scope.group = deploymentGroup(deployment);
  const targetIds = settled(targetsRead);
  const target =
    targetIds[0] === undefined
      ? undefined
      : await deps.codedeploy.getDeploymentTarget(ids.deploymentId, targetIds[0], signal);

  const hook = deps.settings.hook?.trim() || hookInProgress(target);
  if (!hook) {
    return failedVerdict(
      'cannot tell which lifecycle hook is running: no hook is InProgress on the deployment target; set GREENLIGHT_HOOK to pin it',
      clock.now(),
    );
  }
  onHook(hook);
  if (deployment.creator === 'autoRollback' || deployment.creator === 'codeDeployRollback') {
    log.warn('deployment is a rollback: passing without checks, a validator never blocks a rollback', {
      creator: deployment.creator,
    });
    return {
      status: 'pass',
      reasons: ['rollback deployment: not blocked'],
      checks: [],
      startedAt: clock.now(),
      finishedAt: clock.now(),
    };
  }

  const selected = checksForHook(plan, hook);
  const context = await resolveCodeDeployContext(
    { listeners: deps.listeners, taskSets: deps.taskSets, region: deps.settings.region },
    { deployment, target, hook, needed: usedPlaceholders(selected.checks) },
    signal,
  );
  const runs = buildRuns(selected.checks, context, deps.checks);
  // Refused before the first measurement (a `*` entry is not checked when the plan is parsed).
  const misfit = scheduleProblem('codedeploy-hook', selected.key, selected.checks);
  if (misfit !== undefined) return failedVerdict(misfit, clock.now());
  log.info('running checks', { planKey: selected.key, checks: runs.map((r) => r.name) });
  // CodeDeploy cannot call back: a measurement that starts in time runs until the deadline cuts it.
  const analysis = await evaluate({ runs, clock, signal, log, suspendAt: analysisEndsAt, suspendCountsTimeout: false });
  if (analysis.kind === 'suspended') {
    // The schedule does not fit in what is left of this invocation: fail closed, saying so.
    return failedVerdict(
      `the plan's schedule does not fit in this invocation (next measurement due in ${minutes(analysis.resumeAt - clock.now())}, after the ${minutes(analysisEndsAt - clock.now())} left): raise the function timeout or shorten the schedule`,
      clock.now(),
    );
  }
  return analysis.verdict;
}

function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

function hookInProgress(target: CodeDeployTarget | undefined): string | undefined {
  const known: readonly string[] = codeDeployHooks;
  return target?.lifecycleEvents.find((e) => e.status === 'InProgress' && known.includes(e.name))?.name;
}
