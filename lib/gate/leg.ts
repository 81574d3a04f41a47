import { buildRuns } from '../checks/build-runs.ts';
import type { CheckDeps } from '../checks/kind.ts';
import type { AnalysisState, CheckResult, CheckRun, Clock, Verdict } from '../core/types.ts';
import type { PlanCheck } from '../plan/schema.ts';
import type { Log } from '../runtime/logger.ts';
import type { DeploymentContext } from '../spec/placeholders.ts';
import type { CarriedState } from './carried-state.ts';
import { evaluate } from './evaluate.ts';

/** One invocation's share of an analysis that may span several. */
export type LegResult =
  | { readonly kind: 'verdict'; readonly verdict: Verdict }
  | {
      readonly kind: 'suspended';
      readonly analysis: AnalysisState;
      /** Epoch ms at which the next measurement is due. */
      readonly resumeAt: number;
      readonly progress: readonly CheckResult[];
    };

export interface LegOptions {
  readonly runs: readonly CheckRun[];
  readonly clock: Clock;
  readonly log: Log;
  /** Aborted when this invocation must stop to deliver its answer. */
  readonly signal: AbortSignal;
  /** Epoch ms at which this invocation's analysis must end. */
  readonly analysisEndsAt: number;
  /** Epoch ms past which the whole analysis fails: never another leg after it. */
  readonly deadline: number;
  readonly state?: AnalysisState;
  /** See `EvaluateOptions.jitterSeed`. */
  readonly jitterSeed?: string;
}

/**
 * Runs as much of the schedule as fits in this invocation. A measurement starts only if it can finish
 * (its timeout) before the invocation ends, so nothing is cut; what does not fit is suspended for the
 * next leg, unless it could not finish before the analysis deadline, or could never fit in one invocation.
 */
export async function runLeg(o: LegOptions): Promise<LegResult> {
  const { clock } = o;
  const startedAt = clock.now();
  if (startedAt >= o.deadline) {
    return { kind: 'verdict', verdict: unfinished('the analysis deadline passed before it finished', [], startedAt) };
  }
  const suspendAt = Math.min(o.analysisEndsAt, o.deadline);
  let taken = 0;
  const analysis = await evaluate({
    runs: o.runs,
    clock,
    signal: o.signal,
    log: o.log,
    suspendAt,
    deadlineAt: o.deadline,
    ...(o.state ? { state: o.state } : {}),
    ...(o.jitterSeed !== undefined ? { jitterSeed: o.jitterSeed } : {}),
    onMeasurement: () => {
      taken++;
    },
  });
  if (analysis.kind === 'verdict') return analysis;

  const now = clock.now();
  if (suspendAt >= o.deadline) {
    return {
      kind: 'verdict',
      verdict: unfinished(
        `the schedule cannot finish before the analysis deadline (${new Date(o.deadline).toISOString()}): next measurement due at ${new Date(analysis.resumeAt).toISOString()}`,
        analysis.progress,
        now,
      ),
    };
  }
  // Due now, yet nothing was measured in a whole invocation: a check's timeout is longer than an invocation.
  if (taken === 0 && analysis.resumeAt <= startedAt + 1_000) {
    const longest = Math.max(
      ...o.runs.filter((r) => analysis.state.checks[r.name]?.status === 'running').map((r) => r.policy.timeoutMs),
    );
    return {
      kind: 'verdict',
      verdict: unfinished(
        `a check's timeout (${longest} ms) is longer than one invocation can give it (${Math.max(0, suspendAt - startedAt)} ms): lower the timeout or raise the function timeout`,
        analysis.progress,
        now,
      ),
    };
  }
  return { kind: 'suspended', analysis: analysis.state, resumeAt: analysis.resumeAt, progress: analysis.progress };
}

export interface PlannedLegOptions extends Omit<LegOptions, 'runs' | 'state'> {
  /** The plan's entry for this hook or stage, as `checksForHook` selected it. */
  readonly selected: { readonly key: string; readonly checks: readonly PlanCheck[] };
  readonly context: DeploymentContext;
  readonly checkDeps: CheckDeps;
  /** The analysis carried from the previous invocation, if this one resumes it. */
  readonly carried?: CarriedState | undefined;
}

/**
 * Builds the plan's checks for this deployment, logs which run, and runs this invocation's leg.
 * `legs` counts the invocations of the analysis, this one included.
 */
export async function runPlannedLeg(o: PlannedLegOptions): Promise<{ leg: LegResult; legs: number }> {
  const runs = buildRuns(o.selected.checks, o.context, o.checkDeps);
  const legs = (o.carried?.legs ?? 0) + 1;
  o.log.info(o.carried ? 'resuming checks' : 'running checks', {
    planKey: o.selected.key,
    checks: runs.map((r) => r.name),
    invocation: legs,
    deadline: new Date(o.deadline).toISOString(),
  });
  const leg = await runLeg({
    runs,
    clock: o.clock,
    log: o.log,
    signal: o.signal,
    analysisEndsAt: o.analysisEndsAt,
    deadline: o.deadline,
    ...(o.jitterSeed !== undefined ? { jitterSeed: o.jitterSeed } : {}),
    ...(o.carried ? { state: o.carried.analysis } : {}),
  });
  return { leg, legs };
}

function unfinished(reason: string, checks: readonly CheckResult[], now: number): Verdict {
  return { status: 'error', reasons: [reason], checks, startedAt: now, finishedAt: now };
}
