import type { CodeDeployDeployment, CodeDeployPort, CodeDeployTarget, DeploymentWaitType } from '../aws/codedeploy.ts';
import type { ListenerPort } from '../aws/elbv2.ts';
import type { AsyncInvokePort } from '../aws/lambda-async.ts';
import type { TaskSetOriginPort } from '../aws/task-sets.ts';
import { usedPlaceholders } from '../checks/build-runs.ts';
import { errorMessage } from '../core/analyze.ts';
import type { Verdict } from '../core/types.ts';
import { checksForHook, type Plan, type PlanCheck } from '../plan/schema.ts';
import { type Deadline, deadlineFor, type RemainingTime } from '../runtime/deadline.ts';
import { durationSettings, readDurationSetting, SettingError } from '../runtime/settings.ts';
import { PlanError } from '../spec/errors.ts';
import { formatDuration } from '../spec/fields.ts';
import {
  type CarriedState,
  clockSkewMs,
  decodeState,
  encodeState,
  maxAnalysisMs,
  planDeadline,
  planFingerprint,
  StateError,
  type StateKeyOnce,
  scheduleMs,
  seal,
  stateKeyOnce,
  unseal,
} from './carried-state.ts';
import { resolveCodeDeployContext } from './codedeploy-context.ts';
import type { CarriedStateDeps, TriggerDeps, TriggerSettings } from './deps.ts';
import { failedVerdict, summarizeChecks } from './evaluate.ts';
import { eventObject } from './event.ts';
import { runPlannedLeg } from './leg.ts';
import { deploymentGroup, publishVerdict, verdictRecord } from './observe.ts';
import { deliver, isRetryable, ReportError } from './report.ts';

/**
 * The CodeDeploy blue/green wait gate.
 *
 * - READY_WAIT: CodeDeploy emits `CodeDeploy Deployment State-change Notification` with
 *   `detail.state: READY` when the replacement is ready and traffic waits for `ContinueDeployment`.
 *   The gate confirms `status: Ready` with GetDeployment, runs the plan's `ReadyWait` checks and
 *   continues (pass) or stops with rollback (fail).
 * - TERMINATION_WAIT: no event marks its start (the deployment's SUCCESS comes after it ends), so the
 *   gate starts watching at `detail.state: START` and polls GetDeployment / GetDeploymentTarget until
 *   the wait shows (ECS: the target `Succeeded` while the deployment is still `InProgress`;
 *   elsewhere `instanceTerminationWaitTimeStarted`), then bakes with the plan's `TerminationWait`
 *   checks while the original task set still exists.
 * Work that does not fit in one invocation continues in the next one, queued with an asynchronous
 * invocation of this function carrying the watch or the analysis state, sealed with the state key.
 *
 * Whoever may invoke the function can send any payload: from an event only the deployment id and the
 * state are read (not its time), and GetDeployment / GetDeploymentTarget decide whether the deployment
 * is in a wait. A continuation that does not verify (forged, altered, expired, from another key) is used
 * only to ask CodeDeploy: a deployment not in the claimed wait is a logged no-op; one that is in it
 * fails closed (StopDeployment with rollback), since its analysis can no longer be trusted.
 */

export type WaitPhase = 'watch' | 'bake';

/**
 * What a later invocation of this function needs to go on. Sent as `{greenlightWaitGateContinuation: ...}`,
 * sealed (`issuedAt`, HMAC-SHA256 `mac`) with the state key.
 */
export interface WaitContinuation {
  readonly kind: 'codedeploy-wait-gate';
  readonly v: 2;
  readonly deploymentId: string;
  readonly wait: DeploymentWaitType;
  readonly phase: WaitPhase;
  /** Invocations of this chain so far. */
  readonly hop: number;
  /** Epoch ms at which the chain began (watch) or the wait was first seen (bake). */
  readonly since: number;
  /** The analysis so far (bake only), as `encodeState` wrote it. */
  readonly state?: unknown;
}

export interface WaitGateDeps extends TriggerDeps, CarriedStateDeps {
  readonly codedeploy: CodeDeployPort;
  readonly listeners: ListenerPort;
  /** ECS DescribeTaskSets: tells green from blue when CodeDeploy omits the task set labels. */
  readonly taskSets?: TaskSetOriginPort;
  readonly invoker: AsyncInvokePort;
  readonly settings: TriggerSettings & {
    /** GREENLIGHT_WAIT_POLL_INTERVAL: how often the watcher reads the deployment (default 30s, 50ms to 10m). */
    readonly pollInterval?: string | undefined;
    /** GREENLIGHT_WAIT_WATCH_LIMIT: how long to watch for the termination wait before giving up (default 72h, 1m to 7d). */
    readonly watchLimit?: string | undefined;
  };
}

