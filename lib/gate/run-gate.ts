import { buildRuns } from '../checks/build-runs.ts';
import { errorMessage } from '../core/analyze.ts';
import type { Verdict } from '../core/types.ts';
import { NoPlanError } from '../plan/load.ts';
import { minutes, scheduleProblem } from '../plan/trigger-limits.ts';
import { deadlineFor } from '../runtime/deadline.ts';
import { ReportError } from './deliver.ts';
import type { TriggerDeps } from './deps.ts';
import { type DurableLauncher, enterDurable, startDurable } from './durable.ts';
import { GateConfigError, reasonOf } from './errors.ts';

export { reasonOf };

import { evaluateInInvocation, failedVerdict, jitterSeed, summarizeChecks } from './evaluate.ts';
import { runPlannedLeg } from './leg.ts';
import { publishVerdict, verdictRecord } from './observe.ts';
import type { Closed, Delivery, GateInvocation, GateRun, HandedOn, Ignored, Selected, Trigger } from './trigger.ts';

/** What the runner needs besides the trigger: the plan, the checks' ports, time, the log, the observer. */
export interface GateDeps extends TriggerDeps {
  /** GREENLIGHT_REPORT_RESERVE: time kept to deliver the verdict (duration, default 5s). */
  readonly reserve?: string | undefined;
  /** Where a trigger on durable executions starts one (GREENLIGHT_DURABLE_FUNCTION); absent: schedules must fit one invocation. */
  readonly durable?: DurableLauncher | undefined;
}

/** How long a failing delivery is retried before the invocation fails loudly (and Lambda retries it). */
export const deliveryWindowMs = 30_000;

/**
 * The one verdict lifecycle. Reads the event, splits the invocation's time (a reserve kept for the
 * report), confirms the hook is open, passes a rollback at once, loads the plan's checks, resumes or
 * starts the analysis, runs this invocation's share of it, then hands the rest on (a returned value) or
 * delivers the verdict once and publishes it.
 *
 * Guarantees, each proven in test/gate/run-gate.test.ts:
 * - one verdict per invocation, delivered before the deadline (`reportBy`, the reserve before Lambda's end);
 * - fail closed: any error from opening the hook to handing on is a Failed verdict, delivered, whose
 *   reason names a plan, setting or state fault, else `could not validate: ...`;
 * - a settings error (GREENLIGHT_REPORT_RESERVE) is a Failed verdict, delivered, yet never blocks a rollback;
 * - a hook that no longer awaits a verdict (before or after the analysis) is a logged no-op;
 * - a verdict that cannot be delivered fails the invocation (a `ReportError`), so that Lambda retries it,
 *   and so does a trigger's `retry` (work that has no verdict yet and must not be dropped);
 * - the observer hears only a delivered verdict, after its delivery, and can never change it.
 */
