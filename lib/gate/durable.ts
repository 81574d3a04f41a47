import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { DurableStartPort } from '../aws/durable-start.ts';
import { buildRuns } from '../checks/build-runs.ts';
import { errorMessage } from '../core/analyze.ts';
import { initialJitterMaxMs } from '../core/policy.ts';
import type { AnalysisState, Verdict } from '../core/types.ts';
import { NoPlanError } from '../plan/load.ts';
import { maxDurableRounds, minutes, scheduleProblem } from '../plan/trigger-limits.ts';
import { deadlineFor } from '../runtime/deadline.ts';
import type { DeploymentContext } from '../spec/placeholders.ts';
import { deliver, ReportError } from './deliver.ts';
import { GateConfigError, reasonOf } from './errors.ts';
import { evaluateInInvocation, failedVerdict, jitterSeed, summarizeChecks } from './evaluate.ts';
import { runLeg } from './leg.ts';
import { publishVerdict, type VerdictScope, verdictRecord } from './observe.ts';
import type { GateDeps } from './run-gate.ts';
import { scheduleMs } from './schedule.ts';
import type { DurableStore, GateInvocation, GateRun, HandedOn, Selected, Trigger } from './trigger.ts';

/**
 * Analyses longer than one invocation run on Lambda durable functions
 * (https://docs.aws.amazon.com/lambda/latest/dg/durable-functions.html): the entry function that CodeDeploy
 * or EventBridge invokes confirms the hook, passes rollbacks, and either runs a schedule that fits its own
 * invocation at once or starts one durable execution named after the hook. The execution re-reads
 * everything from AWS (its payload is ids only), checkpoints each round of measurements as a step, waits
 * between rounds with durable waits (no compute is billed while waiting), and delivers the verdict itself,
 * before the hook's deadline. Lambda keeps one execution per name: a duplicate delivery of the event finds
 * the execution already started and is a logged no-op. Nothing here schedules or re-invokes by hand.
 */

/** Where an entry function starts durable executions: the durable function's alias ARN and the Lambda port. */
export interface DurableLauncher {
  /** The durable function's qualified ARN (the template's alias), GREENLIGHT_DURABLE_FUNCTION. */
  readonly functionArn: string;
  readonly port: DurableStartPort;
}

/** What an entry function sends the durable function: ids only (the trigger's canonical start event). */
export interface DurableStart {
  readonly v: 1;
  readonly trigger: Trigger<unknown, unknown, unknown, unknown>['name'];
  readonly event: unknown;
}

/**
 * The execution name for a hook: `gl-<trigger>-<40 hex of SHA-256(key)>`, within Lambda's 64 characters
 * of `[A-Za-z0-9_-]` whatever the key holds. Deterministic: every delivery of a hook names the same execution.
 */
export function durableExecutionName(trigger: string, key: string): string {
  const short = trigger.replace(/[^A-Za-z0-9-]/g, '').slice(0, 20);
  return `gl-${short}-${createHash('sha256').update(`${trigger}\n${key}`).digest('hex').slice(0, 40)}`;
}

/**
 * Slack a measurement round keeps in its step beyond the longest check timeout: measurements due within
 * it run in the same step (a short sleep) rather than after a durable wait of under a second. The first
 * round also covers the first measurement's jitter (`initialJitterMaxMs`), so it never measures nothing.
 */
export const roundSlackMs = 1_000;

/**
 * The entry function's part, after the plan's checks are chosen: refuse a schedule the trigger or the
 * hook's deadline cannot hold; run a schedule that fits this invocation here; else start the durable
 * execution (a returned hand-over, no verdict here). Throws a `GateConfigError` naming what does not
 * fit, or what is missing (GREENLIGHT_DURABLE_FUNCTION), and whatever starting the execution threw:
 * the runner turns either into a Failed verdict, delivered.
 */
