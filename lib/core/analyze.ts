import { assess, count, emptyCounters, initialJitterMaxMs, measured, policyProblem, worst } from './policy.ts';
import type {
  AnalysisState,
  CheckPolicy,
  CheckResult,
  CheckRun,
  CheckState,
  Clock,
  Counters,
  MeasureAt,
  Measurement,
  Observation,
  Verdict,
} from './types.ts';

export interface AnalyzeOptions {
  readonly checks: readonly CheckRun[];
  readonly clock: Clock;
  /** Aborted at the deadline: measurements stop and unfinished deciding checks end in error. */
  readonly signal: AbortSignal;
  /** State from an earlier, suspended analysis of the same checks. */
  readonly state?: AnalysisState;
  /**
   * Epoch milliseconds. When given, a check whose next measurement could not finish by then is
   * not started; once no check can go on, the analysis is suspended so a later invocation can resume it.
   */
  readonly suspendAt?: number;
  /**
   * Whether a measurement must also be able to finish (its timeout) by `suspendAt` to start. Default true,
   * for callers that can resume later; false when there is no later: the deadline cuts what overruns.
   */
  readonly suspendCountsTimeout?: boolean;
  /** Called after every measurement, for progress and logs. Must not throw. */
  readonly onMeasurement?: (check: CheckRun, measurement: Measurement, state: CheckState) => void;
  /** How many recent measurements each check keeps. Default 5. */
  readonly recentLimit?: number;
  /**
   * The plan explicitly lists no checks here (`BeforeInstall: []`): given no checks at all, the verdict
   * passes. Default false: with no deciding check nothing measured green, so the verdict is inconclusive.
   */
  readonly noChecksPass?: boolean;
  /**
   * Identifies the hook (a deployment id and stage): when given, each check's first measurement is delayed
   * and each interval lengthened by a small jitter derived from it, the same in every invocation of the
   * hook, so that deployments started together do not measure in lockstep. Bounded by `scheduleJitter`.
   */
  readonly jitterSeed?: string;
  /**
   * Epoch milliseconds by which every deciding check must have finished (the analysis deadline). When
   * given, a measurement whose AWS reads were still throttled when its time ran out (`Observation.throttled`)
   * is not counted: the check measures again an interval later, as long as the rest of its schedule still
   * fits before this; after that, a throttled measurement is an error like any other. Throttling is AWS's
   * answer to the account's load, not evidence about green (a fleet of deployments measuring at once must
   * not roll each other back), yet the verdict still comes before the deadline.
   */
  readonly deadlineAt?: number;
}

export type Analysis =
  | { readonly kind: 'verdict'; readonly verdict: Verdict; readonly state: AnalysisState }
  | {
      readonly kind: 'suspended';
      /** Epoch milliseconds at which the earliest pending measurement is due. */
      readonly resumeAt: number;
      readonly state: AnalysisState;
      /** The checks as they stand, for logs and progress. */
      readonly progress: readonly CheckResult[];
    };

type LoopEnd = 'done' | 'stopped' | 'suspended';

const TIMED_OUT: unique symbol = Symbol('timeout');

const validOutcomes = new Set(['pass', 'fail', 'inconclusive', 'error']);

/**
 * Runs every check on its schedule, in parallel, and returns the verdict as soon as it is certain:
 * the first deciding check that cannot pass ends the analysis and aborts the rest.
 *
 * @example
 * const analysis = await analyze({ checks, clock: systemClock, signal: deadline.signal });
 */
