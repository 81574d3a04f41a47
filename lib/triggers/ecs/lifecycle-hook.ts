import { usedPlaceholders } from '../../checks/build-runs.ts';
import { errorMessage } from '../../core/analyze.ts';
import type { Clock } from '../../core/types.ts';
import {
  decodeState,
  encodeState,
  maxAnalysisMs,
  planDeadline,
  planFingerprint,
  type StateBinding,
  type StateKeyOnce,
  stateKeyOnce,
} from '../../gate/carried-state.ts';
import type { CarriedStateDeps } from '../../gate/deps.ts';
import { GateEventError } from '../../gate/errors.ts';
import { summarizeChecks } from '../../gate/evaluate.ts';
import { ecsServiceGroup } from '../../gate/observe.ts';
import type { GateRun, Outcome, Trigger } from '../../gate/trigger.ts';
import { ecsRoute } from '../../plan/route.ts';
import { checksForHook, type Plan, parsePlanText, parsePlanValue } from '../../plan/schema.ts';
import type { Log } from '../../runtime/logger.ts';
import { PlanError } from '../../spec/errors.ts';
import { type EcsContextDeps, resolveEcsContext } from './context.ts';
import { type EcsHookEvent, readEcsHookEvent } from './event.ts';

export type EcsHookStatus = 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';

/** What an ECS `AWS_LAMBDA` lifecycle hook returns. ECS rolls back on FAILED, and on anything it cannot read. */
export interface EcsHookResponse {
  readonly hookStatus: EcsHookStatus;
  /** Seconds until ECS calls again, with IN_PROGRESS. */
  readonly callBackDelay?: number;
  readonly hookDetails?: Record<string, unknown>;
}

