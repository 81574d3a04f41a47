import type { AnalysisState, CheckResult, Verdict } from '../core/types.ts';
import type { PlanRoute } from '../plan/route.ts';
import type { Plan, PlanCheck } from '../plan/schema.ts';
import type { TriggerName as LimitedTrigger } from '../plan/trigger-limits.ts';
import type { RemainingTime } from '../runtime/deadline.ts';
import type { SettingError } from '../runtime/settings.ts';
import type { DeploymentContext } from '../spec/placeholders.ts';
import type { CarriedState } from './carried-state.ts';
import type { TriggerName, VerdictScope } from './observe.ts';

/**
 * A trigger: how one caller (a CodeDeploy hook, an ECS hook, an EventBridge gate) asks for a verdict and
 * hears it. `runGate` runs every trigger through the same lifecycle (lib/gate/run-gate.ts); a trigger
 * only answers the questions below, in this order:
 *
 * read → scope → open → rollback → checks → state.load → context → (analysis) → state.save | deliver → answer
 *
 * Any error a step throws (from `open` to `state.save`) becomes a Failed verdict, delivered before the
 * deadline; an error `deliver` throws fails the invocation loudly. Type parameters: `Input` is what
 * `read` makes of the event, `Hook` what `open` learns, `Detail` what `deliver` reports, `Answer` what
 * the function returns to its invoker.
 */
export interface Trigger<Input, Hook, Detail, Answer> {
  /** The function's name in metrics, verdict events and logs. */
  readonly name: TriggerName;
  /**
   * Reads the event (unknown keys ignored). Throws a `GateEventError` when the event names nothing to
   * answer: the invocation then fails. `ignored`: an event this trigger takes no decision on (a no-op).
   */
  read(event: unknown): Input | Ignored;
  /** Log keys and what the verdict record knows from the event alone. */
  scope(input: Input): { readonly logKeys: Readonly<Record<string, unknown>>; readonly scope: VerdictScope };
  /**
   * Confirms the hook is still open (a duplicate or stale event is `closed`, a no-op) and reads what the
   * decision needs. `refused`: the hook is open but cannot be analysed (a Failed verdict, delivered);
   * `handed-on`: the work goes on in a later invocation before any analysis (a wait still being watched);
   * `retry`: the invocation fails, to be retried by Lambda.
   */
  open(input: Input, run: GateRun): Promise<Opened<Hook>>;
  /** Why this deployment is a rollback, or undefined. A rollback passes at once: it is never blocked. */
  rollback(input: Input, hook: Hook, run: GateRun): Promise<string | undefined>;
  /** The plan's entry for this hook or stage (`checksForHook`). Throws a `PlanError`. */
  checks(input: Input, hook: Hook, run: GateRun): Promise<Selected>;
  /** The deployment context the checks' placeholders are filled from. */
  context(input: Input, hook: Hook, selected: Selected, run: GateRun): Promise<DeploymentContext>;
  /**
   * `ignore`: a deployment that no plan routes to, with no fallback plan, is someone else's (a gate that
   * EventBridge sends every deployment of its scope): a logged no-op, not a Failed verdict. Otherwise
   * (hooks wired to greenlight) it fails closed, naming where the plan was looked for.
   */
  readonly withoutPlan?: 'ignore';
  /** Where an analysis longer than one invocation keeps its state, if anywhere. */
  readonly state: StateStore<Input, Hook>;
  /**
   * Delivers the verdict to the caller once, by `by` (epoch ms), retrying what is worth retrying
   * (`deliver` in lib/gate/deliver.ts). `closed`: the hook no longer awaits it (a logged no-op).
   * Throws when the verdict cannot be delivered: the invocation fails loudly so that Lambda retries it.
   */
  deliver(verdict: Verdict, at: DeliverAt<Input, Hook>, run: GateRun, by: number): Promise<Delivery<Detail>>;
  /** What the function returns. */
  answer(outcome: Outcome<Input, Detail>): Answer;
}

