import { usedPlaceholders } from '../checks/build-runs.ts';
import { errorMessage } from '../core/analyze.ts';
import type { Verdict } from '../core/types.ts';
import { checksForHook, type Plan, parsePlan, parsePlanText } from '../plan/schema.ts';
import { type Deadline, deadlineFor, type RemainingTime } from '../runtime/deadline.ts';
import type { Log } from '../runtime/logger.ts';
import { SettingError } from '../runtime/settings.ts';
import { PlanError } from '../spec/errors.ts';
import {
  type CarriedState,
  decodeState,
  encodeState,
  maxAnalysisMs,
  planDeadline,
  planFingerprint,
  StateError,
  stateKeyOnce,
} from './carried-state.ts';
import type { CarriedStateDeps, TriggerDeps, TriggerSettings } from './deps.ts';
import { type EcsContextDeps, resolveEcsContext } from './ecs-context.ts';
import { EcsEventError, type EcsHookEvent, readEcsHookEvent } from './ecs-event.ts';
import { summarizeChecks } from './evaluate.ts';
import { runPlannedLeg } from './leg.ts';
import { answerBy, ecsServiceGroup, publishVerdict, type VerdictScope, verdictRecord } from './observe.ts';

export type EcsHookStatus = 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';

/** What an ECS `AWS_LAMBDA` lifecycle hook returns. ECS rolls back on FAILED, and on anything it cannot read. */
export interface EcsHookResponse {
  readonly hookStatus: EcsHookStatus;
  /** Seconds until ECS calls again, with IN_PROGRESS. */
  readonly callBackDelay?: number;
  readonly hookDetails?: Record<string, unknown>;
}

export interface EcsLifecycleHookDeps extends EcsContextDeps, TriggerDeps, CarriedStateDeps {
  readonly settings: TriggerSettings;
}

/** hookDetails keys greenlight reads and writes; every other key is the service's own and passed through. */
export const hookDetailsKeys = {
  /** A plan for this service (an object, or YAML/JSON text); takes precedence over the function's plan. */
  plan: 'greenlightPlan',
  /** The analysis carried from one invocation to the next (IN_PROGRESS). */
  state: 'greenlightState',
  /** The verdict and its reasons, on SUCCEEDED and FAILED. */
  result: 'greenlightResult',
} as const;

const maxCallBackDelaySeconds = 900;
const maxReasons = 10;
const maxReasonChars = 500;

/**
 * Handles one invocation of an ECS native lifecycle hook. Never throws: every path answers SUCCEEDED,
 * FAILED or IN_PROGRESS, and every FAILED carries its reason in `hookDetails.greenlightResult` and the log.
 */
export function ecsLifecycleHook(deps: EcsLifecycleHookDeps) {
  return async (event: unknown, context: RemainingTime): Promise<EcsHookResponse> => {
    const scope: Seen = {};
    let answer: EcsHookResponse;
    try {
      answer = await handle(deps, event, context, scope);
    } catch (error) {
      const reason = `internal error: ${errorMessage(error)}`;
      deps.log.error('unexpected error; answering FAILED', { reason, errorName: (error as Error)?.name });
      answer = finalAnswer('FAILED', 'error', [reason]);
    }
    if (answer.hookStatus !== 'IN_PROGRESS') {
      const now = deps.clock.now();
      await publishVerdict(deps, answerBy(context, now), () => answerRecord(answer, scope, now));
    }
    return answer;
  };
}

/** What the invocation learnt on its way to the answer, for the verdict record. */
type Seen = VerdictScope & { verdict?: Verdict };

function answerRecord(answer: EcsHookResponse, seen: Seen, now: number) {
  const result = answer.hookDetails?.[hookDetailsKeys.result] as { verdict?: string; reasons?: string[] } | undefined;
  const verdict = seen.verdict ?? {
    status: answer.hookStatus === 'SUCCEEDED' ? 'pass' : 'error',
    reasons: result?.reasons ?? [],
    checks: [],
    startedAt: now,
    finishedAt: now,
  };
  return verdictRecord('ecs-lifecycle-hook', verdict, seen, {
    decision: answer.hookStatus,
    delivery: 'returned',
    ...(result?.verdict ? { analysis: result.verdict } : {}),
  });
}

