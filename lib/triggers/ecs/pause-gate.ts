import type { EcsHookAction, EcsLifecycleHookDetail, EcsServiceDeployment } from '../../aws/ecs.ts';
import { usedPlaceholders } from '../../checks/build-runs.ts';
import { errorMessage } from '../../core/analyze.ts';
import type { Clock } from '../../core/types.ts';
import { deliver } from '../../gate/deliver.ts';
import { GateEventError } from '../../gate/errors.ts';
import { ecsServiceGroup, type VerdictScope } from '../../gate/observe.ts';
import type { Outcome, Trigger } from '../../gate/trigger.ts';
import { ecsRoute } from '../../plan/route.ts';
import { checksForHook } from '../../plan/schema.ts';
import { ecsPauseHookLimitMs } from '../../plan/trigger-limits.ts';
import type { Log } from '../../runtime/logger.ts';
import { ecsStages } from '../../spec/hooks.ts';
import { type EcsContextDeps, resolveEcsContext } from './context.ts';
import {
  deploymentNames,
  type EcsStage,
  type PauseGateInput,
  type PauseHookRef,
  pauseStartEvent,
  readPauseGateInput,
} from './event.ts';

export interface PauseGatePorts extends EcsContextDeps {
  readonly clock: Clock;
  readonly log: Log;
  readonly settings: { readonly region?: string | undefined };
}

export interface PauseGateOutcome {
  /**
   * `decided`: ContinueServiceDeployment was called with `action`; `analysis-started`: the analysis runs in a
   * durable execution, which decides (a duplicate delivery finds the same execution: Lambda keeps one per
   * name); `no-op`: the hook no longer awaits a decision (stale, duplicate, expired, decided elsewhere), or
   * the event disagrees with what ECS reports about it; `ignored`: not an event for this gate.
   */
  readonly outcome: 'decided' | 'analysis-started' | 'no-op' | 'ignored';
  readonly hookId?: string;
  readonly action?: EcsHookAction;
  readonly reasons: readonly string[];
}

/** Kept between the verdict's deadline and the hook's expiry, so the decision lands before ECS's timeout action. */
const expiryMarginMs = 30_000;

type Awaiting =
  | { readonly kind: 'awaiting'; readonly deployment: EcsServiceDeployment; readonly hook: EcsLifecycleHookDetail }
  | { readonly kind: 'not-awaiting'; readonly reason: string };

type Input = Exclude<PauseGateInput, { kind: 'ignored' }>;

/** The hook as ECS reports it: awaiting action, at a stage greenlight knows. JSON throughout (it crosses checkpoints). */
interface OpenHook {
  readonly deployment: EcsServiceDeployment;
  readonly hook: EcsLifecycleHookDetail;
  readonly stage: EcsStage;
}

/**
 * Handles an `ECS Hook State Change` (HOOK_AWAITING_ACTION) event for a PAUSE hook: confirms the hook still
 * awaits action, runs the stage's plan, and calls ContinueServiceDeployment with an explicit CONTINUE (pass)
 * or ROLLBACK (anything else). A schedule that fits the invocation runs in it; a longer one (up to the hook's
 * own `expiresAt`: ECS allows up to 14 days) runs in a Lambda durable execution named after the hook
 * (lib/gate/durable.ts), which confirms the hook with ECS again and decides itself.
 *
 * Whoever may invoke the function can send any payload, so the payload only names a hook: the stage, the
 * hook's type and status, the service and the expiry come from DescribeServiceDeployments. An event that
 * disagrees with ECS is a logged no-op (it may name another team's hook: acting on it, even with a
 * rollback, would let a payload decide); a hook ECS says awaits, whose analysis cannot run (an unknown
 * stage, a schedule past its expiry), is rolled back: fail closed.
 */
