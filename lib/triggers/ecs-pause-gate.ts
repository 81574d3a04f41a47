import type { EcsHookAction, EcsLifecycleHookDetail, EcsServiceDeployment } from '../aws/ecs.ts';
import type { AsyncInvokePort } from '../aws/lambda-async.ts';
import { usedPlaceholders } from '../checks/build-runs.ts';
import { errorMessage } from '../core/analyze.ts';
import type { Verdict } from '../core/types.ts';
import { checksForHook } from '../plan/schema.ts';
import { type Deadline, deadlineFor, type RemainingTime } from '../runtime/deadline.ts';
import { PlanError } from '../spec/errors.ts';
import { ecsStages } from '../spec/hooks.ts';
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
import {
  continuationKey,
  deploymentNames,
  EcsEventError,
  type EcsStage,
  type PauseGateInput,
  type PauseHookRef,
  readPauseGateInput,
} from './ecs-event.ts';
import { failedVerdict, summarizeChecks } from './evaluate.ts';
import { runPlannedLeg } from './leg.ts';
import { ecsServiceGroup, publishVerdict, type VerdictScope, verdictRecord } from './observe.ts';
import { deliver, ReportError } from './report.ts';

export interface EcsPauseGateDeps extends EcsContextDeps, TriggerDeps, CarriedStateDeps {
  /** How the gate continues a long analysis: an asynchronous invocation of itself. */
  readonly invoker: AsyncInvokePort;
  readonly settings: TriggerSettings & {
    readonly reserve?: string | undefined;
  };
}

/** The part of the Lambda context the gate needs: its time, and its own ARN to continue itself. */
export interface GateContext extends RemainingTime {
  readonly invokedFunctionArn: string;
}

export interface PauseGateOutcome {
  /**
   * `decided`: ContinueServiceDeployment was called with `action`; `continued-later`: the analysis goes on in a
   * new invocation; `no-op`: the hook no longer awaits a decision (stale, duplicate, expired, decided elsewhere),
   * or the event disagrees with what ECS reports about it; `ignored`: not an event for this gate.
   */
  readonly outcome: 'decided' | 'continued-later' | 'no-op' | 'ignored';
  readonly hookId?: string;
  readonly action?: EcsHookAction;
  readonly reasons: readonly string[];
}

/** Kept between the analysis deadline and the hook's expiry, so the decision lands before ECS's timeout action. */
const expiryMarginMs = 30_000;
/** How long a failing ContinueServiceDeployment is retried before the invocation fails loudly (Lambda retries it). */
const reportRetryWindowMs = 30_000;

type Awaiting =
  | { readonly kind: 'awaiting'; readonly deployment: EcsServiceDeployment; readonly hook: EcsLifecycleHookDetail }
  | { readonly kind: 'not-awaiting'; readonly reason: string };

/**
 * Handles an `ECS Hook State Change` (HOOK_AWAITING_ACTION) event for a PAUSE hook, or its own continuation:
 * confirms the hook still awaits action, runs the stage's plan, and calls ContinueServiceDeployment with an
 * explicit CONTINUE (pass) or ROLLBACK (anything else). A schedule longer than one invocation goes on in a
 * new asynchronous invocation of this function, carrying the analysis state (authenticated with the state key).
 *
 * Whoever may invoke the function can send any payload, so the payload only names a hook: the stage, the
 * hook's type and status, the service and the expiry come from DescribeServiceDeployments. An event that
 * disagrees with ECS is a logged no-op (it may name another team's hook: acting on it, even with a
 * rollback, would let a payload decide); a hook ECS says awaits, whose analysis cannot be trusted (state
 * that does not verify, expired or bound elsewhere, an unknown stage), is rolled back: fail closed.
 */
export function ecsPauseGate(deps: EcsPauseGateDeps) {
  return async (event: unknown, context: GateContext): Promise<PauseGateOutcome> => {
    const { log, clock } = deps;
    let input: PauseGateInput;
    try {
      input = readPauseGateInput(event);
    } catch (error) {
      if (!(error instanceof EcsEventError)) throw error;
      // Nothing identifies a hook to act on: ECS applies the hook's own timeout action.
      log.error('cannot identify the paused hook; nothing to continue or roll back', { reason: error.message });
      return { outcome: 'ignored', reasons: [`malformed event: ${error.message}`] };
    }
    if (input.kind === 'ignored') {
      log.info('event needs no decision', { reason: input.reason });
      return { outcome: 'ignored', reasons: [input.reason] };
    }
    const ref = input.hook;
    log.appendKeys({
      hookId: ref.hookId,
      serviceDeploymentArn: ref.serviceDeploymentArn,
      ...(ref.lifecycleStage ? { lifecycleStage: ref.lifecycleStage } : {}),
      ...(input.kind === 'continuation' ? { continuation: true } : {}),
    });
    const deadline = deadlineFor(context, clock.now(), deps.settings.reserve);
    try {
      const reached = await reachVerdict(deps, input, context, deadline);
      if ('outcome' in reached) return reached;
      return await act(deps, ref, reached, deadline.reportBy);
    } finally {
      deadline.dispose();
    }
  };
}