async function handle(
  deps: EcsLifecycleHookDeps,
  event: unknown,
  context: RemainingTime,
  seen: Seen,
): Promise<EcsHookResponse> {
  const { log, clock } = deps;
  let hook: EcsHookEvent;
  try {
    hook = readEcsHookEvent(event);
  } catch (error) {
    if (!(error instanceof EcsEventError)) throw error;
    const reason = `malformed event: ${error.message}`;
    log.error('cannot understand the hook event; answering FAILED', { reason });
    return finalAnswer('FAILED', 'error', [reason]);
  }
  seen.stage = hook.lifecycleStage;
  seen.group = ecsServiceGroup(hook.serviceArn);
  seen.deploymentId = hook.resourceArn;
  log.appendKeys({
    lifecycleStage: hook.lifecycleStage,
    ...(hook.resourceArn ? { serviceDeploymentArn: hook.resourceArn } : { serviceArn: hook.serviceArn }),
    ...(hook.executionId ? { executionId: hook.executionId } : {}),
  });
  const deadline = deadlineFor(context, clock.now(), deps.settings.reserve);
  try {
    const rollback = await detectRollback(deps, hook, deadline.signal);
    if (rollback) {
      log.warn('rollback in progress: answering SUCCEEDED without checks, a validator never blocks a rollback', {
        reason: rollback,
      });
      return finalAnswer('SUCCEEDED', 'skipped', [`rollback in progress, not blocked: ${rollback}`]);
    }
    // After the rollback check: a misconfigured validator still never blocks a rollback.
    if (deadline.settingError) throw deadline.settingError;
    return await decide(deps, hook, deadline, seen);
  } catch (error) {
    const reason =
      error instanceof PlanError || error instanceof StateError || error instanceof SettingError
        ? error.message
        : `could not validate: ${errorMessage(error)}`;
    log.error('no verdict from the checks; answering FAILED', { reason, errorName: (error as Error)?.name });
    return finalAnswer('FAILED', 'error', [reason]);
  } finally {
    deadline.dispose();
  }
}

async function decide(
  deps: EcsLifecycleHookDeps,
  hook: EcsHookEvent,
  invocation: Deadline,
  seen: Seen,
): Promise<EcsHookResponse> {
  const { clock, log } = deps;
  const { signal, analysisEndsAt } = invocation;
  const stage = hook.lifecycleStage;
  const plan = await planFor(deps, hook, signal);
  const selected = checksForHook(plan, stage);
  const binding = {
    fingerprint: planFingerprint(selected.checks, stage),
    // The state belongs to this deployment's stage: state copied from another is refused.
    bind: `${hook.resourceArn ?? `${hook.serviceArn}|${hook.targetServiceRevisionArn}`}|${stage}`,
  };
  const now = clock.now();
  const key = stateKeyOnce(deps.stateKey, () => AbortSignal.timeout(Math.max(1, invocation.reportBy - clock.now())));
  const raw = hook.hookDetails?.[hookDetailsKeys.state];
  let carried: CarriedState | undefined;
  let deadline: number;
  // hookDetails come back from ECS, but whoever configures the service's hooks writes the first ones:
  // the state is authenticated, so nobody can hand the analysis counters it did not earn.
  if (raw !== undefined) {
    carried = decodeState(raw, { ...binding, checks: selected.checks }, now, await key.get());
    deadline = carried.deadline;
  } else {
    const fresh = planDeadline(selected.checks, now);
    if (fresh.scheduleMs > maxAnalysisMs) {
      throw new PlanError([
        `hooks.${selected.key}: the schedule takes up to ${Math.round(fresh.scheduleMs / 60_000)} min, longer than the ${maxAnalysisMs / 3_600_000} h an ECS hook analysis may run`,
      ]);
    }
    deadline = fresh.deadline;
    // State will be written unless the schedule fits this invocation: read the key while the checks run.
    if (now + fresh.scheduleMs > analysisEndsAt) key.prefetch();
  }
  const context = await resolveEcsContext(
    deps,
    {
      stage,
      serviceArn: hook.serviceArn,
      serviceDeploymentArn: hook.resourceArn,
      targetServiceRevisionArn: hook.targetServiceRevisionArn,
      testTrafficWeight: hook.testTrafficWeights[hook.targetServiceRevisionArn],
      productionTrafficWeight: hook.productionTrafficWeights[hook.targetServiceRevisionArn],
      region: deps.settings.region,
    },
    usedPlaceholders(selected.checks),
    signal,
  );
  const { leg, legs } = await runPlannedLeg({
    selected,
    context,
    checkDeps: deps.checks,
    clock,
    log,
    signal,
    analysisEndsAt,
    deadline,
    carried,
  });
  if (leg.kind === 'verdict') {
    seen.verdict = leg.verdict;
    return verdictAnswer(log, leg.verdict);
  }

  const state = encodeState({ analysis: leg.analysis, deadline, legs }, binding, await key.get());
  const callBackDelay = Math.min(maxCallBackDelaySeconds, Math.max(1, Math.ceil((leg.resumeAt - clock.now()) / 1000)));
  log.info('analysis continues in a later invocation: answering IN_PROGRESS', {
    callBackDelay,
    invocation: legs,
    checks: summarizeChecks(leg.progress),
  });
  return {
    hookStatus: 'IN_PROGRESS',
    callBackDelay,
    hookDetails: { ...passThrough(hook.hookDetails), [hookDetailsKeys.state]: state },
  };
}

