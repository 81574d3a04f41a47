import type {
  CodeDeployDeployment,
  CodeDeployPort,
  CodeDeployTarget,
  DeploymentWaitType,
} from '../../aws/codedeploy.ts';
import type { ListenerPort } from '../../aws/elbv2.ts';
import type { TaskDefinitionPort } from '../../aws/task-definitions.ts';
import type { TaskSetOriginPort } from '../../aws/task-sets.ts';
import { usedPlaceholders } from '../../checks/build-runs.ts';
import { errorMessage } from '../../core/analyze.ts';
import type { Clock } from '../../core/types.ts';
import { deliver, isRetryable } from '../../gate/deliver.ts';
import { GateConfigError } from '../../gate/errors.ts';
import { deploymentGroup } from '../../gate/observe.ts';
import { clockSkewMs, scheduleMs } from '../../gate/schedule.ts';
import type { GateRun, Opened, Outcome, Trigger } from '../../gate/trigger.ts';
import { NoPlanError } from '../../plan/load.ts';
import { codeDeployRoute } from '../../plan/route.ts';
import { checksForHook, type Plan } from '../../plan/schema.ts';
import { codeDeployWaitLimitMs } from '../../plan/trigger-limits.ts';
import type { Log } from '../../runtime/logger.ts';
import { durationSettings, readDurationSetting, SettingError } from '../../runtime/settings.ts';
import { formatDuration } from '../../spec/fields.ts';
import { resolveCodeDeployContext } from './context.ts';
import { deploymentStateChange, readWaitInput, type WaitInput, waitStartEvent } from './wait-event.ts';

/**
 * The CodeDeploy blue/green wait gate.
 *
 * - READY_WAIT: CodeDeploy emits `CodeDeploy Deployment State-change Notification` with
 *   `detail.state: READY` when the replacement is ready and traffic waits for `ContinueDeployment`.
 *   The gate confirms `status: Ready` with GetDeployment, runs the plan's `ReadyWait` checks and
 *   continues (pass) or stops with rollback (fail).
 * - TERMINATION_WAIT: no event marks its start (the deployment's SUCCESS comes after it ends), so the
 *   gate starts watching at `detail.state: START` and looks at GetDeployment / GetDeploymentTarget until
 *   the wait shows (ECS: the target `Succeeded` while the deployment is still `InProgress`;
 *   elsewhere `instanceTerminationWaitTimeStarted`), then bakes with the plan's `TerminationWait`
 *   checks while the original task set still exists.
 * A schedule that fits the invocation runs in it. A longer one, and the watch, run in a Lambda durable
 * execution named after the deployment and the wait (lib/gate/durable.ts): each look at the deployment
 * and each round of measurements is a checkpointed step, durable waits between them cost no compute.
 *
 * Whoever may invoke the function can send any payload: from an event only the deployment id and the
 * state are read (not its time), and GetDeployment / GetDeploymentTarget decide whether the deployment
 * is in a wait; the durable execution asks CodeDeploy again itself.
 */