export async function analyze(options: AnalyzeOptions): Promise<Analysis> {
  const { checks, clock, signal } = options;
  const recentLimit = options.recentLimit ?? 5;
  const countTimeout = options.suspendCountsTimeout ?? true;
  const startedAt = options.state?.startedAt ?? clock.now();
  const states = new Map<string, CheckState>();
  for (const run of checks) {
    // Own properties only: a check named `constructor` must not resume from Object's.
    const carried =
      options.state && Object.hasOwn(options.state.checks, run.name) ? options.state.checks[run.name] : undefined;
    const delay =
      options.jitterSeed === undefined ? 0 : scheduleJitter(run.policy).initial(options.jitterSeed, run.name);
    states.set(run.name, carried ?? freshState(run, clock.now() + delay));
  }

  const stop = new AbortController();
  const loopSignal = AbortSignal.any([signal, stop.signal]);
  const deciding = checks.filter((c) => !c.policy.dryRun);
  let decidedBy: string | undefined;

  const settle = (): void => {
    if (stop.signal.aborted) return;
    const failed = deciding.find((c) => {
      const s = states.get(c.name)?.status;
      return s !== 'running' && s !== 'pass';
    });
    if (failed) {
      decidedBy = failed.name;
      stop.abort();
      return;
    }
    const allPassed = deciding.length > 0 && deciding.every((c) => states.get(c.name)?.status === 'pass');
    if (allPassed) stop.abort();
  };

  const loop = async (run: CheckRun): Promise<LoopEnd> => {
    for (;;) {
      const current = states.get(run.name) as CheckState;
      if (current.status !== 'running') return 'done';
      if (loopSignal.aborted) return 'stopped';
      if (
        options.suspendAt !== undefined &&
        Math.max(current.nextAt, clock.now()) + (countTimeout ? run.policy.timeoutMs : 0) > options.suspendAt
      ) {
        return 'suspended';
      }
      const wait = current.nextAt - clock.now();
      if (wait > 0) await clock.sleep(wait, loopSignal);
      if (loopSignal.aborted) return 'stopped';
      const m = await measureOnce(run, clock, loopSignal, {
        index: current.taken + 1,
        final: mayComplete(run.policy, current),
      });
      if (m === undefined) return 'stopped';
      const retakeAt = Math.max(m.startedAt + run.policy.intervalMs, clock.now());
      if (
        m.throttled &&
        options.deadlineAt !== undefined &&
        restFits(run.policy, current, retakeAt, options.deadlineAt)
      ) {
        const retaken: Measurement = {
          ...m,
          retaken: true,
          message: `${m.message}; not counted: measured again in ${seconds(retakeAt - clock.now())} (the deadline leaves time)`,
        };
        // Not counted and not a measurement of green; like an error, it breaks a run of passes.
        const next: CheckState = {
          ...current,
          consecutivePasses: 0,
          nextAt: retakeAt,
          recent: [...current.recent, retaken].slice(-recentLimit),
        };
        states.set(run.name, next);
        try {
          options.onMeasurement?.(run, retaken, next);
        } catch {
          // Progress reporting must never change a verdict.
        }
        continue;
      }
      const counters = count(current, m.outcome);
      const assessment = assess(counters, run.policy);
      const next: CheckState = {
        ...counters,
        status: assessment.status,
        reason: assessment.reason,
        nextAt: Math.max(
          m.startedAt +
            run.policy.intervalMs +
            (options.jitterSeed === undefined
              ? 0
              : scheduleJitter(run.policy).interval(options.jitterSeed, run.name, counters.taken)),
          clock.now(),
        ),
        recent: [...current.recent, m].slice(-recentLimit),
      };
      states.set(run.name, next);
      try {
        options.onMeasurement?.(run, m, next);
      } catch {
        // Progress reporting must never change a verdict.
      }
      settle();
    }
  };

  settle();
  const ends = await Promise.all(checks.map(loop));
  settle();

  const state: AnalysisState = { startedAt, checks: Object.fromEntries(states) };
  const decided = stop.signal.aborted && !signal.aborted;
  const anySuspended = ends.includes('suspended');
  if (!decided && anySuspended && !signal.aborted && deciding.some(isRunning(states))) {
    const pending = checks
      .filter((c) => states.get(c.name)?.status === 'running')
      .map((c) => (states.get(c.name) as CheckState).nextAt);
    return {
      kind: 'suspended',
      resumeAt: Math.min(...pending),
      state,
      progress: checks.map((c) => result(c, states.get(c.name) as CheckState, 'suspended')),
    };
  }

  const unfinishedReason = signal.aborted
    ? describeAbort(signal)
    : decidedBy !== undefined
      ? `not finished: the verdict was decided by ${decidedBy}`
      : 'not finished';
  const results = checks.map((c) => result(c, states.get(c.name) as CheckState, unfinishedReason));
  return {
    kind: 'verdict',
    verdict: toVerdict(results, startedAt, clock.now(), options.noChecksPass === true),
    state,
  };
}

