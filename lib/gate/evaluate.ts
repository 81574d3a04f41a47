import { type Analysis, analyze } from '../core/analyze.ts';
import type {
  AnalysisState,
  CheckPolicy,
  CheckResult,
  CheckRun,
  CheckState,
  Clock,
  Measurement,
  Verdict,
} from '../core/types.ts';
import type { Log } from '../runtime/logger.ts';
import type { VerdictScope } from './observe.ts';

export interface EvaluateOptions {
  readonly runs: readonly CheckRun[];
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly log: Log;
  readonly state?: AnalysisState;
  readonly suspendAt?: number;
  readonly suspendCountsTimeout?: boolean;
  readonly onMeasurement?: (check: CheckRun, m: Measurement) => void;
  /** Spreads the first measurement of hooks that start together (`scheduleJitter`): the deployment and hook. */
  readonly jitterSeed?: string;
  /** The analysis deadline: throttled measurements are taken again while the schedule still fits (`AnalyzeOptions.deadlineAt`). */
  readonly deadlineAt?: number;
}

/** The longest measurement detail a log line carries: 30 measurements x 10 checks stay small in Live Tail. */
export const measurementDetailChars = 160;

/**
 * Runs the analysis with one compact INFO line per measurement, so that CloudWatch Logs Live Tail shows a
 * bake as it runs: check, kind, outcome, a short detail, value, durationMs, measurement `n` of `count`,
 * and the check's status after it. The detail and value are what the check reported after its secrets
 * were scrubbed (`redactedMeasure`); the detail is cut to `measurementDetailChars`.
 */
export function evaluate(options: EvaluateOptions): Promise<Analysis> {
  const { log } = options;
  return analyze({
    checks: options.runs,
    // Runs come from `checksForHook`, which gives none only for an explicit `[]` entry (no entry is a PlanError).
    noChecksPass: options.runs.length === 0,
    clock: options.clock,
    signal: options.signal,
    ...(options.state ? { state: options.state } : {}),
    ...(options.suspendAt !== undefined ? { suspendAt: options.suspendAt } : {}),
    ...(options.suspendCountsTimeout !== undefined ? { suspendCountsTimeout: options.suspendCountsTimeout } : {}),
    ...(options.jitterSeed !== undefined ? { jitterSeed: options.jitterSeed } : {}),
    ...(options.deadlineAt !== undefined ? { deadlineAt: options.deadlineAt } : {}),
    onMeasurement: (check, m, state) => {
      log.info('measurement', measurementLine(check, m, state));
      options.onMeasurement?.(check, m);
    },
  });
}

/** The fields of one measurement's log line (see `evaluate`). */
export function measurementLine(
  check: Pick<CheckRun, 'name' | 'kind'> & { readonly policy: Pick<CheckPolicy, 'count'> },
  m: Measurement,
  state: Pick<CheckState, 'taken' | 'status'>,
): Record<string, unknown> {
  return {
    check: check.name,
    kind: check.kind,
    outcome: m.outcome,
    ...(m.throttled ? { throttled: true } : {}),
    detail: clipDetail(m.message),
    ...(m.value !== undefined ? { value: typeof m.value === 'string' ? clipDetail(m.value) : m.value } : {}),
    durationMs: Math.round(m.durationMs),
    n: state.taken,
    count: check.policy.count,
    checkStatus: state.status,
  };
}

function clipDetail(text: string): string {
  return text.length > measurementDetailChars ? `${text.slice(0, measurementDetailChars - 1)}…` : text;
}

/** A compact, log-safe view of check results. */
export function summarizeChecks(checks: readonly CheckResult[]): Record<string, unknown>[] {
  return checks.map((c) => ({
    check: c.name,
    kind: c.kind,
    status: c.status,
    dryRun: c.dryRun,
    reason: c.reason,
    taken: c.counters.taken,
  }));
}

/** A verdict for something that went wrong before or outside the analysis: always a failure. */
export function failedVerdict(reason: string, now: number): Verdict {
  return { status: 'error', reasons: [reason], checks: [], startedAt: now, finishedAt: now };
}

/** What spreads the schedules of hooks that start together: the deployment and the hook (or stage). */
export function jitterSeed(scope: VerdictScope, planKey: string): string {
  return `${scope.deploymentId ?? ''}/${scope.stage ?? planKey}`;
}

/**
 * Runs `runs` to a verdict within this invocation, for a caller that cannot call back (no state is carried):
 * measurements start until `analysisEndsAt`, one that starts in time runs until the deadline cuts it, and
 * throttled measurements are taken again while they fit before it. A schedule left unfinished is a Failed
 * verdict whose reason `unfinished` words from when the next measurement was due (epoch ms).
 */
export async function evaluateInInvocation(o: {
  readonly runs: readonly CheckRun[];
  readonly clock: Clock;
  readonly log: Log;
  readonly run: { readonly signal: AbortSignal; readonly analysisEndsAt: number; readonly scope: VerdictScope };
  readonly planKey: string;
  readonly unfinished: (resumeAt: number) => string;
}): Promise<{ readonly kind: 'verdict'; readonly verdict: Verdict }> {
  o.log.info('running checks', { planKey: o.planKey, checks: o.runs.map((r) => r.name) });
  const analysis = await evaluate({
    runs: o.runs,
    clock: o.clock,
    signal: o.run.signal,
    log: o.log,
    suspendAt: o.run.analysisEndsAt,
    suspendCountsTimeout: false,
    deadlineAt: o.run.analysisEndsAt,
    jitterSeed: jitterSeed(o.run.scope, o.planKey),
  });
  if (analysis.kind === 'verdict') return analysis;
  return { kind: 'verdict', verdict: failedVerdict(o.unfinished(analysis.resumeAt), o.clock.now()) };
}