/** The verdict to act on, or an outcome that needs no action (not awaiting, continued later). Never throws. */
async function reachVerdict(
  deps: EcsPauseGateDeps,
  input: Exclude<PauseGateInput, { kind: 'ignored' }>,
  context: GateContext,
  deadline: Deadline,
): Promise<Verdict | PauseGateOutcome> {
  const { log, clock } = deps;
  const ref = input.hook;
  let status: Awaiting;
  try {
    status = await confirmAwaiting(deps, ref, deadline.signal);
  } catch (error) {
    // Fail closed: a hook that cannot be confirmed is rolled back; if it no longer awaits, ECS refuses that.
    return failedVerdict(
      `cannot confirm the hook awaits action: ${(error as Error)?.name}: ${errorMessage(error)}`,
      clock.now(),
    );
  }
  if (status.kind === 'not-awaiting') {
    log.info('hook no longer awaits action: stale or duplicate event, nothing to do', { reason: status.reason });
    return { outcome: 'no-op', hookId: ref.hookId, reasons: [status.reason] };
  }
  const mismatch = disagreement(ref, status.deployment, status.hook);
  if (mismatch) {
    log.warn('the event disagrees with what ECS reports: not acting on it', { reason: mismatch });
    return { outcome: 'no-op', hookId: ref.hookId, reasons: [`the event disagrees with ECS: ${mismatch}`] };
  }
  if (deadline.settingError) {
    log.error('misconfigured; rolling back', { reason: deadline.settingError.message });
    return failedVerdict(deadline.settingError.message, clock.now());
  }
  let decided: Decision;
  try {
    decided = await decide(deps, input, status, deadline);
  } catch (error) {
    const reason =
      error instanceof PlanError || error instanceof StateError
        ? error.message
        : `could not validate: ${errorMessage(error)}`;
    log.error('no verdict from the checks; rolling back', { reason, errorName: (error as Error)?.name });
    return failedVerdict(reason, clock.now());
  }
  if (decided.kind === 'verdict') return decided.verdict;
  try {
    await deliver(
      (signal) => deps.invoker.invokeAsync(context.invokedFunctionArn, decided.payload, signal),
      Math.min(deadline.reportBy, clock.now() + reportRetryWindowMs),
      clock,
    );
  } catch (error) {
    log.error('cannot continue the analysis in a new invocation; rolling back', { error: errorMessage(error) });
    return failedVerdict(`cannot continue the analysis in a new invocation: ${errorMessage(error)}`, clock.now());
  }
  log.info('analysis continues in a new invocation', {
    resumeAt: new Date(decided.resumeAt).toISOString(),
    invocation: decided.legs + 1,
  });
  return {
    outcome: 'continued-later',
    hookId: ref.hookId,
    reasons: [`continues at ${new Date(decided.resumeAt).toISOString()}`],
  };
}

/**
 * What the event (or continuation) says that ECS contradicts, if anything: the hook's type, the stage, the
 * service or the cluster. Fields the event leaves out are not compared; ECS's values are the ones used.
 */
function disagreement(
  ref: PauseHookRef,
  deployment: EcsServiceDeployment,
  hook: EcsLifecycleHookDetail,
): string | undefined {
  if (hook.targetType !== undefined && hook.targetType !== 'PAUSE') {
    return `hook ${ref.hookId} is a ${hook.targetType} hook, not a PAUSE hook`;
  }
  if (ref.lifecycleStage !== undefined && ref.lifecycleStage !== deployment.lifecycleStage) {
    return `the event names stage ${ref.lifecycleStage}, ECS reports ${deployment.lifecycleStage ?? 'no stage'}`;
  }
  if (ref.serviceArn !== undefined && deployment.serviceArn !== undefined && ref.serviceArn !== deployment.serviceArn) {
    return `the event names service ${ref.serviceArn}, ECS reports ${deployment.serviceArn}`;
  }
  if (ref.clusterArn !== undefined && deployment.clusterArn !== undefined && ref.clusterArn !== deployment.clusterArn) {
    return `the event names cluster ${ref.clusterArn}, ECS reports ${deployment.clusterArn}`;
  }
  return undefined;
}