/** The Lambda context, as far as the gate needs it. */
export interface WaitInvocation extends RemainingTime {
  /** This function's ARN: where unfinished work is handed on. */
  readonly invokedFunctionArn: string;
}

export type WaitResult =
  /** The event signals no wait the gate takes on (SUCCESS, FAILURE, STOP, an ungated START, ...). */
  | 'ignored'
  /** GetDeployment shows the deployment is not (or no longer) in this wait: a duplicate or stale event. */
  | 'not-waiting'
  | 'continued'
  | 'stopping'
  /** CodeDeploy's "already done" answers to ContinueDeployment / StopDeployment: logged no-ops. */
  | 'already-completed'
  | 'not-ready'
  /** The watch or the analysis goes on in a later invocation. */
  | 'resumes-later'
  /** The deployment ended, or the watch limit passed, before its termination wait began. */
  | 'watch-ended';

export interface WaitOutcome {
  readonly deploymentId: string;
  readonly wait?: DeploymentWaitType;
  readonly verdict?: 'pass' | 'fail';
  readonly result: WaitResult;
  readonly reasons: readonly string[];
}

/** An event from which no deployment id can be read: there is nothing to decide on. */
export class WaitEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitEventError';
  }
}

/** A setting or a plan that cannot work with this deployment's waits: a failed verdict, saying why. */
export class WaitConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitConfigError';
  }
}

export const deploymentStateChange = 'CodeDeploy Deployment State-change Notification';
const planKeys = { READY_WAIT: 'ReadyWait', TERMINATION_WAIT: 'TerminationWait' } as const;
const deploymentIdPattern = /^d-[A-Z0-9]{9}$/;
const terminal = new Set(['Succeeded', 'Failed', 'Stopped']);
const rollbackCreators = new Set(['autoRollback', 'codeDeployRollback']);
/** How long a failing delivery (the decision, or the hand-over) is retried before the invocation fails loudly. */
const deliveryWindowMs = 30_000;
/** A guard rail on self-invocation: a watch chain never runs longer than this many invocations. */
const maxWatchHops = 2_000;
/** What a continuation's MAC covers, so that no other sealed payload verifies as one. */
const continuationPurpose = 'codedeploy-wait-gate-continuation';
/** Lambda keeps an asynchronous invocation's event at most 6 hours (maximum event age): older is expired. */
const maxContinuationAgeMs = 6 * 3_600_000;

/** This invocation's deadline, and its state key, read at most once. */
type GateDeadline = Deadline & { readonly key: StateKeyOnce };

type Input =
  | {
      readonly kind: 'event';
      readonly deploymentId: string;
      readonly state: string;
      readonly detailType?: string;
      readonly time?: number;
    }
  /** As received: `deploymentId` and `wait` are a claim until the seal verifies, used only to ask CodeDeploy. */
  | {
      readonly kind: 'continuation';
      readonly raw: unknown;
      readonly deploymentId: string;
      readonly wait: DeploymentWaitType;
    };

/**
 * Handles one EventBridge event or continuation. Once the gate decides, it delivers the decision
 * exactly once: `ContinueDeployment` on pass, `StopDeployment` with `autoRollbackEnabled` on fail.
 */
export function codeDeployWaitGate(deps: WaitGateDeps) {
  return async (event: unknown, invocation: WaitInvocation): Promise<WaitOutcome> => {
    const { clock, log } = deps;
    const input = readWaitInput(event);
    const { deploymentId } = input;
    log.appendKeys({ deploymentId });
    const split = deadlineFor(invocation, clock.now(), deps.settings.reserve);
    const deadline: GateDeadline = {
      ...split,
      key: stateKeyOnce(deps.stateKey, () => AbortSignal.timeout(Math.max(1, split.reportBy - clock.now()))),
    };
    try {
      if (input.kind === 'event') return await onEvent(deps, input, invocation, deadline);
      const opened = await openContinuation(deps, input, deadline);
      if (opened.kind === 'untrusted') {
        log.error('the continuation cannot be trusted: acting only if CodeDeploy says the deployment waits', {
          wait: input.wait,
          reason: opened.reason,
        });
        const c: WaitContinuation = base(deploymentId, input.wait, 'bake');
        return await decideWait(deps, { ...c, problems: [opened.reason] }, invocation, deadline);
      }
      const { c } = opened;
      log.appendKeys({ wait: c.wait, phase: c.phase, hop: c.hop });
      if (c.phase === 'watch') return await watchTermination(deps, c, invocation, deadline);
      return await decideWait(deps, { ...c, problems: [] }, invocation, deadline);
    } finally {
      deadline.dispose();
    }
  };
}

