/** What one run of a check found. `error` means it could not measure: never a pass. */
export type Outcome = 'pass' | 'fail' | 'inconclusive' | 'error';

/** What a check returns for one measurement. It never throws for an expected failure. */
export interface Observation {
  readonly outcome: Outcome;
  /** Human-readable and safe to log: no secrets, no response bodies beyond a short excerpt. */
  readonly message: string;
  /** The observed value (a status code, a count, a latency), when there is one. */
  readonly value?: string | number | boolean | null;
  /**
   * An `error` whose AWS reads were still throttled when the measurement's time ran out: AWS's answer to the
   * account's load, not evidence about green. The analysis takes it again instead of counting it, as long as
   * its deadline leaves time for the rest of the check's schedule (`AnalyzeOptions.deadlineAt`).
   */
  readonly throttled?: true;
}

export interface Measurement extends Observation {
  /** Epoch milliseconds at which the measurement started. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** A throttled measurement the analysis takes again (`AnalyzeOptions.deadlineAt`): it counts toward nothing. */
  readonly retaken?: true;
}

/** When and how often a check measures, and what it tolerates. Durations in milliseconds. */
export interface CheckPolicy {
  readonly initialDelayMs: number;
  /** Measurements that are not errors to take; at least 1. Errors are retried and never count toward it. */
  readonly count: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** The check fails once failed measurements exceed this. */
  readonly failureLimit: number;
  /** Errors in a row retried; one more ends the check in error. Bounds the attempts at count × (this + 1). */
  readonly consecutiveErrorLimit: number;
  /** When above 0, the check passes as soon as this many passes come in a row (an error breaks a run), and fails if `count` runs out first. */
  readonly consecutiveSuccesses: number;
  /** The check is inconclusive once inconclusive measurements exceed this. */
  readonly inconclusiveLimit: number;
  /** Advisory: measured and reported, never deciding the verdict. */
  readonly dryRun: boolean;
}

/** Where one measurement stands in its check's schedule. */
export interface MeasureAt {
  /**
   * 1 for the check's first measurement, then 2, 3, ...: one more than every measurement the check has
   * taken, errors included, in this invocation and the earlier ones a resumed analysis carries
   * (`CheckState.taken`). A check that keeps its own sequence (the statistical judge's looks) continues
   * from it instead of restarting at 1 in each invocation.
   */
  readonly index: number;
  /**
   * Epoch milliseconds at which the analysis cuts this measurement (its start plus the check's timeout).
   * A check that retries (a throttled AWS read) may use the time up to it, and should end a little before,
   * so that its own reason ("throttled by AWS ...") is the measurement's, not a bare timeout.
   */
  readonly cutAt?: number;
  /**
   * A pass of this measurement may complete the check: the last of its `count` measurements, or the pass that
   * would complete its run of `consecutiveSuccesses`. A check that reuses an earlier reading between
   * measurements (target-health, ecs-tasks, cloudwatch-alarms, cloudwatch-metric) reads afresh for it: AWS
   * may have changed the state (a health check, an alarm evaluation) at any moment since that reading, and
   * a check must not pass on a reading older than its last measurement.
   */
  readonly final?: boolean;
}

/** One measurement. `at` is given by the analysis; a check measured on its own may go without it. */
export type Measure = (signal: AbortSignal, at?: MeasureAt) => Promise<Observation>;

/** A check ready to run: the engine knows nothing else about it. */
export interface CheckRun {
  readonly name: string;
  readonly kind: string;
  readonly policy: CheckPolicy;
  readonly measure: Measure;
}

/** `running` only appears in suspended state or when a verdict was reached before the check finished. */
export type CheckStatus = 'running' | 'pass' | 'fail' | 'inconclusive' | 'error';

export interface Counters {
  /** Every measurement taken, errors included; those that count toward `count` are passes + failures + inconclusives. */
  readonly taken: number;
  readonly passes: number;
  readonly failures: number;
  readonly errors: number;
  readonly inconclusives: number;
  readonly consecutivePasses: number;
  readonly consecutiveErrors: number;
}

/** Everything needed to resume a check's schedule in a later invocation. Plain JSON. */
export interface CheckState extends Counters {
  readonly status: CheckStatus;
  readonly reason: string;
  /** Epoch milliseconds at which the next measurement is due. */
  readonly nextAt: number;
  /** The most recent measurements, newest last, bounded. */
  readonly recent: readonly Measurement[];
}

export interface AnalysisState {
  readonly startedAt: number;
  readonly checks: Readonly<Record<string, CheckState>>;
}

export type VerdictStatus = 'pass' | 'fail' | 'inconclusive' | 'error';

export interface CheckResult {
  readonly name: string;
  readonly kind: string;
  readonly status: CheckStatus;
  readonly dryRun: boolean;
  readonly reason: string;
  readonly counters: Counters;
  readonly recent: readonly Measurement[];
}

export interface Verdict {
  readonly status: VerdictStatus;
  /** One line per deciding check that did not pass; a single summary line when all passed. */
  readonly reasons: readonly string[];
  readonly checks: readonly CheckResult[];
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** Time, passed in so that the core stays pure and testable. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /**
   * A clock that skips time (the durable SDK's local runner with time skipping, the rehearsal) jumps to
   * `epochMs` when a durable wait that ends then returns; the system clock has none: its time has passed.
   */
  advanceTo?(epochMs: number): void;
}