async function confirmAwaiting(deps: EcsPauseGateDeps, ref: PauseHookRef, signal: AbortSignal): Promise<Awaiting> {
  const deployment = await deps.ecs.describeServiceDeployment(ref.serviceDeploymentArn, signal);
  if (!deployment) return { kind: 'not-awaiting', reason: 'the service deployment was not found' };
  const hook = deployment.hooks.find((h) => h.hookId === ref.hookId);
  if (!hook) return { kind: 'not-awaiting', reason: `the service deployment has no hook ${ref.hookId}` };
  if (hook.status !== 'AWAITING_ACTION') {
    return { kind: 'not-awaiting', reason: `the hook is ${hook.status ?? 'in no status'}, not AWAITING_ACTION` };
  }
  const now = deps.clock.now();
  if (hook.expiresAt !== undefined && hook.expiresAt <= now) {
    return {
      kind: 'not-awaiting',
      reason: `the hook expired at ${new Date(hook.expiresAt).toISOString()}; ECS applies its timeout action (${hook.timeoutAction ?? 'ROLLBACK'})`,
    };
  }
  if (deployment.status !== undefined && deployment.status !== 'IN_PROGRESS') {
    return { kind: 'not-awaiting', reason: `the service deployment is ${deployment.status}, not IN_PROGRESS` };
  }
  return { kind: 'awaiting', deployment, hook };
}

type Decision =
  | { readonly kind: 'verdict'; readonly verdict: Verdict }
  | { readonly kind: 'continue'; readonly payload: unknown; readonly resumeAt: number; readonly legs: number };