async function onEvent(
  deps: WaitGateDeps,
  input: Extract<Input, { kind: 'event' }>,
  invocation: WaitInvocation,
  deadline: GateDeadline,
): Promise<WaitOutcome> {
  const { log, clock } = deps;
  const { deploymentId, state } = input;
  log.appendKeys({ eventState: state });
  if (input.detailType !== undefined && input.detailType !== deploymentStateChange) {
    log.info('not a deployment state change: nothing to do', { detailType: input.detailType });
    return { deploymentId, result: 'ignored', reasons: [`detail-type ${input.detailType} signals no wait`] };
  }
  if (state === 'READY') {
    log.appendKeys({ wait: 'READY_WAIT' });
    // The event's time is the invoker's word: an early one would shorten the analysis into a rollback. The wait
    // is counted from now; if it began earlier, CodeDeploy's own timeout stops the deployment (closed, not open).
    const now = clock.now();
    if (input.time !== undefined && Math.abs(now - input.time) > clockSkewMs) {
      log.info('the event time is not used: the ready wait is counted from now', {
        eventTime: new Date(input.time).toISOString(),
      });
    }
    const c: WaitContinuation = { ...base(deploymentId, 'READY_WAIT', 'bake'), since: now };
    return decideWait(deps, { ...c, problems: [] }, invocation, deadline);
  }
  if (state === 'START') return startWatch(deps, deploymentId, invocation, deadline);
  // SUCCESS, FAILURE and STOP end a deployment: nothing waits any more.
  log.info('event state signals no wait: nothing to do', { state });
  return { deploymentId, result: 'ignored', reasons: [`state ${state} signals no wait`] };
}

function base(deploymentId: string, wait: DeploymentWaitType, phase: WaitPhase): WaitContinuation {
  return { kind: 'codedeploy-wait-gate', v: 2, deploymentId, wait, phase, hop: 0, since: 0 };
}

/** At START: watch for the termination wait only if this deployment has one and the plan gates it. */
async function startWatch(
  deps: WaitGateDeps,
  deploymentId: string,
  invocation: WaitInvocation,
  deadline: GateDeadline,
): Promise<WaitOutcome> {
  const { log, clock } = deps;
  log.appendKeys({ wait: 'TERMINATION_WAIT' });
  const deployment = await deps.codedeploy.getDeployment(deploymentId, deadline.signal);
  const skip = watchSkipReason(deployment);
  if (skip) {
    log.info('not watching for a termination wait', { reason: skip });
    return { deploymentId, wait: 'TERMINATION_WAIT', result: 'ignored', reasons: [skip] };
  }
  try {
    const plan = await deps.loadPlan(deadline.signal);
    if (!hasEntry(plan, planKeys.TERMINATION_WAIT)) {
      const reason = 'the plan has no TerminationWait entry (nor "*"): the termination wait is not gated';
      log.info('not watching for a termination wait', { reason });
      return { deploymentId, wait: 'TERMINATION_WAIT', result: 'ignored', reasons: [reason] };
    }
  } catch (error) {
    // Watched anyway: when the wait comes, the bake fails closed on the plan if it is still unreadable.
    log.warn('cannot read the plan now; watching anyway', { error: errorMessage(error) });
  }
  const c: WaitContinuation = { ...base(deploymentId, 'TERMINATION_WAIT', 'watch'), since: clock.now() };
  return watchTermination(deps, c, invocation, deadline, deployment);
}

/**
 * A watch that cannot run as configured (a setting out of range) would leave the termination wait
 * ungated: the deployment is stopped with rollback instead, naming the setting. Fail closed, delivered.
 */
async function stopMisconfigured(
  deps: WaitGateDeps,
  c: WaitContinuation,
  error: SettingError,
  deadline: GateDeadline,
): Promise<WaitOutcome> {
  deps.log.error('misconfigured: stopping the deployment rather than leave its wait ungated', {
    reason: error.message,
  });
  const verdict = failedVerdict(error.message, deps.clock.now());
  const outcome = await act(deps, c, planKeys[c.wait], verdict, deadline, { onlyIfWaiting: false });
  await publishVerdict(deps, deadline.reportBy, () =>
    verdictRecord(
      'codedeploy-wait-gate',
      verdict,
      { stage: c.wait, deploymentId: c.deploymentId },
      { decision: 'StopDeployment', delivery: outcome.result },
    ),
  );
  return outcome;
}

/** The wait gate's settings, or the first `SettingError` among them (the report reserve included). */
function checkedSettings(deps: WaitGateDeps, deadline: GateDeadline): Settings | SettingError {
  if (deadline.settingError) return deadline.settingError;
  try {
    return readSettings(deps.settings);
  } catch (error) {
    if (error instanceof SettingError) return error;
    throw error;
  }
}