/** One invocation, as a trigger's steps see it. */
export interface GateRun {
  /** Aborted when the analysis must stop so that the verdict can still be delivered. */
  readonly signal: AbortSignal;
  /** Epoch ms at which this invocation's analysis ends. */
  readonly analysisEndsAt: number;
  /** Epoch ms by which the verdict must be delivered. */
  readonly reportBy: number;
  /** What the verdict record says about the deployment: steps fill in the stage and group as they learn them. */
  readonly scope: VerdictScope;
  /** The Lambda context: the time left, and the function's own ARN to hand work on to. */
  readonly invocation: GateInvocation;
  /**
   * The plan for the deployment `route` names: routed from the plan library, else the fallback plan.
   * Throws a `NoPlanError` (a `PlanError`) naming where it looked when there is neither.
   */
  readonly loadPlan: (signal: AbortSignal, route?: PlanRoute) => Promise<Plan>;
  /**
   * GREENLIGHT_REPORT_RESERVE was unusable: the runner fails the verdict with it after `rollback`; a trigger
   * that works before any verdict (a watch) must refuse on it too.
   */
  readonly settingError?: SettingError | undefined;
}

/** The part of the Lambda context a gate uses. */
export interface GateInvocation extends RemainingTime {
  readonly invokedFunctionArn?: string;
}

/** An event the trigger takes no decision on. `malformed`: logged as an error, else as information. */
export interface Ignored {
  readonly kind: 'ignored';
  readonly reason: string;
  readonly malformed?: boolean;
  /** What the answer names, when the event named it (a deployment id, a service). */
  readonly subject?: string;
}

export type Opened<Hook> =
  | { readonly kind: 'open'; readonly hook: Hook }
  | Closed
  | { readonly kind: 'refused'; readonly reason: string; readonly hook?: Hook }
  | HandedOn
  /**
   * No verdict, and the invocation fails with `error` so that Lambda retries it: for work that must not
   * be dropped and has no verdict to fail (a wait being watched that could not be handed on).
   */
  | { readonly kind: 'retry'; readonly error: unknown };

/** The hook no longer awaits a verdict (duplicate, stale, already decided): a logged no-op. */
export interface Closed {
  readonly kind: 'closed';
  readonly reason: string;
  /** The trigger's word for it in its answer (`not-waiting`, `no-op`, ...). */
  readonly result?: string;
  /** Logged as a warning (an event that disagrees with AWS) rather than information. */
  readonly warn?: boolean;
  /** What the trigger saw that its answer reports (a status AWS gave). */
  readonly note?: Readonly<Record<string, string>>;
}

/**
 * The work goes on in a later invocation: returned, never thrown. No verdict is delivered or published.
 * Returned by `open` of a trigger on durable executions (a wait not begun yet, watched), it means: ask
 * again at `resumeAt`. The entry function then starts the durable execution, which waits durably and
 * calls `open` again; without `resumeAt` the execution ends there (nothing to analyse).
 */
export interface HandedOn {
  readonly kind: 'handed-on';
  readonly reasons: readonly string[];
  /** Epoch ms at which the next measurement (or the next look at the hook, from `open`) is due. */
  readonly resumeAt?: number;
  /** What the caller keeps for the next invocation (ECS hookDetails), if the caller keeps it. */
  readonly carry?: Readonly<Record<string, unknown>>;
  readonly result?: string;
}

export interface Selected {
  /** The plan key the checks came from (the hook, or `*`). */
  readonly key: string;
  readonly checks: readonly PlanCheck[];
}

/**
 * How an analysis outlives an invocation: not at all, carried by the caller to the trigger's next
 * invocation (ECS hookDetails), or run by a Lambda durable execution.
 */