export async function enterDurable<Input, Hook>(o: {
  readonly trigger: Trigger<Input, Hook, unknown, unknown>;
  readonly store: DurableStore<Input, Hook>;
  readonly input: Input;
  readonly hook: Hook;
  readonly selected: Selected;
  readonly run: GateRun;
  readonly deps: GateDeps;
}): Promise<{ readonly kind: 'verdict'; readonly verdict: Verdict } | HandedOn> {
  const { trigger, store, input, hook, selected, run, deps } = o;
  const { clock, log } = deps;
  const misfit = scheduleProblem(store.limits, selected.key, selected.checks);
  if (misfit !== undefined) throw new GateConfigError(misfit);
  const schedule = scheduleMs(selected.checks);
  const now = clock.now();
  const reserveMs = Math.max(0, run.reportBy - run.analysisEndsAt);
  const hookDeadline = await store.hookDeadline(input, hook, run);
  if (now + schedule + reserveMs > hookDeadline) {
    throw new GateConfigError(
      `hooks.${selected.key}: the schedule can take up to ${minutes(schedule)} but the hook must have its verdict within ${minutes(hookDeadline - now)}: shorten count, interval or initialDelay`,
    );
  }
  if (now + schedule <= run.analysisEndsAt) {
    const context = await trigger.context(input, hook, selected, run);
    const runs = buildRuns(selected.checks, context, deps.checks);
    return evaluateInInvocation({
      runs,
      clock,
      log,
      run,
      planKey: selected.key,
      unfinished: () => 'the schedule did not finish in this invocation although it should have',
    });
  }
  if (!deps.durable) {
    throw new GateConfigError(
      `hooks.${selected.key}: the schedule can take up to ${minutes(schedule)}, longer than the ${minutes(run.analysisEndsAt - now)} this invocation has, and no durable function is configured (GREENLIGHT_DURABLE_FUNCTION; the template sets it)`,
    );
  }
  return startDurable(trigger, store, input, run, deps, deps.durable, minutes(schedule));
}

/**
 * Starts the hook's durable execution (or finds it started: a duplicate delivery) and hands over to it:
 * for an analysis too long for the entry function, or a hook the trigger watches for (`open` returned
 * `handed-on` with `resumeAt`). Throws what starting threw, after retrying what is worth retrying.
 */
export async function startDurable<Input, Hook>(
  trigger: Trigger<Input, Hook, unknown, unknown>,
  store: DurableStore<Input, Hook>,
  input: Input,
  run: GateRun,
  deps: GateDeps,
  launcher: DurableLauncher,
  schedule?: string,
): Promise<HandedOn> {
  const { clock, log } = deps;
  const name = durableExecutionName(trigger.name, store.executionKey(input));
  const payload: DurableStart = { v: 1, trigger: trigger.name, event: store.startEvent(input) };
  const started = await deliver(
    (signal) => launcher.port.start({ functionArn: launcher.functionArn, name, payload }, signal),
    Math.min(run.reportBy, clock.now() + 30_000),
    clock,
  );
  if (started === 'already-started') {
    // Lambda refuses a name held by an execution started with another payload: not this gate's start for
    // this hook (each delivery of a hook sends the same ids). Whoever started it must not decide the hook.
    throw new GateConfigError(
      `a durable execution named ${name} already exists with another start payload: this hook's analysis cannot run; failing closed`,
    );
  } else {
    log.info('the analysis runs in a durable execution', { execution: name, ...(schedule ? { schedule } : {}) });
  }
  return {
    kind: 'handed-on',
    result: 'analysis-started',
    reasons: [`the analysis runs in durable execution ${name}`],
  };
}

/**
 * The part of the durable SDK's `DurableContext` the runner uses (structural, so that lib/ does not load
 * the SDK): checkpointed steps, durable waits, and the Lambda context of the current invocation.
 */
export interface DurableSteps {
  step<T>(
    name: string,
    fn: () => Promise<T>,
    config?: {
      retryStrategy?: (
        error: Error,
        attempt: number,
      ) => { shouldRetry: boolean; delay?: { seconds: number } | { minutes: number } };
    },
  ): PromiseLike<T>;
  wait(name: string, duration: { seconds: number }): PromiseLike<void>;
  readonly lambdaContext: GateInvocation;
}