/** Polls until the termination wait shows, the deployment ends, or this invocation runs out of time. */
async function watchTermination(
  deps: WaitGateDeps,
  c: WaitContinuation,
  invocation: WaitInvocation,
  deadline: GateDeadline,
  first?: CodeDeployDeployment,
): Promise<WaitOutcome> {
  const { log, clock, codedeploy } = deps;
  const { deploymentId } = c;
  const settings = checkedSettings(deps, deadline);
  if (settings instanceof SettingError) return stopMisconfigured(deps, c, settings, deadline);
  // A watch almost always hands on to the next invocation: read the key while it polls.
  deadline.key.prefetch();
  let deployment = first;
  for (;;) {
    if (clock.now() - c.since > settings.watchLimitMs) {
      const reason = `no termination wait seen within ${formatDuration(settings.watchLimitMs)} (GREENLIGHT_WAIT_WATCH_LIMIT): no longer watching`;
      log.error('gave up watching for the termination wait', { reason });
      return { deploymentId, wait: 'TERMINATION_WAIT', result: 'watch-ended', reasons: [reason] };
    }
    try {
      deployment ??= await codedeploy.getDeployment(deploymentId, deadline.signal);
      const skip = watchSkipReason(deployment);
      if (skip) {
        log.info('stopped watching for the termination wait', { reason: skip });
        return { deploymentId, wait: 'TERMINATION_WAIT', result: 'watch-ended', reasons: [skip] };
      }
      const target = await waitTarget(deps, deployment, deadline.signal);
      if (terminationWaitStarted(deployment, target)) {
        log.info('the termination wait has begun: baking on production traffic');
        const bake: WaitContinuation = { ...c, phase: 'bake', hop: 0, since: clock.now() };
        return await decideWait(deps, { ...bake, problems: [] }, invocation, deadline, { deployment, target });
      }
    } catch (error) {
      if (deadline.signal.aborted) break;
      // A deployment that does not exist or cannot be read will not become readable by waiting.
      if (!isRetryable(error)) throw error;
      log.warn('could not read the deployment while watching; trying again', {
        error: errorMessage(error),
        errorName: (error as Error)?.name,
      });
    }
    deployment = undefined;
    if (clock.now() + settings.pollIntervalMs >= deadline.analysisEndsAt) break;
    await clock.sleep(settings.pollIntervalMs, deadline.signal);
    if (deadline.signal.aborted) break;
  }
  if (c.hop + 1 > maxWatchHops) {
    const reason = `the watch reached ${maxWatchHops} invocations: no longer watching`;
    log.error('gave up watching for the termination wait', { reason });
    return { deploymentId, wait: 'TERMINATION_WAIT', result: 'watch-ended', reasons: [reason] };
  }
  // Not handed on means nobody watches: fail loudly so that Lambda retries this invocation.
  await handOver(deps, invocation, { ...c, hop: c.hop + 1 }, deadline);
  log.info('still no termination wait: watching on in the next invocation', { hop: c.hop + 1 });
  return { deploymentId, wait: 'TERMINATION_WAIT', result: 'resumes-later', reasons: ['watching'] };
}

/**
 * Confirms the wait, runs (or resumes) the analysis and delivers the decision. Any error before the
 * decision is a failed verdict, except that a deployment no longer in this wait is a no-op.
 */
async function decideWait(
  deps: WaitGateDeps,
  c: WaitContinuation & { readonly problems: readonly string[] },
  invocation: WaitInvocation,
  deadline: GateDeadline,
  confirmed?: { deployment: CodeDeployDeployment; target: CodeDeployTarget | undefined },
): Promise<WaitOutcome> {
  const { log, clock } = deps;
  const { deploymentId, wait } = c;
  const planKey = planKeys[wait];
  let verdict: Verdict;
  let group: string | undefined;
  try {
    const deployment = confirmed?.deployment ?? (await deps.codedeploy.getDeployment(deploymentId, deadline.signal));
    group = deploymentGroup(deployment);
    const target = confirmed ? confirmed.target : await waitTarget(deps, deployment, deadline.signal);
    if (!inWait(deployment, target, wait)) {
      const reason = `deployment is ${deployment.status ?? 'in an unknown state'}, not in its ${wait}: a duplicate or stale event`;
      log.warn('not waiting: nothing to do', { reason });
      return { deploymentId, wait, result: 'not-waiting', reasons: [reason] };
    }
    verdict = await analyse(deps, c, deployment, target, invocation, deadline);
  } catch (error) {
    if (error instanceof HandedOver) return error.outcome;
    const known =
      error instanceof PlanError ||
      error instanceof StateError ||
      error instanceof WaitConfigError ||
      error instanceof SettingError;
    const reason = known ? (error as Error).message : `could not validate: ${errorMessage(error)}`;
    log.error('no verdict from the checks; failing the wait', { reason, errorName: (error as Error)?.name });
    verdict = failedVerdict(reason, clock.now());
  }
  const outcome = await act(deps, c, planKey, verdict, deadline);
  await publishVerdict(deps, deadline.reportBy, () =>
    verdictRecord(
      'codedeploy-wait-gate',
      verdict,
      { stage: wait, group, deploymentId },
      { decision: outcome.verdict === 'pass' ? 'ContinueDeployment' : 'StopDeployment', delivery: outcome.result },
    ),
  );
  return outcome;
}