/** The service's own plan from hookDetails, else the function's. */
async function planFor(deps: EcsLifecycleHookDeps, hook: EcsHookEvent, signal: AbortSignal): Promise<Plan> {
  const given = hook.hookDetails?.[hookDetailsKeys.plan];
  if (given === undefined || given === null) return deps.loadPlan(signal);
  const source = `hookDetails.${hookDetailsKeys.plan}`;
  try {
    const plan = typeof given === 'string' ? await parsePlanText(given, source) : parsePlan(given);
    const problems = payloadPlanProblems(plan);
    if (problems.length > 0) throw new PlanError(problems.map((p) => `${source}.${p}`));
    return plan;
  } catch (error) {
    if (error instanceof PlanError) {
      throw new PlanError(
        error.issues.map((i) => (i.startsWith(source) ? i : `${source}: ${i}`)),
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * ECS re-runs the TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT hooks while rolling back, shifting traffic
 * away from the target revision. Seen first in the weights of the stage's own traffic (the target at 0%,
 * another revision above it); when the event does not say, in the deployment's status.
 */
async function detectRollback(
  deps: EcsLifecycleHookDeps,
  hook: EcsHookEvent,
  signal: AbortSignal,
): Promise<string | undefined> {
  const stage = hook.lifecycleStage;
  if (stage !== 'TEST_TRAFFIC_SHIFT' && stage !== 'PRODUCTION_TRAFFIC_SHIFT') return undefined;
  const kind = stage === 'TEST_TRAFFIC_SHIFT' ? 'test' : 'production';
  const weights = stage === 'TEST_TRAFFIC_SHIFT' ? hook.testTrafficWeights : hook.productionTrafficWeights;
  const target = weights[hook.targetServiceRevisionArn];
  const others = Object.entries(weights).filter(([arn, w]) => arn !== hook.targetServiceRevisionArn && w > 0);
  if (target === 0 && others.length > 0) {
    return `${kind} traffic shifts away from the target revision (0%) back to ${others.map(([arn]) => arn.split('/').at(-1)).join(', ')}`;
  }
  if (!hook.resourceArn) return undefined;
  try {
    const deployment = await deps.ecs.describeServiceDeployment(hook.resourceArn, signal);
    if (deployment?.status?.startsWith('ROLLBACK')) return `the service deployment is ${deployment.status}`;
    if (deployment?.rolledBack) return 'the service deployment has a rollback';
  } catch (error) {
    // The weights did not say rollback; without the status, validate as usual.
    deps.log.warn('cannot read the service deployment status to rule out a rollback', {
      error: errorMessage(error),
      errorName: (error as Error)?.name,
    });
  }
  return undefined;
}

function verdictAnswer(log: Log, verdict: Verdict): EcsHookResponse {
  const status: EcsHookStatus = verdict.status === 'pass' ? 'SUCCEEDED' : 'FAILED';
  log.info('verdict', {
    verdict: status,
    analysis: verdict.status,
    reasons: verdict.reasons,
    checks: summarizeChecks(verdict.checks),
  });
  return finalAnswer(status, verdict.status, verdict.reasons);
}

function finalAnswer(status: 'SUCCEEDED' | 'FAILED', verdict: string, reasons: readonly string[]): EcsHookResponse {
  return {
    hookStatus: status,
    hookDetails: {
      [hookDetailsKeys.result]: {
        verdict,
        reasons: reasons
          .slice(0, maxReasons)
          .map((r) => (r.length > maxReasonChars ? `${r.slice(0, maxReasonChars - 1)}…` : r)),
      },
    },
  };
}

/** The service's own hookDetails keys, returned with IN_PROGRESS so that they come back on the next call. */
function passThrough(details: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details ?? {})) {
    if (key !== hookDetailsKeys.state && key !== hookDetailsKeys.result) out[key] = value;
  }
  return out;
}

/**
 * Address ranges a plan that comes with the payload may not open: the function's own host, the cloud's,
 * and the private network the function may sit in (the deployment's own listeners resolve to private
 * addresses without it, as internal load balancers do).
 */
const payloadForbiddenAddresses: readonly string[] = ['loopback', 'private', 'link-local', 'metadata'];

/**
 * What a plan carried in the invocation's payload (hookDetails) may not do. Anyone allowed to invoke the
 * function can write that payload, not only ECS: such a plan must not read the function's secrets (it
 * could send them to a host it allows) nor probe the function's own host, its private network (any method,
 * any body), link-local or metadata addresses; the deployment's own listeners need none of these.
 * Those need the function's own plan (GREENLIGHT_PLAN, _FILE or _PARAMETER), which only its operator writes.
 */
export function payloadPlanProblems(plan: Plan): string[] {
  const problems: string[] = [];
  if (plan.secrets !== undefined) {
    problems.push(
      "secrets: a plan in hookDetails may not read secrets (whoever can invoke the function writes it); use the function's own plan",
    );
  }
  const opened = (where: string, addresses: readonly string[] | undefined): void => {
    const bad = (addresses ?? []).filter((a) => payloadForbiddenAddresses.includes(a));
    if (bad.length > 0) {
      problems.push(
        `${where}.addresses: a plan in hookDetails may not allow ${bad.join(', ')} addresses (the deployment's listeners need none); use the function's own plan`,
      );
    }
  };
  opened('allow', plan.allow?.addresses);
  for (const [name, check] of Object.entries(plan.checks)) {
    if (check.allow !== plan.allow) opened(`checks.${name}.allow`, check.allow?.addresses);
  }
  return problems;
}
