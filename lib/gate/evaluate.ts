import { functionBodyBudget } from '../checks/body-budget.ts';
import { defaultAllow, deploymentListeners } from '../checks/egress.ts';
import type { CheckDeps } from '../checks/kind.ts';
import { checkKinds } from '../checks/registry.ts';
import { redactedMeasure, secretReader } from '../checks/secrets.ts';
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
import { join } from '../plan/fields.ts';
import type { DeploymentContext, PlaceholderName } from '../plan/placeholders.ts';
import type { PlanCheck } from '../plan/schema.ts';
import type { Log } from '../runtime/logger.ts';

/**
 * Turns plan checks into runnable checks for this deployment. Throws a `PlanError` naming the field.
 * Each check probes only where the plan's `allow` and the deployment's listeners say, and reports
 * nothing of its secrets or credential headers.
 */
export function buildRuns(checks: readonly PlanCheck[], context: DeploymentContext, deps: CheckDeps): CheckRun[] {
  const listeners = deploymentListeners(context);
  // One body budget for every check of this invocation (lib/checks/body-budget.ts).
  const bodyBudget = deps.bodyBudget ?? functionBodyBudget();
  const read = secretReader(deps.secrets);
  return checks.map((check) => {
    const path = join('checks', check.name);
    const kind = checkKinds[check.type];
    // The registry maps each type to its own kind, so this spec fits it.
    const prepared = kind.prepare ? kind.prepare(check.spec as never, context, path) : check.spec;
    const checkDeps: CheckDeps = { ...deps, bodyBudget, egress: { allow: check.allow ?? defaultAllow, ...listeners } };
    const measure = redactedMeasure({
      template: prepared as { headers?: Readonly<Record<string, string>> },
      context,
      secrets: check.secrets,
      path,
      // The registry maps each type to its own kind, so this spec fits it.
      create: (filled) => kind.create(filled as never, checkDeps, path),
      read,
    });
    return { name: check.name, kind: check.type, policy: check.policy, measure };
  });
}

/** The placeholder names that `checks` use, so that only those need resolving. */
export function usedPlaceholders(checks: readonly PlanCheck[]): Set<PlaceholderName> {
  const names = new Set<PlaceholderName>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)) names.add(m[1] as PlaceholderName);
    } else if (Array.isArray(v)) {
      for (const item of v) walk(item);
    } else if (v !== null && typeof v === 'object') {
      for (const item of Object.values(v)) walk(item);
    }
  };
  for (const c of checks) walk(c.spec);
  return names;
}

export interface EvaluateOptions {
  readonly runs: readonly CheckRun[];
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly log: Log;
  readonly state?: AnalysisState;
  readonly suspendAt?: number;
  readonly suspendCountsTimeout?: boolean;
  readonly onMeasurement?: (check: CheckRun, m: Measurement) => void;
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