/** Thrown (internally) when the analysis went on to another invocation: no decision in this one. */
class HandedOver extends Error {
  readonly outcome: WaitOutcome;
  constructor(outcome: WaitOutcome) {
    super('handed over');
    this.name = 'HandedOver';
    this.outcome = outcome;
  }
}

async function analyse(
  deps: WaitGateDeps,
  c: WaitContinuation & { readonly problems: readonly string[] },
  deployment: CodeDeployDeployment,
  target: CodeDeployTarget | undefined,
  invocation: WaitInvocation,
  deadline: GateDeadline,
): Promise<Verdict> {
  const { log, clock } = deps;
  const { deploymentId, wait } = c;
  const planKey = planKeys[wait];
  if (c.problems.length > 0) throw new WaitConfigError(`malformed continuation: ${c.problems.join('; ')}`);
  if (rollbackCreators.has(deployment.creator ?? '')) {
    log.warn('deployment is a rollback: passing without checks, a gate never blocks a rollback', {
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
  const settings = checkedSettings(deps, deadline);
  if (settings instanceof SettingError) throw settings;
  const plan = await deps.loadPlan(deadline.signal);
  const selected = checksForHook(plan, planKey);
  const binding = { fingerprint: planFingerprint(selected.checks, planKey), bind: `${deploymentId}:${wait}` };
  let carried: CarriedState | undefined;
  let analysisDeadline: number;
  if (c.state !== undefined) {
    carried = decodeState(c.state, { ...binding, checks: selected.checks }, clock.now(), await deadline.key.get());
    analysisDeadline = carried.deadline;
  } else {
    analysisDeadline = firstDeadline(deployment, wait, selected.checks, c.since, settings, deadline, clock.now());
    // State will be handed on unless the schedule fits this invocation: read the key while the checks run.
    if (clock.now() + scheduleMs(selected.checks) > deadline.analysisEndsAt) deadline.key.prefetch();
  }
  const context = await resolveCodeDeployContext(
    { listeners: deps.listeners, taskSets: deps.taskSets, region: deps.settings.region },
    { deployment, target, hook: planKey, needed: usedPlaceholders(selected.checks) },
    deadline.signal,
  );
  const { leg, legs } = await runPlannedLeg({
    selected,
    context,
    checkDeps: deps.checks,
    clock,
    log,
    signal: deadline.signal,
    analysisEndsAt: deadline.analysisEndsAt,
    deadline: analysisDeadline,
    carried,
  });
  if (leg.kind === 'verdict') return leg.verdict;

  try {
    const key = await deadline.key.get();
    const state = encodeState({ analysis: leg.analysis, deadline: analysisDeadline, legs }, binding, key);
    await handOver(deps, invocation, { ...stripProblems(c), phase: 'bake', hop: c.hop + 1, state }, deadline);
  } catch (error) {
    // Nobody would finish the analysis: decide now rather than leave the wait undecided.
    return failedVerdict(`could not hand the analysis on to the next invocation: ${errorMessage(error)}`, clock.now());
  }
  log.info('analysis continues in the next invocation', {
    legs,
    resumeAt: new Date(leg.resumeAt).toISOString(),
    checks: summarizeChecks(leg.progress),
  });
  throw new HandedOver({
    deploymentId,
    wait,
    result: 'resumes-later',
    reasons: [`analysis continues (leg ${legs + 1})`],
  });
}

function stripProblems(c: WaitContinuation & { readonly problems?: readonly string[] }): WaitContinuation {
  const { problems: _problems, ...rest } = c;
  return rest;
}

/**
 * When the first leg starts: the analysis must end before the wait does (the ready wait's timeout
 * stops the deployment; after the termination wait the original task set is gone), so a schedule
 * that cannot fit fails now, naming both lengths, rather than being cut short later.
 */
function firstDeadline(
  deployment: CodeDeployDeployment,
  wait: DeploymentWaitType,
  checks: readonly PlanCheck[],
  since: number,
  settings: Settings,
  deadline: Deadline,
  now: number,
): number {
  const deciding = checks.filter((c) => !c.policy.dryRun);
  const schedule = scheduleMs(deciding);
  if (schedule > maxAnalysisMs) {
    throw new WaitConfigError(
      `the ${planKeys[wait]} schedule takes up to ${formatDuration(schedule)}, longer than the ${formatDuration(maxAnalysisMs)} an analysis may be carried across invocations`,
    );
  }
  const planned = planDeadline(deciding, now).deadline;
  const window = waitWindowMs(deployment, wait);
  if (window === undefined) return planned;
  // An event older than the wait itself cannot be the one that began it (a replayed sample): count from now.
  const began = since < now - window.ms ? now : since;
  // The termination wait may have begun up to one poll before the watcher saw it.
  const waitEndsAt = began + window.ms - (wait === 'TERMINATION_WAIT' ? settings.pollIntervalMs : 0);
  const reserveMs = Math.max(0, deadline.reportBy - deadline.analysisEndsAt);
  if (now + schedule + reserveMs > waitEndsAt) {
    throw new WaitConfigError(
      `the ${planKeys[wait]} schedule takes up to ${formatDuration(schedule)} but the deployment's ${window.name} leaves about ${formatDuration(Math.max(0, Math.floor((waitEndsAt - now) / 1000) * 1000))}: shorten the schedule or lengthen ${window.field}`,
    );
  }
  return Math.min(planned, waitEndsAt - reserveMs);
}

function waitWindowMs(
  d: CodeDeployDeployment,
  wait: DeploymentWaitType,
): { ms: number; name: string; field: string } | undefined {
  if (wait === 'READY_WAIT') {
    const minutes = d.blueGreen?.readyWaitMinutes;
    if (d.blueGreen?.readyAction !== 'STOP_DEPLOYMENT' || !minutes || minutes <= 0) return undefined;
    return {
      ms: minutes * 60_000,
      name: `ready wait (${minutes} min)`,
      field: 'deploymentReadyOption.waitTimeInMinutes',
    };
  }
  const minutes = d.blueGreen?.terminationWaitMinutes;
  if (!minutes || minutes <= 0) return undefined;
  return {
    ms: minutes * 60_000,
    name: `termination wait (${minutes} min)`,
    field: 'terminateBlueInstancesOnDeploymentSuccess.terminationWaitTimeInMinutes',
  };
}

async function act(
  deps: WaitGateDeps,
  c: WaitContinuation,
  planKey: string,
  verdict: Verdict,
  deadline: GateDeadline,
  options: { readonly onlyIfWaiting: boolean } = { onlyIfWaiting: true },
): Promise<WaitOutcome> {
  const { log, clock, codedeploy } = deps;
  const { deploymentId, wait } = c;
  const pass = verdict.status === 'pass';
  log.info('verdict', {
    verdict: pass ? 'pass' : 'fail',
    analysis: verdict.status,
    planKey,
    reasons: verdict.reasons,
    durationMs: verdict.finishedAt - verdict.startedAt,
    checks: summarizeChecks(verdict.checks),
  });
  const by = Math.min(deadline.reportBy, clock.now() + deliveryWindowMs);
  // The analysis may have taken long: a duplicate delivery may have decided meanwhile. Act only on a wait
  // that is still open; if it cannot be read now, deliver the decision anyway (CodeDeploy refuses a stale one).
  const still = options.onlyIfWaiting
    ? await stillWaiting(deps, deploymentId, wait, AbortSignal.timeout(Math.max(1, by - clock.now())))
    : undefined;
  if (still === false) {
    const reason = `deployment is no longer in its ${wait}: another delivery of this event decided first`;
    log.warn('not waiting any more: nothing to do', { reason, verdict: pass ? 'pass' : 'fail' });
    return { deploymentId, wait, verdict: pass ? 'pass' : 'fail', result: 'not-waiting', reasons: [reason] };
  }
  try {
    if (pass) {
      const answer = await deliver(
        (signal) => codedeploy.continueDeployment({ deploymentId, waitType: wait }, signal),
        by,
        clock,
      );
      if (answer === 'continued') log.info('continued the deployment', { waitType: wait });
      else log.warn('CodeDeploy had already moved on: nothing to continue', { waitType: wait, answer });
      return { deploymentId, wait, verdict: 'pass', result: answer, reasons: verdict.reasons };
    }
    const stop = await deliver((signal) => codedeploy.stopDeploymentWithRollback(deploymentId, signal), by, clock);
    if (stop.result === 'stopping') {
      log.warn('stopped the deployment with rollback', { status: stop.status, message: stop.message });
      return { deploymentId, wait, verdict: 'fail', result: 'stopping', reasons: verdict.reasons };
    }
    log.warn('the deployment had already completed: nothing left to stop', { message: stop.message });
    return { deploymentId, wait, verdict: 'fail', result: 'already-completed', reasons: verdict.reasons };
  } catch (error) {
    log.error('could not deliver the decision to CodeDeploy', {
      decision: pass ? 'ContinueDeployment' : 'StopDeployment',
      error: errorMessage(error),
      errorName: (error as Error)?.name,
    });
    throw error instanceof ReportError ? error : new ReportError(errorMessage(error), { cause: error });
  }
}

async function handOver(
  deps: WaitGateDeps,
  invocation: WaitInvocation,
  c: WaitContinuation,
  deadline: GateDeadline,
): Promise<void> {
  const arn = invocation.invokedFunctionArn;
  if (!arn) throw new ReportError('cannot hand on: the invocation has no function ARN');
  const sealed = seal({ ...c }, await deadline.key.get(), continuationPurpose, deps.clock.now());
  await deliver(
    (signal) => deps.invoker.invokeAsync(arn, { greenlightWaitGateContinuation: sealed }, signal),
    Math.min(deadline.reportBy, deps.clock.now() + deliveryWindowMs),
    deps.clock,
  );
}

/** Why a deployment's termination wait is not watched (or no longer), or undefined to watch it. */
function watchSkipReason(d: CodeDeployDeployment): string | undefined {
  if (terminal.has(d.status ?? '')) return `deployment is ${d.status}`;
  if (d.deploymentType !== undefined && d.deploymentType !== 'BLUE_GREEN') {
    return `deployment type ${d.deploymentType} has no termination wait`;
  }
  if (rollbackCreators.has(d.creator ?? '')) return 'rollback deployment: not gated';
  const bg = d.blueGreen;
  if (bg && (bg.terminationAction === 'KEEP_ALIVE' || !bg.terminationWaitMinutes || bg.terminationWaitMinutes <= 0)) {
    return `no termination wait configured (action ${bg.terminationAction ?? 'unset'}, ${bg.terminationWaitMinutes ?? 0} min)`;
  }
  return undefined;
}

/** Whether the deployment is still in `wait`; undefined when it cannot be read. */
async function stillWaiting(
  deps: WaitGateDeps,
  deploymentId: string,
  wait: DeploymentWaitType,
  signal: AbortSignal,
): Promise<boolean | undefined> {
  try {
    const deployment = await deps.codedeploy.getDeployment(deploymentId, signal);
    const target = wait === 'TERMINATION_WAIT' ? await waitTarget(deps, deployment, signal) : undefined;
    return inWait(deployment, target, wait);
  } catch {
    return undefined;
  }
}

function inWait(d: CodeDeployDeployment, target: CodeDeployTarget | undefined, wait: DeploymentWaitType): boolean {
  return wait === 'READY_WAIT' ? d.status === 'Ready' : terminationWaitStarted(d, target);
}

/**
 * The termination wait, as the APIs show it: still running, traffic moved. For ECS the documented
 * `instanceTerminationWaitTimeStarted` stays false (aws/containers-roadmap#269); CodeDeploy's own
 * advice there is that the wait starts as soon as the target is `Succeeded`.
 */
function terminationWaitStarted(d: CodeDeployDeployment, target: CodeDeployTarget | undefined): boolean {
  if (d.status !== 'InProgress' && d.status !== 'Baking') return false;
  if (d.instanceTerminationWaitTimeStarted === true || d.status === 'Baking') return true;
  return target?.type === 'ECSTarget' && target.status === 'Succeeded';
}

/** The ECS target (cluster:service, task sets); other platforms are not read target by target. */
async function waitTarget(
  deps: WaitGateDeps,
  d: CodeDeployDeployment,
  signal: AbortSignal,
): Promise<CodeDeployTarget | undefined> {
  if (d.computePlatform !== 'ECS') return undefined;
  const ids = await deps.codedeploy.listDeploymentTargets(d.deploymentId, signal);
  const first = ids[0];
  return first === undefined ? undefined : deps.codedeploy.getDeploymentTarget(d.deploymentId, first, signal);
}

function hasEntry(plan: Plan, key: string): boolean {
  try {
    checksForHook(plan, key);
    return true;
  } catch {
    return false;
  }
}

interface Settings {
  readonly pollIntervalMs: number;
  readonly watchLimitMs: number;
}

/** Throws a `SettingError` naming the variable when a setting is unparseable or out of its range. */
function readSettings(s: WaitGateDeps['settings']): Settings {
  return {
    pollIntervalMs: readDurationSetting(durationSettings.pollInterval, s.pollInterval),
    watchLimitMs: readDurationSetting(durationSettings.watchLimit, s.watchLimit),
  };
}

/**
 * Reads a CodeDeploy deployment state-change event (unknown keys ignored) or a continuation.
 * Throws a `WaitEventError` when no deployment id (and, for a continuation, no wait) can be read.
 */
export function readWaitInput(event: unknown): Input {
  const record = eventObject(event, 256 * 1024);
  if (!record) {
    throw new WaitEventError('malformed event: expected a CodeDeploy deployment state-change event');
  }
  if (record.greenlightWaitGateContinuation !== undefined) return readClaim(record.greenlightWaitGateContinuation);
  const detail = record.detail;
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
    throw new WaitEventError('malformed event: no detail object');
  }
  const d = detail as Record<string, unknown>;
  if (typeof d.deploymentId !== 'string' || !deploymentIdPattern.test(d.deploymentId)) {
    throw new WaitEventError('malformed event: detail.deploymentId must be a deployment id (d-XXXXXXXXX)');
  }
  if (typeof d.state !== 'string' || d.state === '')
    throw new WaitEventError('malformed event: detail.state is missing');
  const detailType = record['detail-type'];
  const time = typeof record.time === 'string' ? Date.parse(record.time) : Number.NaN;
  // Both end up in logs and answers: an oversized one is cut (it then matches nothing and is ignored).
  return {
    kind: 'event',
    deploymentId: d.deploymentId,
    state: clip(d.state),
    ...(typeof detailType === 'string' ? { detailType: clip(detailType) } : {}),
    ...(Number.isFinite(time) ? { time } : {}),
  };
}

function clip(text: string, max = 128): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The deployment and wait a continuation names, before anything about it is trusted. */
function readClaim(raw: unknown): Input {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new WaitEventError('malformed continuation: expected an object');
  }
  const r = raw as Record<string, unknown>;
  if (typeof r.deploymentId !== 'string' || !deploymentIdPattern.test(r.deploymentId)) {
    throw new WaitEventError('malformed continuation: deploymentId must be a deployment id');
  }
  if (r.wait !== 'READY_WAIT' && r.wait !== 'TERMINATION_WAIT') {
    throw new WaitEventError('malformed continuation: wait must be READY_WAIT or TERMINATION_WAIT');
  }
  return { kind: 'continuation', raw, deploymentId: r.deploymentId, wait: r.wait };
}

type Opened =
  | { readonly kind: 'trusted'; readonly c: WaitContinuation }
  | { readonly kind: 'untrusted'; readonly reason: string };

/**
 * Verifies a continuation's seal and reads it. A key that cannot be read for a watch is thrown (Lambda
 * retries the invocation: a dropped watch would leave the termination wait ungated); every other
 * failure makes the continuation untrusted, with the reason.
 */
async function openContinuation(
  deps: WaitGateDeps,
  claim: Extract<Input, { kind: 'continuation' }>,
  deadline: GateDeadline,
): Promise<Opened> {
  let key: Uint8Array;
  try {
    key = await deadline.key.get();
  } catch (error) {
    const claimed = (claim.raw as Record<string, unknown>).phase;
    if (claimed === 'watch') throw error;
    return { kind: 'untrusted', reason: (error as Error).message };
  }
  const now = deps.clock.now();
  try {
    const body = unseal(claim.raw, key, continuationPurpose, now, maxContinuationAgeMs);
    const { c, problems } = readContinuation(body, now);
    if (problems.length > 0) return { kind: 'untrusted', reason: `malformed continuation: ${problems.join('; ')}` };
    return { kind: 'trusted', c };
  } catch (error) {
    if (!(error instanceof StateError)) throw error;
    return { kind: 'untrusted', reason: `continuation refused: ${error.message}` };
  }
}

/** Reads a verified continuation; `problems` lists what is wrong with it (a sealed one is ours: a bug). */
function readContinuation(
  r: Record<string, unknown>,
  now: number,
): { c: WaitContinuation; problems: readonly string[] } {
  const problems: string[] = [];
  if (r.kind !== 'codedeploy-wait-gate' || r.v !== 2)
    problems.push('not a codedeploy-wait-gate continuation of version 2');
  const phase: WaitPhase = r.phase === 'watch' ? 'watch' : 'bake';
  if (r.phase !== 'watch' && r.phase !== 'bake') problems.push('phase must be watch or bake');
  if (phase === 'watch' && r.wait !== 'TERMINATION_WAIT') problems.push('only the termination wait is watched');
  const hop = typeof r.hop === 'number' && Number.isSafeInteger(r.hop) && r.hop >= 0 ? r.hop : 0;
  if (hop !== r.hop) problems.push('hop must be a whole number');
  const since = typeof r.since === 'number' && Number.isSafeInteger(r.since) ? r.since : 0;
  if (since !== r.since) problems.push('since must be epoch milliseconds');
  // A start in the future would never reach the watch limit or the wait's end.
  else if (since > now + clockSkewMs || since > (r.issuedAt as number)) problems.push('since is in the future');
  if (phase === 'bake' && r.state === undefined) problems.push('a bake continuation carries its analysis state');
  const c: WaitContinuation = {
    kind: 'codedeploy-wait-gate',
    v: 2,
    deploymentId: r.deploymentId as string,
    wait: r.wait as DeploymentWaitType,
    phase,
    hop,
    since,
    ...(r.state !== undefined ? { state: r.state } : {}),
  };
  return { c, problems };
}