/** How a durable execution ended. */
export interface DurableOutcome {
  /** `decided`: a verdict was delivered; `closed`: the hook no longer awaited one; `ignored`: not a start event. */
  readonly result: 'decided' | 'closed' | 'ignored';
  readonly analysis?: Verdict['status'];
  readonly decision?: string;
  readonly delivery?: string;
  readonly reasons: readonly string[];
  /** Measurement rounds (steps) the analysis took. */
  readonly rounds?: number;
}

/** What the first step learns: checkpointed, so every replay decides on the same facts. */
type Prepared =
  | { readonly kind: 'closed'; readonly reason: string; readonly scope: VerdictScope }
  /** The hook is not open yet (a wait being watched): look again at `resumeAt`. */
  | { readonly kind: 'waiting'; readonly resumeAt: number; readonly waitSeconds: number; readonly scope: VerdictScope }
  | {
      readonly kind: 'verdict';
      readonly verdict: Verdict;
      readonly hook?: unknown;
      readonly rollback?: string;
      readonly scope: VerdictScope;
    }
  | {
      readonly kind: 'analyze';
      readonly hook: unknown;
      readonly selected: Selected;
      readonly context: DeploymentContext;
      /** Epoch ms past which the analysis fails: the hook's deadline less the report reserve. */
      readonly analysisDeadline: number;
      /** Epoch ms by which the verdict must be delivered. */
      readonly reportBy: number;
      readonly scope: VerdictScope;
    };

type Round =
  | { readonly kind: 'verdict'; readonly verdict: Verdict }
  | {
      readonly kind: 'suspended';
      readonly analysis: AnalysisState;
      /** Epoch ms at which the next measurement is due. */
      readonly resumeAt: number;
      readonly waitSeconds: number;
    };

const fewRetries = (limit: number) => (_error: Error, attempt: number) => ({
  shouldRetry: attempt < limit,
  delay: { seconds: Math.min(2 ** attempt, 30) },
});

/** Reads a durable start payload; undefined when it is not one. */
export function readDurableStart(payload: unknown): DurableStart | undefined {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const p = payload as Record<string, unknown>;
  if (p.v !== 1 || typeof p.trigger !== 'string' || p.event === undefined) return undefined;
  return { v: 1, trigger: p.trigger as DurableStart['trigger'], event: p.event };
}

/**
 * The durable execution's lifecycle for one trigger: the same questions as `runGate` (read, open, rollback,
 * checks, context), answered once in a checkpointed step, then rounds of measurements as steps with durable
 * waits between them, then the verdict delivered and published, each a step. Every replay re-runs this
 * function and gets each finished step's checkpointed result, so a measurement round, a delivery or a
 * publication that finished is never repeated, and a crash resumes from the last checkpoint.
 *
 * Guarantees (test/gate/durable.test.ts, on the SDK's LocalDurableTestRunner):
 * - fail closed: any error from opening the hook to the last round is a Failed verdict, delivered;
 * - the verdict is delivered before the hook's deadline: the analysis stops a report reserve before it;
 * - a hook that no longer awaits a verdict is a logged no-op; a rollback passes at once;
 * - the payload names the hook and nothing else: the trigger confirms it with AWS, as the entry did.
 * A delivery that fails past its retries fails the execution loudly (the hook then times out: a failure).
 */