export function ecsPauseGateTrigger(ports: PauseGatePorts): Trigger<Input, OpenHook, EcsHookAction, PauseGateOutcome> {
  const { clock, log } = ports;
  return {
    name: 'ecs-pause-gate',
    read(event) {
      let input: PauseGateInput;
      try {
        input = readPauseGateInput(event);
      } catch (error) {
        if (!(error instanceof GateEventError)) throw error;
        // Nothing identifies a hook to act on: ECS applies the hook's own timeout action.
        return { kind: 'ignored', malformed: true, reason: `malformed event: ${error.message}` };
      }
      return input;
    },
    scope: (input) => ({
      logKeys: {
        hookId: input.hook.hookId,
        serviceDeploymentArn: input.hook.serviceDeploymentArn,
        ...(input.hook.lifecycleStage ? { lifecycleStage: input.hook.lifecycleStage } : {}),
      },
      scope: pauseScope(input.hook),
    }),

    async open(input, run) {
      const ref = input.hook;
      let status: Awaiting;
      try {
        status = await confirmAwaiting(ports, ref, run.signal);
      } catch (error) {
        // Fail closed: a hook that cannot be confirmed is rolled back; if it no longer awaits, ECS refuses that.
        return {
          kind: 'refused',
          reason: `cannot confirm the hook awaits action: ${(error as Error)?.name}: ${errorMessage(error)}`,
        };
      }
      if (status.kind === 'not-awaiting') return { kind: 'closed', reason: status.reason };
      const mismatch = disagreement(ref, status.deployment, status.hook);
      if (mismatch) return { kind: 'closed', warn: true, reason: `the event disagrees with ECS: ${mismatch}` };
      // ECS's stage, never the event's: the event only had to agree with it.
      const stage = knownStage(status.deployment.lifecycleStage);
      if (!stage) {
        const at = status.deployment.lifecycleStage;
        return {
          kind: 'refused',
          reason: `ECS reports the paused hook at ${at === undefined ? 'no lifecycle stage' : `an unknown lifecycle stage (${at.slice(0, 64)})`}: cannot tell which checks to run`,
        };
      }
      run.scope.stage = stage;
      return { kind: 'open', hook: { deployment: status.deployment, hook: status.hook, stage } };
    },

    // ECS does not pause a rollback on a PAUSE hook: there is none to tell apart.
    rollback: async () => undefined,
    checks: async (_input, open, run) =>
      checksForHook(await run.loadPlan(run.signal, ecsRoute(open.deployment.serviceArn)), open.stage),
    // EventBridge sends every PAUSE hook of the clusters in scope: one without a plan is not greenlight's.
    withoutPlan: 'ignore',
    context: (input, open, selected, run) =>
      resolveEcsContext(
        ports,
        {
          stage: open.stage,
          serviceArn: open.deployment.serviceArn,
          serviceDeploymentArn: input.hook.serviceDeploymentArn,
          targetServiceRevisionArn: open.deployment.targetServiceRevisionArn,
          testTrafficWeight: open.deployment.targetTestTrafficWeight,
          productionTrafficWeight: open.deployment.targetProductionTrafficWeight,
          region: ports.settings.region,
        },
        usedPlaceholders(selected.checks),
        run.signal,
      ),

    // A PAUSE hook waits until its own expiresAt (up to 14 days): a schedule longer than this invocation
    // runs on a durable execution named after the hook.
    state: {
      kind: 'durable',
      limits: 'ecs-pause-gate',
      executionKey: (input) => `${input.hook.serviceDeploymentArn}|${input.hook.hookId}`,
      startEvent: (input) => pauseStartEvent(input.hook),
      // ECS's expiresAt, never the event's; a hook ECS reports without one is held to ECS's own maximum.
      hookDeadline: async (_input, open) => (open.hook.expiresAt ?? clock.now() + ecsPauseHookLimitMs) - expiryMarginMs,
      keep: (open) => JSON.parse(JSON.stringify(open)) as unknown,
      restore: (kept) => kept as OpenHook,
    },

    /** Calls ContinueServiceDeployment once with the verdict's action; "no longer awaiting" is a no-op. */
    async deliver(verdict, { input }, run, by) {
      const ref = input.hook;
      const action: EcsHookAction = verdict.status === 'pass' ? 'CONTINUE' : 'ROLLBACK';
      // The analysis may have taken long: a duplicate may have decided meanwhile, or the hook expired.
      const again = await confirmAwaiting(
        ports,
        ref,
        AbortSignal.timeout(Math.max(1, run.reportBy - clock.now())),
      ).catch(() => undefined);
      if (again?.kind === 'not-awaiting') return { kind: 'closed', reason: again.reason };
      try {
        await deliver(
          (signal) =>
            ports.ecs.continueServiceDeployment(
              { serviceDeploymentArn: ref.serviceDeploymentArn, hookId: ref.hookId, action },
              signal,
            ),
          by,
          clock,
        );
      } catch (error) {
        // ECS refuses a hook that no longer awaits action; which error it uses is not documented, so ask again.
        // Within what is left before the report is due: past it, the refusal fails the invocation loudly.
        const now = await confirmAwaiting(
          ports,
          ref,
          AbortSignal.timeout(Math.max(1, run.reportBy - clock.now())),
        ).catch(() => undefined);
        if (now?.kind === 'not-awaiting') {
          log.warn('ContinueServiceDeployment refused: the hook no longer awaits action', {
            action,
            error: errorMessage(error),
          });
          return { kind: 'closed', reason: now.reason };
        }
        throw error;
      }
      return { kind: 'delivered', decision: action, delivery: 'decided', detail: action };
    },

    answer: pauseOutcome,
  };
}

function pauseOutcome(outcome: Outcome<Input, EcsHookAction>): PauseGateOutcome {
  switch (outcome.kind) {
    case 'ignored':
      return { outcome: 'ignored', reasons: [outcome.reason] };
    case 'closed': {
      const hookId = outcome.input.hook.hookId;
      if (!outcome.verdict) return { outcome: 'no-op', hookId, reasons: [outcome.reason] };
      const action: EcsHookAction = outcome.verdict.status === 'pass' ? 'CONTINUE' : 'ROLLBACK';
      return { outcome: 'no-op', hookId, action, reasons: [outcome.reason, ...outcome.verdict.reasons] };
    }
    case 'handed-on':
      return {
        outcome: 'analysis-started',
        hookId: outcome.input.hook.hookId,
        reasons: outcome.reasons,
      };
    case 'decided':
      return {
        outcome: 'decided',
        hookId: outcome.input.hook.hookId,
        action: outcome.delivery.detail,
        reasons: outcome.verdict.reasons,
      };
  }
}

/**
 * What the event says that ECS contradicts, if anything: the hook's type, the stage, the
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

async function confirmAwaiting(deps: PauseGatePorts, ref: PauseHookRef, signal: AbortSignal): Promise<Awaiting> {
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