export interface WaitGatePorts {
  readonly codedeploy: CodeDeployPort;
  readonly listeners: ListenerPort;
  /** ECS DescribeTaskSets: tells green from blue when CodeDeploy omits the task set labels. */
  readonly taskSets?: TaskSetOriginPort;
  /** ECS DescribeTaskDefinition: {{greenTaskDefinition}} and {{greenImage}}. */
  readonly taskDefinitions?: TaskDefinitionPort;
  readonly clock: Clock;
  readonly log: Log;
  readonly settings: {
    /** GREENLIGHT_WAIT_POLL_INTERVAL: how often the watch looks at the deployment (default 30s, 50ms to 10m). */
    readonly pollInterval?: string | undefined;
    /**
     * GREENLIGHT_WAIT_WATCH_LIMIT: how long after the deployment's creation the watch gives up on its
     * termination wait (default 72h, 1m to 7d).
     */
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
  /** The watch or the analysis runs in a durable execution, which decides (one per wait, whatever the deliveries). */
  | 'analysis-started'
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

/**
 * The most looks a durable watch takes. Each look is a step and a durable wait: two of the 25,000
 * operations Lambda keeps in one execution's history, so 10,000 looks leave 5,000 for the bake. The
 * watch's interval is GREENLIGHT_WAIT_POLL_INTERVAL, or longer when the watch limit needs it (`watchIntervalMs`).
 */
export const maxWatchLooks = 10_000;

/** The wait as CodeDeploy showed it open. JSON throughout: it crosses the durable execution's checkpoints. */
interface WaitHook {
  readonly wait: DeploymentWaitType;
  /** Epoch ms at which the gate first saw the wait open: its window counts from here. */
  readonly since: number;
  /** GetDeployment (and the ECS target) showing the deployment in its wait; absent for a refused watch. */
  readonly confirmed?: { readonly deployment: CodeDeployDeployment; readonly target: CodeDeployTarget | undefined };
  /** False when the decision is delivered without asking again whether the deployment still waits. */
  readonly recheck: boolean;
}

type Delivered = Pick<WaitOutcome, 'verdict' | 'result' | 'reasons'>;

/**
 * The CodeDeploy wait gate as a trigger: READY opens the ready wait; START looks for the termination wait
 * (a durable execution looks again every `watchIntervalMs` until it shows) and opens it once it shows.
 * Once the gate decides, it delivers the decision exactly once: `ContinueDeployment` on pass,
 * `StopDeployment` with `autoRollbackEnabled` on fail.
 */
export function codeDeployWaitGateTrigger(ports: WaitGatePorts): Trigger<WaitInput, WaitHook, Delivered, WaitOutcome> {
  const { clock, log, codedeploy } = ports;

  /** READY: the wait is open only if CodeDeploy says the deployment is Ready. */
  async function openReady(input: WaitInput, run: GateRun): Promise<Opened<WaitHook>> {
    // The event's time is the invoker's word: an early one would shorten the analysis into a rollback. The wait
    // is counted from now; if it began earlier, CodeDeploy's own timeout stops the deployment (closed, not open).
    const now = clock.now();
    if (input.time !== undefined && Math.abs(now - input.time) > clockSkewMs) {
      log.info('the event time is not used: the ready wait is counted from now', {
        eventTime: new Date(input.time).toISOString(),
      });
    }
    const deployment = await codedeploy.getDeployment(input.deploymentId, run.signal);
    run.scope.group = deploymentGroup(deployment);
    const target = await waitTarget(ports, deployment, run.signal);
    if (!inWait(deployment, target, 'READY_WAIT')) return notWaiting(deployment, 'READY_WAIT');
    return { kind: 'open', hook: { wait: 'READY_WAIT', since: now, confirmed: { deployment, target }, recheck: true } };
  }

  /**
   * START: one look for the termination wait. Open once it shows; closed when the deployment has none, the
   * plan does not gate it, the deployment ended or the watch limit passed; else look again in one interval
   * (the entry starts the durable execution, which waits durably and calls `open` again).
   */
  async function look(input: WaitInput, run: GateRun): Promise<Opened<WaitHook>> {
    // A watch that cannot run as configured would leave the termination wait ungated: the deployment is
    // stopped with rollback instead, naming the setting (fail closed, delivered without asking again).
    const refused = (reason: string): Opened<WaitHook> => ({
      kind: 'refused',
      reason,
      hook: { wait: 'TERMINATION_WAIT', since: clock.now(), recheck: false },
    });
    // A bad setting refuses the watch only once the plan says the deployment is greenlight's: a misconfigured
    // gate must never stop someone else's deployment (a deployment no plan routes to is left alone).
    let settingProblem = run.settingError?.message;
    let settings = readSettings({});
    try {
      settings = readSettings(ports.settings);
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
      settingProblem ??= error.message;
    }
    const interval = watchIntervalMs(settings);
    const later = (reason: string): Opened<WaitHook> => ({
      kind: 'handed-on',
      reasons: [reason],
      resumeAt: clock.now() + interval,
    });
    let deployment: CodeDeployDeployment;
    let target: CodeDeployTarget | undefined;
    try {
      deployment = await codedeploy.getDeployment(input.deploymentId, run.signal);
      run.scope.group = deploymentGroup(deployment);
      const skip = watchSkipReason(deployment);
      if (skip)
        return {
          kind: 'closed',
          result: terminal.has(deployment.status ?? '') ? 'watch-ended' : 'ignored',
          reason: skip,
        };
      const since = deployment.createTime;
      if (since !== undefined && clock.now() - since > settings.watchLimitMs) {
        const reason = `no termination wait seen within ${formatDuration(settings.watchLimitMs)} of the deployment's creation (GREENLIGHT_WAIT_WATCH_LIMIT): no longer watching`;
        log.error('gave up watching for the termination wait', { reason });
        return { kind: 'closed', result: 'watch-ended', reason };
      }
      target = await waitTarget(ports, deployment, run.signal);
    } catch (error) {
      // A deployment that does not exist or cannot be read will not become readable by waiting.
      if (!isRetryable(error)) return { kind: 'retry', error };
      log.warn('could not read the deployment while watching; looking again later', {
        error: errorMessage(error),
        errorName: (error as Error)?.name,
      });
      return later('watching for the termination wait (the deployment could not be read)');
    }
    try {
      // The route the bake will use: an ECS deployment's plan may be kept under its service.
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
    if (settingProblem !== undefined) return refused(settingProblem);
    if (terminationWaitStarted(deployment, target)) {
      log.info('the termination wait has begun: baking on production traffic');
      return {
        kind: 'open',
        hook: { wait: 'TERMINATION_WAIT', since: clock.now(), confirmed: { deployment, target }, recheck: true },
      };
    }
    log.info('no termination wait yet: looking again later', { intervalMs: interval });
    return later('watching for the termination wait');
  }

  /** Epoch ms at which the wait ends, as the deployment configures it, or undefined when it sets no end. */
  function waitEndsAt(
    hook: WaitHook,
  ): { at: number; window: NonNullable<ReturnType<typeof waitWindowMs>> } | undefined {
    const window = waitWindowMs(confirmedOf(hook).deployment, hook.wait);
    if (window === undefined) return undefined;
    // The termination wait may have begun up to one look before the watch saw it.
    const early = hook.wait === 'TERMINATION_WAIT' ? watchIntervalMs(readSettings(ports.settings)) : 0;
    return { at: hook.since + window.ms - early, window };
  }

  return {
    name: 'codedeploy-wait-gate',
    read(event) {
      const input = readWaitInput(event);
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
        logKeys: { deploymentId: input.deploymentId, eventState: input.state, wait },
        scope: { stage: wait, deploymentId: input.deploymentId },
      };
    },

    open: (input, run) => (waitOf(input) === 'READY_WAIT' ? openReady(input, run) : look(input, run)),

    rollback: async (_input, hook) =>
      rollbackCreators.has(hook.confirmed?.deployment.creator ?? '') ? 'rollback deployment: not blocked' : undefined,

    async checks(_input, hook, run) {
      const { deployment, target } = confirmedOf(hook);
      const plan = await run.loadPlan(run.signal, codeDeployRoute(deployment, target));
      const selected = checksForHook(plan, planKeys[hook.wait]);
      // The analysis must end before the wait does (the ready wait's timeout stops the deployment; after the
      // termination wait the original task set is gone): a schedule that cannot fit fails now, naming both.
      const ends = waitEndsAt(hook);
      if (ends) {
        const now = clock.now();
        const schedule = scheduleMs(selected.checks);
        const reserveMs = Math.max(0, run.reportBy - run.analysisEndsAt);
        if (now + schedule + reserveMs > ends.at) {
          throw new GateConfigError(
            `the ${planKeys[hook.wait]} schedule takes up to ${formatDuration(schedule)} but the deployment's ${ends.window.name} leaves about ${formatDuration(Math.max(0, Math.floor((ends.at - now) / 1000) * 1000))}: shorten the schedule or lengthen ${ends.window.field}`,
          );
        }
      }
      return selected;
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
          hook: planKeys[hook.wait],
          needed: usedPlaceholders(selected.checks),
        },
        run.signal,
      ),

    // The deployment waits for the decision up to its wait's own minutes (CodeDeploy allows up to 2 days):
    // the watch and a schedule longer than this invocation run on a durable execution named after the wait.
    state: {
      kind: 'durable',
      limits: 'codedeploy-wait-gate',
      executionKey: (input) => `${input.deploymentId}|${waitOf(input)}`,
      startEvent: (input) => waitStartEvent(input.deploymentId, waitOf(input)),
      hookDeadline: async (_input, hook) => waitEndsAt(hook)?.at ?? hook.since + codeDeployWaitLimitMs,
      keep: (hook) => JSON.parse(JSON.stringify(hook)) as unknown,
      restore: (kept) => kept as WaitHook,
    },

    async deliver(verdict, { input, hook }, _run, by) {
      const deploymentId = input.deploymentId;
      const wait = hook?.wait ?? waitOf(input);
      const pass = verdict.status === 'pass';
      // The analysis may have taken long: a duplicate delivery may have decided meanwhile. Act only on a wait
      // that is still open; if it cannot be read now, deliver the decision anyway (CodeDeploy refuses a stale one).
      // A watch that failed before the wait began (no durable function to watch on, a deployment that could
      // not be read) is not asked about: the wait would go ungated, so the deployment is stopped.
      const still =
        hook?.recheck === false || (hook === undefined && wait === 'TERMINATION_WAIT')
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

/**
 * How often a watch looks for the termination wait: GREENLIGHT_WAIT_POLL_INTERVAL, stretched when the
 * watch limit would otherwise take more than `maxWatchLooks` looks (a 7-day limit: about a minute).
 */
export function watchIntervalMs(s: { readonly pollIntervalMs: number; readonly watchLimitMs: number }): number {
  return Math.max(s.pollIntervalMs, Math.ceil(s.watchLimitMs / maxWatchLooks));
}

/** The wait an input is about: READY opens the ready wait, START the watch for the termination wait. */
function waitOf(input: WaitInput): DeploymentWaitType {
  return input.state === 'START' ? 'TERMINATION_WAIT' : 'READY_WAIT';
}

function notWaiting(deployment: CodeDeployDeployment, wait: DeploymentWaitType): Opened<WaitHook> {
  return {
    kind: 'closed',
    warn: true,
    result: 'not-waiting',
    reason: `deployment is ${deployment.status ?? 'in an unknown state'}, not in its ${wait}: a duplicate or stale event`,
  };
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
        result: 'analysis-started',
        reasons: outcome.reasons,
      };
    case 'decided':
      return { deploymentId: outcome.input.deploymentId, wait: waitOf(outcome.input), ...outcome.delivery.detail };
  }
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