export function runGate<Input, Hook, Detail, Answer>(
  trigger: Trigger<Input, Hook, Detail, Answer>,
  deps: GateDeps,
): (event: unknown, invocation: GateInvocation) => Promise<Answer> {
  const { clock, log } = deps;
  return async (event, invocation) => {
    const read = trigger.read(event);
    if (isIgnored(read)) {
      if (read.malformed) log.error('cannot identify a hook in the event; nothing to decide', { reason: read.reason });
      else log.info('event needs no decision', { reason: read.reason });
      return trigger.answer(read);
    }
    const input = read;
    const known = trigger.scope(input);
    log.appendKeys(known.logKeys);
    const scope = { ...known.scope };
    const deadline = deadlineFor(invocation, clock.now(), deps.reserve);
    const run: GateRun = {
      signal: deadline.signal,
      analysisEndsAt: deadline.analysisEndsAt,
      reportBy: deadline.reportBy,
      scope,
      invocation,
      loadPlan: deps.loadPlan,
      settingError: deadline.settingError,
    };
    let hook: Hook | undefined;
    let rollback: string | undefined;
    let decided: Awaited<ReturnType<typeof decide>>;
    try {
      decided = await beforeCutoff(decide(), deadline, clock.now());
    } catch (error) {
      const reason = reasonOf(error);
      log.error('no verdict from the checks; failing closed', { reason, errorName: (error as Error)?.name });
      decided = { kind: 'verdict', verdict: failedVerdict(reason, clock.now()) };
    } finally {
      deadline.dispose();
    }
    if (decided.kind === 'retry') {
      log.error('no verdict and nothing handed on: failing the invocation so that Lambda retries it', {
        error: errorMessage(decided.error),
        errorName: (decided.error as Error)?.name,
      });
      throw decided.error;
    }
    if (decided.kind === 'handed-on') {
      log.info('the work goes on in a later invocation', { reasons: decided.reasons });
      return trigger.answer({ ...decided, input });
    }
    if (decided.kind === 'closed') {
      if (decided.warn) log.warn('not acting on the event', { reason: decided.reason });
      else if (decided.result === 'no-plan')
        log.info('no plan for this deployment and no fallback: not gated here', { reason: decided.reason });
      else
        log.info('the hook no longer awaits a verdict: stale or duplicate event, nothing to do', {
          reason: decided.reason,
        });
      return trigger.answer({ ...decided, input });
    }
    const verdict = decided.verdict;

    log.info('verdict', {
      analysis: verdict.status,
      reasons: verdict.reasons,
      durationMs: verdict.finishedAt - verdict.startedAt,
      checks: summarizeChecks(verdict.checks),
    });
    let delivery: Delivery<Detail>;
    try {
      delivery = await trigger.deliver(
        verdict,
        { input, ...(hook === undefined ? {} : { hook }), ...(rollback === undefined ? {} : { rollback }) },
        run,
        Math.min(deadline.reportBy, clock.now() + deliveryWindowMs),
      );
    } catch (error) {
      log.error('could not deliver the verdict', {
        analysis: verdict.status,
        error: errorMessage(error),
        errorName: (error as Error)?.name,
      });
      throw error instanceof ReportError ? error : new ReportError(errorMessage(error), { cause: error });
    }
    if (delivery.kind === 'closed') {
      log.warn('the hook no longer awaits the verdict: nothing to do', { reason: delivery.reason });
      return trigger.answer({ ...delivery, input, verdict });
    }
    log.info('delivered the verdict', { decision: delivery.decision, delivery: delivery.delivery });
    await publishVerdict(deps, Math.min(deadline.reportBy, delivery.publishBy ?? deadline.reportBy), () =>
      verdictRecord(trigger.name, verdict, scope, {
        decision: delivery.decision,
        delivery: delivery.delivery,
        ...(delivery.analysis === undefined ? {} : { analysis: delivery.analysis }),
      }),
    );
    return trigger.answer({ kind: 'decided', input, verdict, delivery });

    /** Everything between reading the event and delivering: any throw becomes a Failed verdict. */
    async function decide(): Promise<
      | { readonly kind: 'verdict'; readonly verdict: Verdict }
      | HandedOn
      | Closed
      | { readonly kind: 'retry'; readonly error: unknown }
    > {
      const opened = await trigger.open(input, run);
      const store = trigger.state;
      // A hook not open yet that a trigger on durable executions watches for: the execution watches it.
      if (opened.kind === 'handed-on' && opened.resumeAt !== undefined && store.kind === 'durable') {
        if (!deps.durable) {
          throw new GateConfigError(
            'the hook is not open yet and must be watched, but no durable function is configured (GREENLIGHT_DURABLE_FUNCTION; the template sets it)',
          );
        }
        return startDurable(trigger as Trigger<Input, Hook, unknown, unknown>, store, input, run, deps, deps.durable);
      }
      if (opened.kind === 'closed' || opened.kind === 'handed-on' || opened.kind === 'retry') return opened;
      if (opened.kind === 'refused') {
        hook = opened.hook;
        log.error('the hook cannot be analysed; failing closed', { reason: opened.reason });
        return { kind: 'verdict', verdict: failedVerdict(opened.reason, clock.now()) };
      }
      hook = opened.hook;
      const open = opened.hook;
      // Before any setting or plan is read: a misconfigured gate still never blocks a rollback.
      rollback = await trigger.rollback(input, open, run);
      if (rollback !== undefined) {
        log.warn('rollback: passing without checks, a gate never blocks a rollback', { reason: rollback });
        const now = clock.now();
        return {
          kind: 'verdict',
          verdict: { status: 'pass', reasons: [rollback], checks: [], startedAt: now, finishedAt: now },
        };
      }
      // A gate that ignores deployments without a plan finds the plan before failing on a setting: a
      // misconfigured gate must not act on a deployment that is not its own.
      if (deadline.settingError && trigger.withoutPlan !== 'ignore') throw deadline.settingError;
      let selected: Selected;
      try {
        selected = await trigger.checks(input, open, run);
      } catch (error) {
        if (trigger.withoutPlan === 'ignore' && error instanceof NoPlanError) {
          return { kind: 'closed', result: 'no-plan', reason: error.message };
        }
        throw deadline.settingError ?? error;
      }
      if (deadline.settingError) throw deadline.settingError;
      if (store.kind === 'none') {
        const context = await trigger.context(input, open, selected, run);
        const runs = buildRuns(selected.checks, context, deps.checks);
        // Refused before the first measurement (a `*` entry is not checked when the plan is parsed).
        const misfit = scheduleProblem(store.limits, selected.key, selected.checks);
        if (misfit !== undefined) throw new GateConfigError(misfit);
        // The caller cannot call back: a measurement that starts in time runs until the deadline cuts it.
        return evaluateInInvocation({
          runs,
          clock,
          log,
          run,
          planKey: selected.key,
          unfinished: (resumeAt) =>
            `the plan's schedule does not fit in this invocation (next measurement due in ${minutes(resumeAt - clock.now())}, after the ${minutes(run.analysisEndsAt - clock.now())} left): raise the function timeout or shorten the schedule`,
        });
      }
      if (store.kind === 'durable') {
        return enterDurable({
          trigger: trigger as Trigger<Input, Hook, unknown, unknown>,
          store,
          input,
          hook: open,
          selected,
          run,
          deps,
        });
      }
      const loaded = await store.load(input, open, selected, run);
      const context = await trigger.context(input, open, selected, run);
      const { leg, legs } = await runPlannedLeg({
        selected,
        context,
        checkDeps: deps.checks,
        clock,
        log,
        signal: run.signal,
        analysisEndsAt: run.analysisEndsAt,
        deadline: loaded.deadline,
        carried: loaded.carried,
        jitterSeed: jitterSeed(scope, selected.key),
      });
      if (leg.kind === 'verdict') return leg;
      log.info('the schedule does not fit in this invocation', {
        invocation: legs,
        checks: summarizeChecks(leg.progress),
      });
      return store.save(
        input,
        open,
        { analysis: leg.analysis, deadline: loaded.deadline, legs, resumeAt: leg.resumeAt, progress: leg.progress },
        run,
      );
    }
  };
}

/** A trigger's `Input` is never itself `{kind: 'ignored'}`: that shape is reserved for `Ignored`. */
function isIgnored(read: unknown): read is Ignored {
  return (
    read !== null && typeof read === 'object' && (read as { kind?: unknown }).kind === 'ignored' && 'reason' in read
  );
}

/**
 * `work`, or an error when it has not settled by half-way through the report reserve: every
 * call in `decide` carries the deadline's signal, yet one that did not (or a port that ignores it) must not
 * take the verdict's delivery with it. The analysis itself stops at `analysisEndsAt`, so a `decide` that
 * keeps to its signal always settles before this.
 */
async function beforeCutoff<T>(
  work: Promise<T>,
  deadline: { readonly analysisEndsAt: number; readonly reportBy: number },
  now: number,
): Promise<T> {
  const cutoff = deadline.analysisEndsAt + Math.max(0, Math.floor((deadline.reportBy - deadline.analysisEndsAt) / 2));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new GateConfigError('no verdict by the deadline: a call did not stop at the deadline (failing closed)')),
      Math.max(0, cutoff - now),
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
