import { type CheckRow, measurementLine, type Output } from '../render.ts';
import type { LogRecord } from './log-capture.ts';
import type { MeasurementRecord } from './types.ts';

/** What the function's logs told about one step: its checks' measurements and its verdict. */
export interface StepLog {
  readonly measurements: readonly MeasurementRecord[];
  /** From the function's `verdict` line: one row per check. */
  readonly checks: readonly CheckRow[];
  readonly reasons: readonly string[];
  /** Warnings and errors the function logged, by message. */
  readonly problems: readonly string[];
}

export interface Progress {
  /** Starts collecting for a new step. */
  begin(): void;
  /** Feeds one function log line (from the log capture). */
  record(record: LogRecord): void;
  end(): StepLog;
}

/** Logged by Powertools when a call passes a `message` key; says nothing about the deployment. */
const loggerNoise = /reserved key and will be dropped/;

/**
 * Turns the functions' JSON logs into live progress: the checks a step runs (the `running checks`
 * line), each measurement as it happens (the `measurement` debug lines) and the verdict table
 * (the `verdict` line). `counts` gives each check's scheduled measurements, from the plan.
 */
export function progress(
  out: Output,
  counts: ReadonlyMap<string, number>,
  options: { verbose: boolean; echo: (text: string) => void },
): Progress {
  let startedAt = Date.now();
  let measurements: MeasurementRecord[] = [];
  let checks: CheckRow[] = [];
  let reasons: string[] = [];
  let problems: string[] = [];
  const taken = new Map<string, number>();
  const failures = new Map<string, { failures: number; errors: number }>();
  let nameWidth = 12;

  return {
    begin() {
      startedAt = Date.now();
      measurements = [];
      checks = [];
      reasons = [];
      problems = [];
      taken.clear();
      failures.clear();
    },

    record(record) {
      if (options.verbose) options.echo(out.style('dim', JSON.stringify(record)));
      if (record.message === 'running checks' && Array.isArray(record.checks)) {
        const names = record.checks.map(String);
        if (names.length === 0) return;
        nameWidth = Math.max(12, ...names.map((n) => n.length));
        out.line(`    running ${names.map((n) => out.style('bold', n)).join(', ')}`);
        return;
      }
      if (record.message === 'measurement' && typeof record.check === 'string') {
        const check = record.check;
        const outcome = String(record.outcome ?? 'error');
        const index = (taken.get(check) ?? 0) + 1;
        taken.set(check, index);
        const tally = failures.get(check) ?? { failures: 0, errors: 0 };
        if (outcome === 'fail') tally.failures++;
        if (outcome === 'error') tally.errors++;
        failures.set(check, tally);
        const text = describeMeasurement(record);
        const m: MeasurementRecord = { check, outcome, message: text, atMs: Date.now() - startedAt };
        measurements.push(m);
        const count = counts.get(check);
        out.line(measurementLine(out, { ...m, index, ...(count !== undefined ? { count } : {}) }, nameWidth));
        return;
      }
      if (record.message === 'verdict') {
        reasons = Array.isArray(record.reasons) ? record.reasons.map(String) : [];
        checks = Array.isArray(record.checks) ? record.checks.map((c) => row(c, counts, failures)) : [];
        return;
      }
      if ((record.level === 'WARN' || record.level === 'ERROR') && !loggerNoise.test(record.message)) {
        const detail =
          typeof record.reason === 'string'
            ? `: ${record.reason}`
            : typeof record.error === 'string'
              ? `: ${record.error}`
              : '';
        problems.push(`${record.message}${detail}`);
        const label = record.level === 'ERROR' ? out.style('red', 'error') : out.style('yellow', 'warn');
        out.line(`    ${label} ${record.message}${detail}`);
      }
    },

    end: () => ({ measurements, checks, reasons, problems }),
  };
}

/**
 * The measurement's own text when the log line carries it; otherwise what it does carry (the
 * observed value and the time taken). Powertools drops a `message` key passed with a log call, so a
 * measurement logged as `{ message }` arrives without its text.
 */
function describeMeasurement(record: LogRecord): string {
  for (const key of ['detail', 'observation', 'text']) {
    if (typeof record[key] === 'string') return record[key];
  }
  const value = record.value === undefined ? '' : `${String(record.value)} `;
  const took = typeof record.durationMs === 'number' ? `in ${record.durationMs} ms` : '';
  return `${value}${took}`.trim() || '(no detail logged)';
}

function row(
  value: unknown,
  counts: ReadonlyMap<string, number>,
  tallies: ReadonlyMap<string, { failures: number; errors: number }>,
): CheckRow {
  const c = (value ?? {}) as Record<string, unknown>;
  const name = String(c.check ?? c.name ?? '?');
  const count = counts.get(name);
  const tally = tallies.get(name) ?? { failures: 0, errors: 0 };
  return {
    name,
    kind: String(c.kind ?? ''),
    // A check still running when the verdict came was stopped by it (fail fast or the deadline).
    status: c.status === 'running' ? 'stopped' : String(c.status ?? 'unknown'),
    dryRun: c.dryRun === true,
    taken: typeof c.taken === 'number' ? c.taken : 0,
    ...(count !== undefined ? { count } : {}),
    failures: tally.failures,
    errors: tally.errors,
    reason: String(c.reason ?? ''),
  };
}