export interface EcsLifecycleHookPorts extends EcsContextDeps, CarriedStateDeps {
  readonly clock: Clock;
  readonly log: Log;
  readonly settings: { readonly region?: string | undefined };
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
/** Kept between publishing the verdict event and Lambda's deadline, for the answer to be returned. */
const returnMarginMs = 500;
const maxReasons = 10;
const maxReasonChars = 500;

/** The event, or why it cannot be read (answered FAILED: ECS awaits an answer either way). */
type Input =
  | { readonly kind: 'hook'; readonly event: EcsHookEvent }
  | { readonly kind: 'malformed'; readonly reason: string };

/** This invocation's hook: the event, its state key (read at most once) and the state's binding once known. */
interface OpenHook {
  readonly event: EcsHookEvent;
  readonly key: StateKeyOnce;
  binding?: StateBinding;
}

/**
 * The ECS native lifecycle hook (`AWS_LAMBDA` hooks at any of the 8 stages of blue/green, linear and
 * canary deployments). Its answer is its return value: SUCCEEDED, FAILED (with the reasons in
 * `hookDetails.greenlightResult`), or IN_PROGRESS with `callBackDelay` and the analysis state in
 * `hookDetails`, authenticated with the state key, for the next invocation. It never throws: ECS rolls
 * back on an answer it cannot read, so even a malformed event is answered FAILED.
 */
export function ecsLifecycleHookTrigger(
  ports: EcsLifecycleHookPorts,
): Trigger<Input, OpenHook, EcsHookResponse, EcsHookResponse> {
  const { clock, log } = ports;
  return {
    name: 'ecs-lifecycle-hook',
    read(event) {
      try {
        return { kind: 'hook', event: readEcsHookEvent(event) };
      } catch (error) {
        if (!(error instanceof GateEventError)) throw error;
        return { kind: 'malformed', reason: `malformed event: ${error.message}` };
      }
    },
    scope(input) {
      if (input.kind === 'malformed') return { logKeys: {}, scope: {} };
      const hook = input.event;
      return {
        logKeys: {
          lifecycleStage: hook.lifecycleStage,
          ...(hook.resourceArn ? { serviceDeploymentArn: hook.resourceArn } : { serviceArn: hook.serviceArn }),
          ...(hook.executionId ? { executionId: hook.executionId } : {}),
        },
        scope: {
          stage: hook.lifecycleStage,
          group: ecsServiceGroup(hook.serviceArn),
          deploymentId: hook.resourceArn,
        },
      };
    },

    async open(input, run) {
      if (input.kind === 'malformed') return { kind: 'refused', reason: input.reason };
      const key = stateKeyOnce(ports.stateKey, () => AbortSignal.timeout(Math.max(1, run.reportBy - clock.now())));
      return { kind: 'open', hook: { event: input.event, key } };
    },

    async rollback(_input, { event }, run) {
      const rollback = await detectRollback(ports, event, run.signal);
      return rollback === undefined ? undefined : `rollback in progress, not blocked: ${rollback}`;
    },

    checks: async (_input, { event }, run) => checksForHook(await planFor(run, event), event.lifecycleStage),

    context: (_input, { event }, selected, run) =>
      resolveEcsContext(
        ports,
        {
          stage: event.lifecycleStage,
          serviceArn: event.serviceArn,
          serviceDeploymentArn: event.resourceArn,
          targetServiceRevisionArn: event.targetServiceRevisionArn,
          testTrafficWeight: event.testTrafficWeights[event.targetServiceRevisionArn],
          productionTrafficWeight: event.productionTrafficWeights[event.targetServiceRevisionArn],
          region: ports.settings.region,
        },
        usedPlaceholders(selected.checks),
        run.signal,
      ),

    state: {
      kind: 'carried',
      async load(_input, open, selected, run) {
        const { event } = open;
        const stage = event.lifecycleStage;
        const binding: StateBinding = {
          fingerprint: planFingerprint(selected.checks, stage),
          // The state belongs to this deployment's stage: state copied from another is refused.
          bind: `${event.resourceArn ?? `${event.serviceArn}|${event.targetServiceRevisionArn}`}|${stage}`,
        };
        open.binding = binding;
        const now = clock.now();
        const raw = event.hookDetails?.[hookDetailsKeys.state];
        // hookDetails come back from ECS, but whoever configures the service's hooks writes the first ones:
        // the state is authenticated, so nobody can hand the analysis counters it did not earn.
        if (raw !== undefined) {
          const carried = decodeState(raw, { ...binding, checks: selected.checks }, now, await open.key.get());
          return { carried, deadline: carried.deadline };
        }
        const fresh = planDeadline(selected.checks, now);
        if (fresh.scheduleMs > maxAnalysisMs) {
          throw new PlanError([
            `hooks.${selected.key}: the schedule takes up to ${Math.round(fresh.scheduleMs / 60_000)} min, longer than the ${maxAnalysisMs / 3_600_000} h an ECS hook analysis may run`,
          ]);
        }
        // State will be written unless the schedule fits this invocation: read the key while the checks run.
        if (now + fresh.scheduleMs > run.analysisEndsAt) open.key.prefetch();
        return { deadline: fresh.deadline };
      },
      async save(_input, open, next) {
        const binding = open.binding as StateBinding;
        const state = encodeState(
          { analysis: next.analysis, deadline: next.deadline, legs: next.legs },
          binding,
          await open.key.get(),
        );
        log.info('analysis continues in a later invocation: answering IN_PROGRESS', {
          invocation: next.legs,
          checks: summarizeChecks(next.progress),
        });
        return {
          kind: 'handed-on',
          reasons: [`analysis continues (invocation ${next.legs + 1})`],
          resumeAt: next.resumeAt,
          carry: { ...passThrough(open.event.hookDetails), [hookDetailsKeys.state]: state },
        };
      },
    },

    async deliver(verdict, { rollback }, run) {
      const status = verdict.status === 'pass' ? 'SUCCEEDED' : 'FAILED';
      const analysis = rollback === undefined ? verdict.status : 'skipped';
      return {
        kind: 'delivered',
        decision: status,
        delivery: 'returned',
        analysis,
        // The answer is the return value: the verdict event must not hold it past Lambda's deadline.
        publishBy: clock.now() + Math.max(0, run.invocation.getRemainingTimeInMillis() - returnMarginMs),
        detail: finalAnswer(status, analysis, verdict.reasons),
      };
    },

    answer: (outcome) => ecsAnswer(outcome, clock),
  };
}

function ecsAnswer(outcome: Outcome<Input, EcsHookResponse>, clock: Clock): EcsHookResponse {
  switch (outcome.kind) {
    case 'decided':
      return outcome.delivery.detail;
    case 'handed-on': {
      const due = outcome.resumeAt ?? clock.now();
      const callBackDelay = Math.min(maxCallBackDelaySeconds, Math.max(1, Math.ceil((due - clock.now()) / 1000)));
      return { hookStatus: 'IN_PROGRESS', callBackDelay, hookDetails: { ...outcome.carry } };
    }
    // Neither happens to a return-valued hook; answered FAILED all the same (ECS rolls back).
    case 'ignored':
    case 'closed':
      return finalAnswer('FAILED', 'error', [outcome.reason]);
  }
}

/** The service's own plan from hookDetails, else the function's. */
async function planFor(run: GateRun, hook: EcsHookEvent): Promise<Plan> {
  const given = hook.hookDetails?.[hookDetailsKeys.plan];
  if (given === undefined || given === null) return run.loadPlan(run.signal, ecsRoute(hook.serviceArn));
  const source = `hookDetails.${hookDetailsKeys.plan}`;
  try {
    const plan = typeof given === 'string' ? await parsePlanText(given, source) : await parsePlanValue(given);
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
  deps: EcsLifecycleHookPorts,
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