export function runDurableGate<Input, Hook, Detail, Answer>(
  trigger: Trigger<Input, Hook, Detail, Answer>,
  deps: GateDeps,
): (payload: unknown, ctx: DurableSteps) => Promise<DurableOutcome> {
  const { clock, log } = deps;
  const state = trigger.state;
  if (state.kind !== 'durable') throw new Error(`${trigger.name} does not run on durable executions`);
  const store: DurableStore<Input, Hook> = state;
  return async (payload, ctx) => {
    const start = readDurableStart(payload);
    if (!start || start.trigger !== trigger.name) {
      log.error('not a durable start for this trigger; nothing to decide', { trigger: trigger.name });
      return { result: 'ignored', reasons: ['not a durable start for this trigger'] };
    }
    const read = trigger.read(start.event);
    if (isIgnoredRead(read)) {
      log.error('the start event names no hook; nothing to decide', { reason: read.reason });
      return { result: 'ignored', reasons: [read.reason] };
    }
    const input = read as Input;
    const known = trigger.scope(input);
    log.appendKeys({ ...known.logKeys, durable: true });

    /** A GateRun for one step of this invocation: its own deadline, from the Lambda context. */
    const stepRun = async <T>(scope: VerdictScope, fn: (run: GateRun) => Promise<T>): Promise<T> => {
      const deadline = deadlineFor(ctx.lambdaContext, clock.now(), deps.reserve);
      try {
        return await fn({
          signal: deadline.signal,
          analysisEndsAt: deadline.analysisEndsAt,
          reportBy: deadline.reportBy,
          scope,
          invocation: ctx.lambdaContext,
          loadPlan: deps.loadPlan,
          settingError: deadline.settingError,
        });
      } finally {
        deadline.dispose();
      }
    };

    let prepared: Prepared;
    for (let look = 0; ; look++) {
      try {
        prepared = await ctx.step(look === 0 ? 'open' : `open-${look}`, () => prepare(), {
          retryStrategy: fewRetries(3),
        });
      } catch (error) {
        prepared = {
          kind: 'verdict',
          verdict: failedVerdict(`could not validate: ${errorMessage(error)}`, clock.now()),
          scope: { ...known.scope },
        };
      }
      if (prepared.kind !== 'waiting') break;
      await ctx.wait(`watch-${look}`, { seconds: prepared.waitSeconds });
      clock.advanceTo?.(prepared.resumeAt);
    }
    if (prepared.kind === 'closed') return { result: 'closed', reasons: [prepared.reason] };

    let verdict: Verdict;
    let rounds = 0;
    let reportBy: number | undefined;
    if (prepared.kind === 'verdict') {
      verdict = prepared.verdict;
    } else {
      reportBy = prepared.reportBy;
      const p = prepared;
      let state: AnalysisState | undefined;
      for (;;) {
        let round: Round;
        // Throttled measurements taken again add rounds beyond the schedule's: the history stays bounded.
        if (rounds >= maxDurableRounds) {
          verdict = failedVerdict(
            `the analysis took ${rounds} measurement rounds, the most a durable execution's history holds, without a verdict`,
            clock.now(),
          );
          break;
        }
        try {
          round = await ctx.step(`measure-${rounds}`, () => measure(p, state), { retryStrategy: fewRetries(2) });
        } catch (error) {
          round = {
            kind: 'verdict',
            verdict: failedVerdict(`could not validate: ${errorMessage(error)}`, clock.now()),
          };
        }
        rounds++;
        if (round.kind === 'verdict') {
          verdict = round.verdict;
          break;
        }
        state = round.analysis;
        await ctx.wait(`wait-${rounds - 1}`, { seconds: round.waitSeconds });
        clock.advanceTo?.(round.resumeAt);
      }
    }

    const hook = prepared.hook === undefined ? undefined : store.restore(prepared.hook);
    const rollback = prepared.kind === 'verdict' ? prepared.rollback : undefined;
    // The verdict is retried until the hook's own deadline (hours or days for a PAUSE hook), not a fixed
    // count: a throttled or failing API must not leave the hook to its timeout action. Capped backoff.
    const deliverUntil = reportBy ?? clock.now() + 15 * 60_000;
    const delivery = await ctx.step(
      'deliver',
      () =>
        stepRun(prepared.scope, async (run) => {
          log.info('verdict', {
            analysis: verdict.status,
            reasons: verdict.reasons,
            checks: summarizeChecks(verdict.checks),
            rounds,
          });
          const by = Math.min(run.reportBy, reportBy ?? run.reportBy, clock.now() + 30_000);
          try {
            return toJson(
              await trigger.deliver(
                verdict,
                { input, ...(hook === undefined ? {} : { hook }), ...(rollback === undefined ? {} : { rollback }) },
                run,
                Math.max(by, clock.now() + 1_000),
              ),
            );
          } catch (error) {
            log.error('could not deliver the verdict', { analysis: verdict.status, error: errorMessage(error) });
            throw error instanceof ReportError ? error : new ReportError(errorMessage(error), { cause: error });
          }
        }),
      {
        retryStrategy: (_error, attempt) => {
          const seconds = Math.min(2 ** attempt, 60);
          return { shouldRetry: clock.now() + seconds * 1_000 < deliverUntil, delay: { seconds } };
        },
      },
    );
    if (delivery.kind === 'closed') {
      return { result: 'closed', analysis: verdict.status, reasons: [delivery.reason], rounds };
    }
    await ctx.step('publish', async () => {
      log.info('delivered the verdict', { decision: delivery.decision, delivery: delivery.delivery });
      await publishVerdict(deps, clock.now() + 10_000, () =>
        verdictRecord(trigger.name, verdict, prepared.scope, {
          decision: delivery.decision,
          delivery: delivery.delivery,
          ...(delivery.analysis === undefined ? {} : { analysis: delivery.analysis }),
        }),
      );
      return true;
    });
    return {
      result: 'decided',
      analysis: verdict.status,
      decision: delivery.decision,
      delivery: delivery.delivery,
      reasons: verdict.reasons,
      rounds,
    };

    /** The first step: confirm the hook, pass a rollback, choose the checks, read the context, fix the deadline. */
    async function prepare(): Promise<Prepared> {
      const scope: VerdictScope = { ...known.scope };
      return stepRun(scope, async (run) => {
        let hook: Hook | undefined;
        try {
          const opened = await trigger.open(input, run);
          if (opened.kind === 'closed') {
            log.info('the hook no longer awaits a verdict: nothing to do', { reason: opened.reason });
            return { kind: 'closed', reason: opened.reason, scope };
          }
          if (opened.kind === 'handed-on') {
            if (opened.resumeAt === undefined) {
              return { kind: 'closed', reason: `nothing to analyse: ${opened.reasons.join('; ')}`, scope };
            }
            const waitSeconds = Math.max(1, Math.ceil((opened.resumeAt - clock.now()) / 1_000));
            log.info('the hook is not open yet: looking again later (durable wait: no compute)', {
              reasons: opened.reasons,
              waitSeconds,
            });
            return { kind: 'waiting', resumeAt: opened.resumeAt, waitSeconds, scope };
          }
          // A read that failed: the step is retried (below), then the execution fails closed.
          if (opened.kind === 'retry') throw new RetryOpen(opened.error);
          if (opened.kind === 'refused') {
            hook = opened.hook;
            return {
              kind: 'verdict',
              verdict: failedVerdict(opened.reason, clock.now()),
              ...(hook === undefined ? {} : { hook: store.keep(hook) }),
              scope,
            };
          }
          hook = opened.hook;
          const rollback = await trigger.rollback(input, hook, run);
          if (rollback !== undefined) {
            log.warn('rollback: passing without checks, a gate never blocks a rollback', { reason: rollback });
            const now = clock.now();
            return {
              kind: 'verdict',
              verdict: { status: 'pass', reasons: [rollback], checks: [], startedAt: now, finishedAt: now },
              hook: store.keep(hook),
              rollback,
              scope,
            };
          }
          // As in runGate: a gate that ignores deployments without a plan finds the plan before failing on a
          // setting, and leaves a deployment no plan routes to alone (someone else's, or a forged start).
          if (run.settingError && trigger.withoutPlan !== 'ignore') throw run.settingError;
          let selected: Selected;
          try {
            selected = await trigger.checks(input, hook, run);
          } catch (error) {
            if (trigger.withoutPlan === 'ignore' && error instanceof NoPlanError) {
              log.info("no plan routes to this deployment: not greenlight's to decide", { reason: error.message });
              return { kind: 'closed', reason: error.message, scope };
            }
            throw error;
          }
          if (run.settingError) throw run.settingError;
          const misfit = scheduleProblem(store.limits, selected.key, selected.checks);
          if (misfit !== undefined) throw new GateConfigError(misfit);
          const context = await trigger.context(input, hook, selected, run);
          // Built once here so that a plan fault fails now, not at the first round.
          buildRuns(selected.checks, context, deps.checks);
          const hookDeadline = await store.hookDeadline(input, hook, run);
          const reserveMs = Math.max(0, run.reportBy - run.analysisEndsAt);
          const analysisDeadline = hookDeadline - reserveMs;
          const schedule = scheduleMs(selected.checks);
          if (clock.now() + schedule > analysisDeadline) {
            throw new GateConfigError(
              `hooks.${selected.key}: the schedule can take up to ${minutes(schedule)} but the hook must have its verdict within ${minutes(hookDeadline - clock.now())}: shorten count, interval or initialDelay`,
            );
          }
          log.info('analysis starts', {
            planKey: selected.key,
            checks: selected.checks.map((c) => c.name),
            deadline: new Date(analysisDeadline).toISOString(),
          });
          return {
            kind: 'analyze',
            hook: store.keep(hook),
            selected: checkpointable(selected, `the checks of hooks.${selected.key}`),
            context: checkpointable(context, 'the deployment context'),
            analysisDeadline,
            reportBy: hookDeadline - Math.min(1_000, reserveMs),
            scope,
          };
        } catch (error) {
          if (error instanceof RetryOpen) throw error.cause;
          const reason = reasonOf(error);
          log.error('no verdict from the checks; failing closed', { reason, errorName: (error as Error)?.name });
          return {
            kind: 'verdict',
            verdict: failedVerdict(reason, clock.now()),
            ...(hook === undefined ? {} : { hook: store.keep(hook) }),
            scope,
          };
        }
      });
    }

    /** One round: the measurements due now (and within `roundSlackMs`), then when the next is due. */
    async function measure(p: Extract<Prepared, { kind: 'analyze' }>, state: AnalysisState | undefined) {
      return stepRun(p.scope, async (run): Promise<Round> => {
        const runs = buildRuns(p.selected.checks, p.context, deps.checks);
        const longest = Math.max(0, ...runs.map((r) => r.policy.timeoutMs));
        const jitter = state === undefined ? Math.max(0, ...runs.map((r) => initialJitterMaxMs(r.policy))) : 0;
        const leg = await runLeg({
          runs,
          clock,
          log,
          signal: run.signal,
          analysisEndsAt: Math.min(run.analysisEndsAt, clock.now() + longest + jitter + roundSlackMs),
          deadline: p.analysisDeadline,
          jitterSeed: jitterSeed(p.scope, p.selected.key),
          ...(state ? { state } : {}),
        });
        if (leg.kind === 'verdict') return toJson(leg);
        const waitSeconds = Math.max(1, Math.ceil((leg.resumeAt - clock.now()) / 1_000));
        log.info('waiting for the next measurement (durable wait: no compute)', {
          resumeAt: new Date(leg.resumeAt).toISOString(),
          waitSeconds,
          checks: summarizeChecks(leg.progress),
        });
        return { kind: 'suspended', analysis: toJson(leg.analysis), resumeAt: leg.resumeAt, waitSeconds };
      });
    }
  };
}

/** A trigger's `retry` from `open`: thrown out of the step, so that the SDK retries the step. */
class RetryOpen extends Error {
  constructor(cause: unknown) {
    super('retry opening the hook', { cause });
    this.name = 'RetryOpen';
  }
}

/** Checkpoints hold JSON: what a step returns is what a replay gets back, so it is made JSON here. */
function toJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * `value` as JSON, for a checkpoint that later steps decide on (the plan's checks, the context). Throws a
 * `GateConfigError` when JSON would change it (a Map, a RegExp, a non-finite number, a class instance):
 * an analysis must not run on other checks than those it was given. Undefined members may drop.
 */
export function checkpointable<T>(value: T, what: string): T {
  const json = toJson(value);
  if (!isDeepStrictEqual(plain(value), json)) {
    throw new GateConfigError(`${what} cannot cross a durable checkpoint unchanged (not plain JSON)`);
  }
  return json;
}

function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, plain(v)]),
    );
  }
  return value;
}

function isIgnoredRead(read: unknown): read is { kind: 'ignored'; reason: string } {
  return (
    read !== null && typeof read === 'object' && (read as { kind?: unknown }).kind === 'ignored' && 'reason' in read
  );
}