/**
 * Whether a check whose next measurement starts at `startAt` can still take every measurement it needs
 * (`count` less those already counted, none of them an error) before `deadlineAt`: each an interval after
 * the previous one started (or when it ended, if it ran longer), the last running to its timeout.
 */
export function restFits(p: CheckPolicy, c: Counters, startAt: number, deadlineAt: number): boolean {
  const left = Math.max(1, p.count - measured(c));
  return startAt + (left - 1) * Math.max(p.intervalMs, p.timeoutMs) + p.timeoutMs <= deadlineAt;
}

/** Whether a pass of the check's next measurement may complete it (`MeasureAt.final`). */
function mayComplete(p: CheckPolicy, c: Counters): boolean {
  return p.consecutiveSuccesses > 0 ? c.consecutivePasses + 1 >= p.consecutiveSuccesses : measured(c) + 1 >= p.count;
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

function isRunning(states: Map<string, CheckState>) {
  return (c: CheckRun): boolean => states.get(c.name)?.status === 'running';
}

function freshState(run: CheckRun, now: number): CheckState {
  // A policy that cannot gather evidence (count 0) ends in error before it starts: never a pass.
  const problem = policyProblem(run.policy);
  return {
    ...emptyCounters,
    status: problem === undefined ? 'running' : 'error',
    reason: problem ?? 'not started',
    nextAt: now + run.policy.initialDelayMs,
    recent: [],
  };
}

function result(run: CheckRun, s: CheckState, unfinished: string): CheckResult {
  const counters: Counters = {
    taken: s.taken,
    passes: s.passes,
    failures: s.failures,
    errors: s.errors,
    inconclusives: s.inconclusives,
    consecutivePasses: s.consecutivePasses,
    consecutiveErrors: s.consecutiveErrors,
  };
  return {
    name: run.name,
    kind: run.kind,
    status: s.status,
    dryRun: run.policy.dryRun,
    reason:
      s.status === 'running'
        ? `${unfinished} (${measured(s)} of ${run.policy.count} measurements${s.errors > 0 ? ` and ${s.errors} errors` : ''})`
        : s.reason,
    counters,
    recent: s.recent,
  };
}

function toVerdict(results: CheckResult[], startedAt: number, finishedAt: number, noChecksPass: boolean): Verdict {
  const status = worst(results, noChecksPass);
  const deciding = results.filter((r) => !r.dryRun);
  let reasons: string[];
  if (deciding.length === 0) {
    reasons =
      status === 'pass'
        ? ['no checks: the plan lists none here']
        : [
            results.length === 0
              ? 'no deciding checks: nothing measured green'
              : `no deciding checks: the ${results.length} dry-run checks never decide, and nothing else measured green`,
          ];
  } else if (status === 'pass') {
    reasons = [`all ${deciding.length} deciding checks passed`];
  } else {
    const named = reasonChecks(deciding);
    const listed = named.length > 0 ? named : deciding.filter((r) => r.counters.passes < 1);
    reasons = listed.map((r) => {
      const last = r.recent.at(-1);
      const shown = r.status === 'running' || r.status === 'pass' ? 'error' : r.status;
      const why = r.status === 'pass' ? `reported as passed without a passing measurement (${r.reason})` : r.reason;
      return `${r.name}: ${shown}: ${why}${last ? `; last: ${last.message}` : ''}`;
    });
  }
  return { status, reasons, checks: results, startedAt, finishedAt };
}

/** The checks that decided a non-passing verdict; unfinished ones only when nothing else decided (a deadline). */
function reasonChecks(deciding: CheckResult[]): CheckResult[] {
  const decided = deciding.filter((r) => r.status !== 'pass' && r.status !== 'running');
  return decided.length > 0 ? decided : deciding.filter((r) => r.status === 'running');
}

function describeAbort(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.message) return reason.message;
  if (typeof reason === 'string' && reason) return reason;
  return 'aborted before it finished';
}

