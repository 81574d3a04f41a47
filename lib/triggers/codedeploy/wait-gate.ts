import type {
  CodeDeployDeployment,
  CodeDeployPort,
  CodeDeployTarget,
  DeploymentWaitType,
} from '../../aws/codedeploy.ts';
import type { ListenerPort } from '../../aws/elbv2.ts';
import type { AsyncInvokePort } from '../../aws/lambda-async.ts';
import type { TaskDefinitionPort } from '../../aws/task-definitions.ts';
import type { TaskSetOriginPort } from '../../aws/task-sets.ts';
import { usedPlaceholders } from '../../checks/build-runs.ts';
import { errorMessage } from '../../core/analyze.ts';
import type { Clock } from '../../core/types.ts';
import {
  clockSkewMs,
  decodeState,
  encodeState,
  maxAnalysisMs,
  planDeadline,
  planFingerprint,
  type StateBinding,
  type StateKeyOnce,
  scheduleMs,
  stateKeyOnce,
} from '../../gate/carried-state.ts';
import { deliver, isRetryable, ReportError } from '../../gate/deliver.ts';
import type { CarriedStateDeps } from '../../gate/deps.ts';
import { GateConfigError, HandOverError } from '../../gate/errors.ts';
import { deploymentGroup } from '../../gate/observe.ts';
import type { GateRun, Opened, Outcome, Trigger } from '../../gate/trigger.ts';
import { NoPlanError } from '../../plan/load.ts';
import { codeDeployRoute } from '../../plan/route.ts';
import { checksForHook, type Plan, type PlanCheck } from '../../plan/schema.ts';
import type { Log } from '../../runtime/logger.ts';
import { durationSettings, readDurationSetting, SettingError } from '../../runtime/settings.ts';
import { formatDuration } from '../../spec/fields.ts';
import { resolveCodeDeployContext } from './context.ts';
import {
  deploymentStateChange,
  freshContinuation,
  openContinuation,
  readWaitInput,
  sealContinuation,
  type WaitContinuation,
  type WaitInput,
} from './wait-event.ts';

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