async function decide(
  deps: EcsPauseGateDeps,
  input: Exclude<PauseGateInput, { kind: 'ignored' }>,
  awaiting: Extract<Awaiting, { kind: 'awaiting' }>,
  invocation: { signal: AbortSignal; analysisEndsAt: number; reportBy: number },
): Promise<Decision> {
  const { clock, log } = deps;
  const { signal, analysisEndsAt, reportBy } = invocation;
  const ref = input.hook;
  const { deployment, hook } = awaiting;
  // ECS's stage, never the event's: the event only had to agree with it.
  const stage = knownStage(deployment.lifecycleStage);
  if (!stage) {
    return {
      kind: 'verdict',
      verdict: failedVerdict(
        `ECS reports the paused hook at ${deployment.lifecycleStage === undefined ? 'no lifecycle stage' : `an unknown lifecycle stage (${deployment.lifecycleStage.slice(0, 64)})`}: cannot tell which checks to run`,
        clock.now(),
      ),
    };
  }
  const plan = await deps.loadPlan(signal);
  const selected = checksForHook(plan, stage);
  const binding = {
    fingerprint: planFingerprint(selected.checks, stage),
    bind: `${ref.serviceDeploymentArn}|${ref.hookId}`,
  };
  const now = clock.now();
  const key = stateKeyOnce(deps.stateKey, () => AbortSignal.timeout(Math.max(1, reportBy - clock.now())));
  const expiresAt = hook.expiresAt;
  const hookDeadline = expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - expiryMarginMs;
  let carried: CarriedState | undefined;
  let deadline: number;
  if (input.kind === 'continuation') {
    carried = decodeState(input.state, { ...binding, checks: selected.checks }, now, await key.get());
    deadline = Math.min(carried.deadline, hookDeadline);
  } else {
    const fresh = planDeadline(selected.checks, now);
    if (fresh.scheduleMs > maxAnalysisMs) {
      throw new PlanError([
        `hooks.${selected.key}: the schedule takes up to ${Math.round(fresh.scheduleMs / 60_000)} min, longer than the ${maxAnalysisMs / 3_600_000} h a gate analysis may run`,
      ]);
    }
    if (fresh.deadline > hookDeadline) {
      log.warn('the schedule may not finish before the pause hook expires; it rolls back if it does not', {
        expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt).toISOString(),
        scheduleMs: fresh.scheduleMs,
      });
    }
    deadline = Math.min(fresh.deadline, hookDeadline);
    // State will be written unless the schedule fits this invocation: read the key while the checks run.
    if (now + fresh.scheduleMs > analysisEndsAt) key.prefetch();
  }
  const serviceArn = deployment.serviceArn;
  const context = await resolveEcsContext(
    deps,
    {
      stage,
      serviceArn,
      serviceDeploymentArn: ref.serviceDeploymentArn,
      targetServiceRevisionArn: deployment.targetServiceRevisionArn,
      testTrafficWeight: deployment.targetTestTrafficWeight,
      productionTrafficWeight: deployment.targetProductionTrafficWeight,
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
  if (leg.kind === 'verdict') return leg;
  const state = encodeState({ analysis: leg.analysis, deadline, legs }, binding, await key.get());
  log.info('the schedule does not fit in this invocation', { checks: summarizeChecks(leg.progress) });
  const next: Record<string, unknown> = {
    hookId: ref.hookId,
    serviceDeploymentArn: ref.serviceDeploymentArn,
    lifecycleStage: stage,
    ...(serviceArn ? { serviceArn } : {}),
    ...(expiresAt !== undefined ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
    state,
  };
  return { kind: 'continue', payload: { [continuationKey]: next }, resumeAt: leg.resumeAt, legs };
}

/** Calls ContinueServiceDeployment once with the verdict's action; "no longer awaiting" is a logged no-op. */
async function act(
  deps: EcsPauseGateDeps,
  ref: PauseHookRef,
  verdict: Verdict,
  reportBy: number,
): Promise<PauseGateOutcome> {
  const { log, clock } = deps;
  const action: EcsHookAction = verdict.status === 'pass' ? 'CONTINUE' : 'ROLLBACK';
  log.info('verdict', {
    action,
    analysis: verdict.status,
    reasons: verdict.reasons,
    checks: summarizeChecks(verdict.checks),
  });
  // The analysis may have taken long: a duplicate may have decided meanwhile, or the hook expired.
  const again = await confirmAwaiting(deps, ref, AbortSignal.timeout(Math.max(1, reportBy - clock.now()))).catch(
    () => undefined,
  );
  if (again?.kind === 'not-awaiting') {
    log.warn('hook no longer awaits action: not acting', { action, reason: again.reason });
    return { outcome: 'no-op', hookId: ref.hookId, action, reasons: [again.reason, ...verdict.reasons] };
  }
  try {
    await deliver(
      (signal) =>
        deps.ecs.continueServiceDeployment(
          { serviceDeploymentArn: ref.serviceDeploymentArn, hookId: ref.hookId, action },
          signal,
        ),
      Math.min(reportBy, clock.now() + reportRetryWindowMs),
      clock,
    );
  } catch (error) {
    // ECS refuses a hook that no longer awaits action; which error it uses is not documented, so ask again.
    const now = await confirmAwaiting(deps, ref, AbortSignal.timeout(10_000)).catch(() => undefined);
    if (now?.kind === 'not-awaiting') {
      log.warn('ContinueServiceDeployment refused: the hook no longer awaits action, nothing to do', {
        action,
        reason: now.reason,
        error: errorMessage(error),
      });
      return { outcome: 'no-op', hookId: ref.hookId, action, reasons: [now.reason, ...verdict.reasons] };
    }
    log.error('could not call ContinueServiceDeployment', {
      action,
      error: errorMessage(error),
      errorName: (error as Error)?.name,
    });
    throw error instanceof ReportError ? error : new ReportError(errorMessage(error), { cause: error });
  }
  log.info('called ContinueServiceDeployment', { action });
  await publishVerdict(deps, reportBy, () =>
    verdictRecord('ecs-pause-gate', verdict, pauseScope(ref), { decision: action, delivery: 'decided' }),
  );
  return { outcome: 'decided', hookId: ref.hookId, action, reasons: verdict.reasons };
}

function pauseScope(ref: PauseHookRef): VerdictScope {
  const names = deploymentNames(ref.serviceDeploymentArn);
  return {
    stage: ref.lifecycleStage,
    group: ecsServiceGroup(ref.serviceArn) ?? (names.cluster && names.service && `${names.cluster}/${names.service}`),
    deploymentId: ref.serviceDeploymentArn,
  };
}

function knownStage(stage: string | undefined): EcsStage | undefined {
  return stage !== undefined && (ecsStages as readonly string[]).includes(stage) ? (stage as EcsStage) : undefined;
}