export type StateStore<Input, Hook> =
  /** One invocation: a schedule longer than the trigger's limit is refused before the first measurement. */
  { readonly kind: 'none'; readonly limits: LimitedTrigger } | CarriedStore<Input, Hook> | DurableStore<Input, Hook>;

/**
 * An analysis that may outlive the invocation runs in a Lambda durable execution named after the hook
 * (lib/gate/durable.ts): one execution per hook, whatever the number of deliveries. A schedule that fits
 * the invocation still runs in it, with no extra hop.
 */
export interface DurableStore<Input, Hook> {
  readonly kind: 'durable';
  /** The trigger-limits entry: the longest schedule, checked before the first measurement. */
  readonly limits: LimitedTrigger;
  /**
   * What names the hook, the same for every delivery of it (CodeDeploy's hook execution id, ECS's hookId,
   * the deployment and wait type): hashed into the execution name, the idempotency key.
   */
  executionKey(input: Input): string;
  /**
   * The event the durable execution starts from: ids only, the same for every delivery of the hook (Lambda
   * refuses a second start of a name with another payload). The trigger's own `read` must accept it.
   */
  startEvent(input: Input): unknown;
  /** Epoch ms by which the hook needs its verdict (CodeDeploy: an hour from the hook's start). */
  hookDeadline(input: Input, hook: Hook, run: GateRun): Promise<number>;
  /**
   * The hook as JSON, to cross a checkpoint to `deliver` in a later invocation, and back. Throws nothing;
   * whatever `deliver` needs must survive the round trip.
   */
  keep(hook: Hook): unknown;
  restore(kept: unknown): Hook;
}

export interface CarriedStore<Input, Hook> {
  readonly kind: 'carried';
  /** The analysis carried in from an earlier invocation (authenticated), or the deadline of a fresh one. */
  load(
    input: Input,
    hook: Hook,
    selected: Selected,
    run: GateRun,
  ): Promise<{ readonly carried?: CarriedState; readonly deadline: number }>;
  /** Hands the unfinished analysis to a later invocation. Throws when nobody would finish it (a Failed verdict). */
  save(input: Input, hook: Hook, next: Suspended, run: GateRun): Promise<HandedOn>;
}

/** An analysis this invocation could not finish. */
export interface Suspended {
  readonly analysis: AnalysisState;
  /** Epoch ms past which the analysis fails. */
  readonly deadline: number;
  /** Invocations so far, this one included. */
  readonly legs: number;
  readonly resumeAt: number;
  readonly progress: readonly CheckResult[];
}

export interface DeliverAt<Input, Hook> {
  readonly input: Input;
  /** Undefined when the verdict was reached before the hook could be opened (it failed). */
  readonly hook?: Hook;
  /** The rollback reason when the verdict is a rollback's pass. */
  readonly rollback?: string;
}

export type Delivery<Detail> =
  | {
      readonly kind: 'delivered';
      /** What the caller was told in its own terms: `Succeeded`, `ROLLBACK`, `StopDeployment`, ... */
      readonly decision: string;
      /** How it went: `reported`, `already-completed`, `returned`, ... */
      readonly delivery: string;
      /** The analysis status the record shows, when not the verdict's own (`skipped` for a rollback). */
      readonly analysis?: string;
      /**
       * Epoch ms by which the verdict must be published, when sooner than `reportBy`: an answer returned by
       * value is still on its way to the caller and must leave before Lambda's deadline.
       */
      readonly publishBy?: number;
      readonly detail: Detail;
    }
  | Closed;

/** How an invocation ended, for the trigger to shape its answer. */
export type Outcome<Input, Detail> =
  | Ignored
  | (Closed & { readonly input: Input; readonly verdict?: Verdict })
  | (HandedOn & { readonly input: Input })
  | {
      readonly kind: 'decided';
      readonly input: Input;
      readonly verdict: Verdict;
      readonly delivery: Extract<Delivery<Detail>, { kind: 'delivered' }>;
    };