/** One measurement, bounded by the check's timeout. `undefined` when the analysis was stopped meanwhile. */
async function measureOnce(
  run: CheckRun,
  clock: Clock,
  signal: AbortSignal,
  at: MeasureAt,
): Promise<Measurement | undefined> {
  const startedAt = clock.now();
  const cutAt = startedAt + run.policy.timeoutMs;
  const local = new AbortController();
  const linked = AbortSignal.any([signal, local.signal]);
  const timer = clock.sleep(run.policy.timeoutMs, linked).then((): typeof TIMED_OUT => TIMED_OUT);
  const measured = Promise.resolve()
    .then(() => run.measure(linked, { ...at, cutAt }))
    .then(sanitize, (error: unknown) => ({
      outcome: 'error' as const,
      message: `check threw: ${errorMessage(error)}`,
    }));
  const first = await Promise.race([measured, timer]);
  if (first === TIMED_OUT && !signal.aborted) {
    local.abort(new Error(`timed out after ${run.policy.timeoutMs} ms`));
  } else {
    local.abort();
  }
  if (signal.aborted) return undefined;
  if (first === TIMED_OUT) {
    // A check that was cut may still say why within a moment (its own reads' budget ends at the same time, and
    // a busy event loop runs both timers together): an error it reports, such as AWS throttling its reads, is
    // more exact than "timed out". A late pass or fail is not taken: the measurement overran its timeout.
    const late = await Promise.race([
      measured,
      clock.sleep(cutGraceMs(run.policy.timeoutMs), signal).then(() => undefined),
    ]);
    if (signal.aborted) return undefined;
    const durationMs = clock.now() - startedAt;
    if (late?.outcome === 'error') return { ...late, startedAt, durationMs };
    return {
      outcome: 'error',
      message: `timed out after ${run.policy.timeoutMs} ms`,
      startedAt,
      durationMs,
    };
  }
  const durationMs = clock.now() - startedAt;
  return { ...first, startedAt, durationMs };
}

/** How long a cut measurement may take to report its own error: 5% of its timeout, 10 to 100 ms. */
function cutGraceMs(timeoutMs: number): number {
  return Math.min(100, Math.max(10, timeoutMs * 0.05));
}

function sanitize(o: Observation): Observation {
  if (o === null || typeof o !== 'object' || !validOutcomes.has(o.outcome)) {
    return { outcome: 'error', message: 'check returned no valid outcome' };
  }
  const message = typeof o.message === 'string' ? o.message : String(o.message);
  const base: Observation =
    o.value === undefined ? { outcome: o.outcome, message } : { outcome: o.outcome, message, value: o.value };
  // Only an error can be "throttled": a pass or fail is evidence about green, whatever the flag says.
  return o.throttled === true && o.outcome === 'error' ? { ...base, throttled: true } : base;
}

/**
 * The jitter of a check's schedule: up to half an interval (at most 2.5 s, `initialJitterMaxMs`) before the
 * first measurement. Deployments that start together then measure apart, and stay apart: each keeps its
 * interval. Intervals themselves are not jittered, so a schedule is as long as the plan says plus that
 * first delay (counted in `longestScheduleMs`). Deterministic: the same seed and check give the same
 * delay, so a hook resumed in a later invocation keeps its schedule.
 */
export function scheduleJitter(p: CheckPolicy): {
  readonly initialMaxMs: number;
  readonly intervalMaxMs: number;
  initial(seed: string, check: string): number;
  interval(seed: string, check: string, taken: number): number;
} {
  const initialMaxMs = initialJitterMaxMs(p);
  return {
    initialMaxMs,
    intervalMaxMs: 0,
    initial: (seed, check) => Math.floor(unit(`${seed}\u0000${check}`) * initialMaxMs),
    interval: () => 0,
  };
}

/** The most jitter can add to a check's schedule (see `scheduleJitter` and `longestScheduleMs`). */
export function maxScheduleJitterMs(p: CheckPolicy, attempts: number): number {
  return attempts <= 0 ? 0 : initialJitterMaxMs(p);
}

/** A number in [0, 1) from a string: FNV-1a, 32 bits. Not for secrets; only to spread schedules. */
function unit(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 0x1_0000_0000;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