export interface WaitGatePorts extends CarriedStateDeps {
  readonly codedeploy: CodeDeployPort;
  readonly listeners: ListenerPort;
  /** ECS DescribeTaskSets: tells green from blue when CodeDeploy omits the task set labels. */
  readonly taskSets?: TaskSetOriginPort;
  /** ECS DescribeTaskDefinition: {{greenTaskDefinition}} and {{greenImage}}. */
  readonly taskDefinitions?: TaskDefinitionPort;
  readonly invoker: AsyncInvokePort;
  readonly clock: Clock;
  readonly log: Log;
  readonly settings: {
    /** GREENLIGHT_WAIT_POLL_INTERVAL: how often the watcher reads the deployment (default 30s, 50ms to 10m). */
    readonly pollInterval?: string | undefined;
    /** GREENLIGHT_WAIT_WATCH_LIMIT: how long to watch for the termination wait before giving up (default 72h, 1m to 7d). */
    readonly watchLimit?: string | undefined;
    readonly region?: string | undefined;
  };
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
  | 'watch-ended'
  /** No plan routes to the deployment and there is no fallback: someone else's deployment. */
  | 'no-plan';

export interface WaitOutcome {
  readonly deploymentId: string;
  readonly wait?: DeploymentWaitType;
  readonly verdict?: 'pass' | 'fail';
  readonly result: WaitResult;
  readonly reasons: readonly string[];
}

const planKeys = { READY_WAIT: 'ReadyWait', TERMINATION_WAIT: 'TerminationWait' } as const;
const terminal = new Set(['Succeeded', 'Failed', 'Stopped']);
const rollbackCreators = new Set(['autoRollback', 'codeDeployRollback']);
/** How long a failing hand-over is retried before it counts as failed. */
const handOverWindowMs = 30_000;
/** A guard rail on self-invocation: a watch chain never runs longer than this many invocations. */
const maxWatchHops = 2_000;

/** The wait as this invocation holds it: its continuation, its state key, and CodeDeploy's confirmation. */
interface WaitHook {
  readonly c: WaitContinuation;
  readonly key: StateKeyOnce;
  /** GetDeployment (and the ECS target) showing the deployment in its wait; absent for a refused watch. */
  readonly confirmed?: { readonly deployment: CodeDeployDeployment; readonly target: CodeDeployTarget | undefined };
  /** False when the decision is delivered without asking again whether the deployment still waits. */
  readonly recheck: boolean;
  settings?: Settings;
  binding?: StateBinding;
}

type Delivered = Pick<WaitOutcome, 'verdict' | 'result' | 'reasons'>;

/**
 * The CodeDeploy wait gate as a trigger: READY opens the ready wait; START watches for the termination
 * wait (handing the watch on from invocation to invocation) and opens it once it shows; a continuation
 * resumes either. Once the gate decides, it delivers the decision exactly once: `ContinueDeployment` on
 * pass, `StopDeployment` with `autoRollbackEnabled` on fail.
 */
export function codeDeployWaitGateTrigger(ports: WaitGatePorts): Trigger<WaitInput, WaitHook, Delivered, WaitOutcome> {
  const { clock, log, codedeploy } = ports;

  /** GetDeployment and the target: the wait is open only if CodeDeploy says the deployment is in it. */
  async function confirm(c: WaitContinuation, run: GateRun, key: StateKeyOnce, problems: readonly string[]) {
    const deployment = await codedeploy.getDeployment(c.deploymentId, run.signal);
    run.scope.group = deploymentGroup(deployment);
    const target = await waitTarget(ports, deployment, run.signal);
    return opened(c, key, { deployment, target }, problems, run);
  }

  function opened(
    c: WaitContinuation,
    key: StateKeyOnce,
    confirmed: NonNullable<WaitHook['confirmed']>,
    problems: readonly string[],
    run: GateRun,
  ): Opened<WaitHook> {
    const { deployment, target } = confirmed;
    run.scope.group = deploymentGroup(deployment);
    if (!inWait(deployment, target, c.wait)) {
      return {
        kind: 'closed',
        warn: true,
        result: 'not-waiting',
        reason: `deployment is ${deployment.status ?? 'in an unknown state'}, not in its ${c.wait}: a duplicate or stale event`,
      };
    }
    const hook: WaitHook = { c, key, confirmed, recheck: true };
    if (problems.length > 0) return { kind: 'refused', reason: `malformed continuation: ${problems.join('; ')}`, hook };
    return { kind: 'open', hook };
  }

  /** At START: watch for the termination wait only if this deployment has one and the plan gates it. */
  async function startWatch(deploymentId: string, run: GateRun, key: StateKeyOnce): Promise<Opened<WaitHook>> {
    const deployment = await codedeploy.getDeployment(deploymentId, run.signal);
    const skip = watchSkipReason(deployment);
    if (skip) return { kind: 'closed', result: 'ignored', reason: skip };
    try {
      // The route the bake will use: an ECS deployment's plan may be kept under its service.
      const target = await waitTarget(ports, deployment, run.signal).catch(() => undefined);
      const plan = await run.loadPlan(run.signal, codeDeployRoute(deployment, target));
      if (!hasEntry(plan, planKeys.TERMINATION_WAIT)) {
        return {
          kind: 'closed',
          result: 'ignored',
          reason: 'the plan has no TerminationWait entry (nor "*"): the termination wait is not gated',
        };
      }
    } catch (error) {
      if (error instanceof NoPlanError) return { kind: 'closed', result: 'no-plan', reason: error.message };
      // Watched anyway: when the wait comes, the bake fails closed on the plan if it is still unreadable.
      log.warn('cannot read the plan now; watching anyway', { error: errorMessage(error) });
    }
    const c: WaitContinuation = {
      ...freshContinuation(deploymentId, 'TERMINATION_WAIT', 'watch'),
      since: clock.now(),
    };
    return watch(c, run, key, deployment);
  }

  /** Polls until the termination wait shows, the deployment ends, or this invocation runs out of time. */
  async function watch(
    c: WaitContinuation,
    run: GateRun,
    key: StateKeyOnce,
    first?: CodeDeployDeployment,
  ): Promise<Opened<WaitHook>> {
    // A watch that cannot run as configured would leave the termination wait ungated: the deployment is
    // stopped with rollback instead, naming the setting (fail closed, delivered without asking again).
    if (run.settingError)
      return { kind: 'refused', reason: run.settingError.message, hook: { c, key, recheck: false } };
    let settings: Settings;
    try {
      settings = readSettings(ports.settings);
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
      return { kind: 'refused', reason: error.message, hook: { c, key, recheck: false } };
    }
    // A watch almost always hands on to the next invocation: read the key while it polls.
    key.prefetch();
    let deployment = first;
    try {
      for (;;) {
        if (clock.now() - c.since > settings.watchLimitMs) {
          const reason = `no termination wait seen within ${formatDuration(settings.watchLimitMs)} (GREENLIGHT_WAIT_WATCH_LIMIT): no longer watching`;
          log.error('gave up watching for the termination wait', { reason });
          return { kind: 'closed', result: 'watch-ended', reason };
        }
        try {
          deployment ??= await codedeploy.getDeployment(c.deploymentId, run.signal);
          const skip = watchSkipReason(deployment);
          if (skip) return { kind: 'closed', result: 'watch-ended', reason: skip };
          const target = await waitTarget(ports, deployment, run.signal);
          if (terminationWaitStarted(deployment, target)) {
            log.info('the termination wait has begun: baking on production traffic');
            const bake: WaitContinuation = { ...c, phase: 'bake', hop: 0, since: clock.now() };
            return opened(bake, key, { deployment, target }, [], run);
          }
        } catch (error) {
          if (run.signal.aborted) break;
          // A deployment that does not exist or cannot be read will not become readable by waiting.
          if (!isRetryable(error)) throw error;
          log.warn('could not read the deployment while watching; trying again', {
            error: errorMessage(error),
            errorName: (error as Error)?.name,
          });
        }
        deployment = undefined;
        if (clock.now() + settings.pollIntervalMs >= run.analysisEndsAt) break;
        await clock.sleep(settings.pollIntervalMs, run.signal);
        if (run.signal.aborted) break;
      }
      if (c.hop + 1 > maxWatchHops) {
        const reason = `the watch reached ${maxWatchHops} invocations: no longer watching`;
        log.error('gave up watching for the termination wait', { reason });
        return { kind: 'closed', result: 'watch-ended', reason };
      }
      // Not handed on means nobody watches: fail loudly so that Lambda retries this invocation.
      await handOn({ ...c, hop: c.hop + 1 }, run, key);
    } catch (error) {
      return { kind: 'retry', error };
    }
    log.info('still no termination wait: watching on in the next invocation', { hop: c.hop + 1 });
    return { kind: 'handed-on', result: 'resumes-later', reasons: ['watching'] };
  }

  async function handOn(c: WaitContinuation, run: GateRun, key: StateKeyOnce): Promise<void> {
    const arn = run.invocation.invokedFunctionArn;
    if (!arn) throw new ReportError('cannot hand on: the invocation has no function ARN');
    const payload = sealContinuation(c, await key.get(), clock.now());
    await deliver(
      (signal) => ports.invoker.invokeAsync(arn, payload, signal),
      Math.min(run.reportBy, clock.now() + handOverWindowMs),
      clock,
    );
  }

  return {
    name: 'codedeploy-wait-gate',
    read(event) {
      const input = readWaitInput(event);
      if (input.kind === 'continuation') return input;
      const subject = input.deploymentId;
      if (input.detailType !== undefined && input.detailType !== deploymentStateChange) {
        return { kind: 'ignored', subject, reason: `detail-type ${input.detailType} signals no wait` };
      }
      // SUCCESS, FAILURE and STOP end a deployment: nothing waits any more.
      if (input.state !== 'READY' && input.state !== 'START') {
        return { kind: 'ignored', subject, reason: `state ${input.state} signals no wait` };
      }
      return input;
    },
    scope(input) {
      const wait = waitOf(input);
      return {
        logKeys: {
          deploymentId: input.deploymentId,
          ...(input.kind === 'event' ? { eventState: input.state } : {}),
          wait,
        },
        scope: { stage: wait, deploymentId: input.deploymentId },
      };
    },

    async open(input, run) {
      const key = stateKeyOnce(ports.stateKey, () => AbortSignal.timeout(Math.max(1, run.reportBy - clock.now())));
      if (input.kind === 'event') {
        if (input.state === 'START') return startWatch(input.deploymentId, run, key);
        // The event's time is the invoker's word: an early one would shorten the analysis into a rollback. The wait
        // is counted from now; if it began earlier, CodeDeploy's own timeout stops the deployment (closed, not open).
        const now = clock.now();
        if (input.time !== undefined && Math.abs(now - input.time) > clockSkewMs) {
          log.info('the event time is not used: the ready wait is counted from now', {
            eventTime: new Date(input.time).toISOString(),
          });
        }
        return confirm({ ...freshContinuation(input.deploymentId, 'READY_WAIT', 'bake'), since: now }, run, key, []);
      }
      let secret: Uint8Array;
      try {
        secret = await key.get();
      } catch (error) {
        // A watch dropped here would leave the termination wait ungated: fail the invocation, Lambda retries it.
        if ((input.raw as Record<string, unknown>).phase === 'watch') return { kind: 'retry', error };
        return confirm(freshContinuation(input.deploymentId, input.wait, 'bake'), run, key, [(error as Error).message]);
      }
      const continued = openContinuation(input.raw, secret, clock.now());
      if (continued.kind === 'untrusted') {
        log.error('the continuation cannot be trusted: acting only if CodeDeploy says the deployment waits', {
          wait: input.wait,
          reason: continued.reason,
        });
        return confirm(freshContinuation(input.deploymentId, input.wait, 'bake'), run, key, [continued.reason]);
      }
      const { c } = continued;
      log.appendKeys({ wait: c.wait, phase: c.phase, hop: c.hop });
      if (c.phase === 'watch') return watch(c, run, key);
      return confirm(c, run, key, []);
    },

    rollback: async (_input, hook) =>
      rollbackCreators.has(hook.confirmed?.deployment.creator ?? '') ? 'rollback deployment: not blocked' : undefined,

    async checks(_input, hook, run) {
      const { deployment, target } = confirmedOf(hook);
      const plan = await run.loadPlan(run.signal, codeDeployRoute(deployment, target));
      hook.settings = readSettings(ports.settings);
      return checksForHook(plan, planKeys[hook.c.wait]);
    },
    // EventBridge sends every deployment of the groups in scope: one without a plan is not greenlight's.
    withoutPlan: 'ignore',

    context: (_input, hook, selected, run) =>
      resolveCodeDeployContext(
        {
          listeners: ports.listeners,
          taskSets: ports.taskSets,
          taskDefinitions: ports.taskDefinitions,
          region: ports.settings.region,
        },
        {
          deployment: confirmedOf(hook).deployment,
          target: confirmedOf(hook).target,
          hook: planKeys[hook.c.wait],
          needed: usedPlaceholders(selected.checks),
        },
        run.signal,
      ),

    state: {
      kind: 'carried',
      async load(_input, hook, selected, run) {
        const { c } = hook;
        const planKey = planKeys[c.wait];
        hook.binding = { fingerprint: planFingerprint(selected.checks, planKey), bind: `${c.deploymentId}:${c.wait}` };
        if (c.state !== undefined) {
          const carried = decodeState(
            c.state,
            { ...hook.binding, checks: selected.checks },
            clock.now(),
            await hook.key.get(),
          );
          return { carried, deadline: carried.deadline };
        }
        const deadline = firstDeadline(
          confirmedOf(hook).deployment,
          c.wait,
          selected.checks,
          c.since,
          hook.settings as Settings,
          run,
          clock.now(),
        );
        // State will be handed on unless the schedule fits this invocation: read the key while the checks run.
        if (clock.now() + scheduleMs(selected.checks) > run.analysisEndsAt) hook.key.prefetch();
        return { deadline };
      },
      async save(_input, hook, next, run) {
        try {
          const state = encodeState(
            { analysis: next.analysis, deadline: next.deadline, legs: next.legs },
            hook.binding as StateBinding,
            await hook.key.get(),
          );
          await handOn({ ...hook.c, phase: 'bake', hop: hook.c.hop + 1, state }, run, hook.key);
        } catch (error) {
          // Nobody would finish the analysis: decide now rather than leave the wait undecided.
          throw new HandOverError(`could not hand the analysis on to the next invocation: ${errorMessage(error)}`, {
            cause: error,
          });
        }
        log.info('analysis continues in the next invocation', {
          legs: next.legs,
          resumeAt: new Date(next.resumeAt).toISOString(),
        });
        return {
          kind: 'handed-on',
          result: 'resumes-later',
          reasons: [`analysis continues (leg ${next.legs + 1})`],
          resumeAt: next.resumeAt,
        };
      },
    },

    async deliver(verdict, { input, hook }, _run, by) {
      const deploymentId = input.deploymentId;
      const wait = hook?.c.wait ?? waitOf(input);
      const pass = verdict.status === 'pass';
      // The analysis may have taken long: a duplicate delivery may have decided meanwhile. Act only on a wait
      // that is still open; if it cannot be read now, deliver the decision anyway (CodeDeploy refuses a stale one).
      const still =
        hook?.recheck === false
          ? undefined
          : await stillWaiting(ports, deploymentId, wait, AbortSignal.timeout(Math.max(1, by - clock.now())));
      if (still === false) {
        return {
          kind: 'closed',
          result: 'not-waiting',
          reason: `deployment is no longer in its ${wait}: another delivery of this event decided first`,
        };
      }
      if (pass) {
        const answer = await deliver(
          (signal) => codedeploy.continueDeployment({ deploymentId, waitType: wait }, signal),
          by,
          clock,
        );
        if (answer === 'continued') log.info('continued the deployment', { waitType: wait });
        else log.warn('CodeDeploy had already moved on: nothing to continue', { waitType: wait, answer });
        return {
          kind: 'delivered',
          decision: 'ContinueDeployment',
          delivery: answer,
          detail: { verdict: 'pass', result: answer, reasons: verdict.reasons },
        };
      }
      const stop = await deliver((signal) => codedeploy.stopDeploymentWithRollback(deploymentId, signal), by, clock);
      const result = stop.result === 'stopping' ? 'stopping' : 'already-completed';
      if (result === 'stopping') {
        log.warn('stopped the deployment with rollback', { status: stop.status, message: stop.message });
      } else {
        log.warn('the deployment had already completed: nothing left to stop', { message: stop.message });
      }
      return {
        kind: 'delivered',
        decision: 'StopDeployment',
        delivery: result,
        detail: { verdict: 'fail', result, reasons: verdict.reasons },
      };
    },

    answer: waitOutcome,
  };
}

/** The wait an input is about: READY opens the ready wait, START the watch for the termination wait. */
function waitOf(input: WaitInput): DeploymentWaitType {
  if (input.kind === 'continuation') return input.wait;
  return input.state === 'START' ? 'TERMINATION_WAIT' : 'READY_WAIT';
}

function confirmedOf(hook: WaitHook): NonNullable<WaitHook['confirmed']> {
  if (!hook.confirmed) throw new Error('the wait was not confirmed with CodeDeploy');
  return hook.confirmed;
}

function waitOutcome(outcome: Outcome<WaitInput, Delivered>): WaitOutcome {
  switch (outcome.kind) {
    case 'ignored':
      return { deploymentId: outcome.subject ?? '', result: 'ignored', reasons: [outcome.reason] };
    case 'closed':
      return {
        deploymentId: outcome.input.deploymentId,
        wait: waitOf(outcome.input),
        ...(outcome.verdict ? { verdict: outcome.verdict.status === 'pass' ? 'pass' : 'fail' } : {}),
        result: (outcome.result ?? 'not-waiting') as WaitResult,
        reasons: [outcome.reason],
      };
    case 'handed-on':
      return {
        deploymentId: outcome.input.deploymentId,
        wait: waitOf(outcome.input),
        result: 'resumes-later',
        reasons: outcome.reasons,
      };
    case 'decided':
      return { deploymentId: outcome.input.deploymentId, wait: waitOf(outcome.input), ...outcome.delivery.detail };
  }
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
  deadline: { readonly analysisEndsAt: number; readonly reportBy: number },
  now: number,
): number {
  const deciding = checks.filter((c) => !c.policy.dryRun);
  const schedule = scheduleMs(deciding);
  if (schedule > maxAnalysisMs) {
    throw new GateConfigError(
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
    throw new GateConfigError(
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
  deps: WaitGatePorts,
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
  deps: WaitGatePorts,
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
function readSettings(s: WaitGatePorts['settings']): Settings {
  return {
    pollIntervalMs: readDurationSetting(durationSettings.pollInterval, s.pollInterval),
    watchLimitMs: readDurationSetting(durationSettings.watchLimit, s.watchLimit),
  };
}
