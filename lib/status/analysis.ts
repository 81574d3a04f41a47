import type { DurableHistoryEvent } from '../aws/durable-read.ts';

/**
 * What a durable execution's history says about one hook's analysis: read from the steps `runDurableGate`
 * checkpoints (lib/gate/durable.ts): `open`/`open-N` (the plan key, the checks, the deadline), `measure-N`
 * (each round's analysis state, or the verdict), `wait-N`/`watch-N` (durable waits), `deliver` (what the
 * caller was told) and the execution's own result. Pure: no AWS, no clock but the `now` passed in.
 * Only names, counters, outcomes and the checks' own messages are read: never a check's spec (URLs,
 * queries, secret references), so nothing printed can be a secret the plan holds.
 */

/** One measurement as status shows it. */
export interface MeasurementView {
  readonly outcome: string;
  readonly message: string;
  /** Epoch ms the measurement started. */
  readonly at: number;
  readonly durationMs?: number;
  /** 1 for the check's first measurement (errors included), as the rehearsal numbers them. */
  readonly index: number;
}

/** One check's progress. */
export interface CheckView {
  readonly name: string;
  /** The check kind (`http`, `cloudwatch-alarms`, ...). */
  readonly kind: string;
  /** `running` while it measures; then `pass`, `fail`, `inconclusive`, `error` (or `stopped`: cut off by the verdict). */
  readonly status: string;
  readonly dryRun: boolean;
  /** Measurements the schedule takes (the plan's `count`); errors are retried and do not count toward it. */
  readonly count?: number;
  /** Every measurement taken, errors included. */
  readonly taken: number;
  readonly passes: number;
  readonly failures: number;
  readonly errors: number;
  readonly inconclusives: number;
  /** Counted measurements still to take (`count` less passes, failures and inconclusives), while running. */
  readonly left?: number;
  readonly reason: string;
  /** The most recent measurements, oldest first (the engine keeps a bounded number). */
  readonly recent: readonly MeasurementView[];
}

/**
 * Where the analysis stands. `opening`: confirming the hook and choosing the checks; `watching`: the hook is
 * not open yet, looked at again later; `measuring`: a round runs; `waiting`: between rounds (durable wait);
 * `delivering`: a verdict is reached and being reported; `decided`: reported; `closed`: the hook no longer
 * awaited a verdict; `failed`: the execution itself failed, timed out or was stopped (the hook then times out).
 */
export type AnalysisPhase =
  | 'opening'
  | 'watching'
  | 'measuring'
  | 'waiting'
  | 'delivering'
  | 'decided'
  | 'closed'
  | 'failed';

export interface VerdictView {
  /** The analysis' outcome: `pass`, `fail`, `inconclusive`, `error`. */
  readonly status: string;
  readonly reasons: readonly string[];
  /** What the caller was told, in its own terms (`Succeeded`, `Failed`, ...), once delivered. */
  readonly decision?: string;
  readonly delivery?: string;
}

/** One hook's analysis, from its durable execution. */
export interface AnalysisView {
  readonly execution: {
    readonly name: string;
    readonly arn: string;
    /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED. */
    readonly status: string;
    readonly startedAt?: number;
    readonly endedAt?: number;
  };
  /** The trigger that started it (`codedeploy-hook`, ...) and the ids it was started with. */
  readonly trigger?: string;
  readonly deploymentId?: string;
  /** The hook execution id, when the trigger has one (CodeDeploy's LifecycleEventHookExecutionId). */
  readonly hookExecutionId?: string;
  /** The hook or stage being judged, once the execution has opened it. */
  readonly hook?: string;
  /** CodeDeploy `application/deployment group`, ECS `cluster/service`. */
  readonly group?: string;
  /** The plan key the checks came from (the hook, or `*`). */
  readonly planKey?: string;
  readonly phase: AnalysisPhase;
  /** Measurement rounds finished. */
  readonly rounds: number;
  /** Epoch ms the next round (or look at the hook) is due, while waiting. */
  readonly nextAt?: number;
  /** Epoch ms by which the verdict must be delivered (the hook's deadline less a second). */
  readonly deadline?: number;
  readonly checks: readonly CheckView[];
  readonly verdict?: VerdictView;
  /** Why the execution failed, or why the hook was closed. */
  readonly problem?: string;
}

type Json = Record<string, unknown>;

function parse(text: string | undefined): Json | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** The hook an execution's input names (`DurableStart`: `{v: 1, trigger, event}`), when it is one. */
export function startOf(input: string | undefined): {
  trigger?: string;
  deploymentId?: string;
  hookExecutionId?: string;
} {
  const start = parse(input);
  const event = obj(start?.event);
  const trigger = str(start?.trigger);
  const deploymentId = str(event?.DeploymentId) ?? str(event?.deploymentId);
  const hookExecutionId = str(event?.LifecycleEventHookExecutionId);
  return {
    ...(trigger !== undefined ? { trigger } : {}),
    ...(deploymentId !== undefined ? { deploymentId } : {}),
    ...(hookExecutionId !== undefined ? { hookExecutionId } : {}),
  };
}

interface Planned {
  readonly kind: string;
  readonly count?: number;
  readonly dryRun: boolean;
}

/**
 * Reads one execution's history (oldest first) into its analysis view. Tolerant: a step it does not know is
 * skipped, a payload that does not parse is ignored, so a history from a newer greenlight still shows what
 * this one understands.
 */
export function analysisFromHistory(
  execution: AnalysisView['execution'],
  events: readonly DurableHistoryEvent[],
): AnalysisView {
  let start: ReturnType<typeof startOf> = {};
  let hook: string | undefined;
  let group: string | undefined;
  let planKey: string | undefined;
  let deadline: number | undefined;
  let phase: AnalysisPhase = 'opening';
  let rounds = 0;
  let nextAt: number | undefined;
  let problem: string | undefined;
  let verdict: VerdictView | undefined;
  let planned = new Map<string, Planned>();
  let state: Json | undefined;
  let verdictChecks: Json[] | undefined;

  for (const e of events) {
    const name = e.name ?? '';
    switch (e.type) {
      case 'ExecutionStarted':
        start = startOf(e.payload);
        break;
      case 'StepStarted':
        if (name.startsWith('measure-')) phase = 'measuring';
        else if (name === 'deliver' || name === 'publish') phase = 'delivering';
        else if (name === 'open' || name.startsWith('open-')) phase = 'opening';
        nextAt = undefined;
        break;
      case 'StepSucceeded': {
        const result = parse(e.payload);
        if (name === 'open' || name.startsWith('open-')) {
          const scope = obj(result?.scope);
          hook = str(scope?.stage) ?? hook;
          group = str(scope?.group) ?? group;
          const scoped = str(scope?.deploymentId);
          if (scoped !== undefined) start = { ...start, deploymentId: scoped };
          const kind = str(result?.kind);
          if (kind === 'analyze') {
            const selected = obj(result?.selected);
            planKey = str(selected?.key);
            deadline = num(result?.reportBy);
            planned = new Map(
              (Array.isArray(selected?.checks) ? selected.checks : []).flatMap((c: unknown) => {
                const check = obj(c);
                const policy = obj(check?.policy);
                const checkName = str(check?.name);
                if (checkName === undefined) return [];
                const count = num(policy?.count);
                return [
                  [
                    checkName,
                    {
                      kind: str(check?.type) ?? '',
                      dryRun: policy?.dryRun === true,
                      ...(count !== undefined ? { count } : {}),
                    },
                  ] as const,
                ];
              }),
            );
            phase = 'measuring';
          } else if (kind === 'waiting') {
            phase = 'watching';
            nextAt = num(result?.resumeAt);
          } else if (kind === 'closed') {
            phase = 'closed';
            problem = str(result?.reason);
          } else if (kind === 'verdict') {
            const v = obj(result?.verdict);
            verdict = { status: str(v?.status) ?? 'error', reasons: strings(v?.reasons) };
            phase = 'delivering';
          }
        } else if (name.startsWith('measure-')) {
          rounds++;
          if (str(result?.kind) === 'suspended') {
            state = obj(result?.analysis);
            nextAt = num(result?.resumeAt);
            phase = 'waiting';
          } else if (str(result?.kind) === 'verdict') {
            const v = obj(result?.verdict);
            verdict = { status: str(v?.status) ?? 'error', reasons: strings(v?.reasons) };
            verdictChecks = Array.isArray(v?.checks) ? v.checks.map((c) => obj(c) ?? {}) : [];
            phase = 'delivering';
          }
        } else if (name === 'deliver') {
          const decision = str(result?.decision);
          const delivery = str(result?.delivery);
          if (str(result?.kind) === 'closed') {
            phase = 'closed';
            problem = str(result?.reason);
          }
          if (verdict)
            verdict = {
              ...verdict,
              ...(decision !== undefined ? { decision } : {}),
              ...(delivery !== undefined ? { delivery } : {}),
            };
        }
        break;
      }
      case 'StepFailed':
        // A step that fails is retried; the next StepStarted or the execution's end says what came of it.
        problem = e.payload;
        break;
      case 'WaitStarted':
        if (name.startsWith('wait-')) phase = 'waiting';
        if (name.startsWith('watch-')) phase = 'watching';
        // The round's own resumeAt (checkpointed) says when; the wait's scheduled end is the same instant.
        nextAt ??= e.scheduledEndAt;
        break;
      case 'ExecutionSucceeded': {
        const outcome = parse(e.payload);
        const result = str(outcome?.result);
        if (result === 'decided') {
          phase = 'decided';
          const analysis = str(outcome?.analysis);
          const decision = str(outcome?.decision);
          const delivery = str(outcome?.delivery);
          verdict = {
            status: analysis ?? verdict?.status ?? 'error',
            reasons: verdict?.reasons ?? strings(outcome?.reasons),
            ...(decision !== undefined ? { decision } : {}),
            ...(delivery !== undefined ? { delivery } : {}),
          };
        } else if (result === 'closed' || result === 'ignored') {
          phase = 'closed';
          problem = strings(outcome?.reasons).join('; ') || problem;
        }
        nextAt = undefined;
        break;
      }
      case 'ExecutionFailed':
      case 'ExecutionTimedOut':
      case 'ExecutionStopped':
        phase = 'failed';
        problem = `${e.type.replace('Execution', 'execution ').toLowerCase()}${e.payload ? `: ${e.payload}` : ''}`;
        nextAt = undefined;
        break;
      default:
        break;
    }
  }
  if (phase === 'delivering' && verdict?.decision !== undefined && execution.status === 'SUCCEEDED') phase = 'decided';
  if (execution.status !== 'RUNNING' && execution.status !== 'SUCCEEDED' && phase !== 'failed') {
    phase = 'failed';
    problem ??= `execution ${execution.status.toLowerCase()}`;
  }

  const checks = checkViews(planned, state, verdictChecks);
  return {
    execution,
    ...(start.trigger !== undefined ? { trigger: start.trigger } : {}),
    ...(start.deploymentId !== undefined ? { deploymentId: start.deploymentId } : {}),
    ...(start.hookExecutionId !== undefined ? { hookExecutionId: start.hookExecutionId } : {}),
    ...(hook !== undefined ? { hook } : {}),
    ...(group !== undefined ? { group } : {}),
    ...(planKey !== undefined ? { planKey } : {}),
    phase,
    rounds,
    ...(nextAt !== undefined && (phase === 'waiting' || phase === 'watching') ? { nextAt } : {}),
    ...(deadline !== undefined ? { deadline } : {}),
    checks,
    ...(verdict !== undefined ? { verdict } : {}),
    ...(problem !== undefined && (phase === 'failed' || phase === 'closed') ? { problem } : {}),
  };
}

/**
 * The numbers (1-based, of the check's `taken`) of its most recent measurements, oldest first, given which of
 * them were retaken (throttled, not counted): numbered from the newest back, a retaken measurement is an
 * attempt at the measurement after the one before it and takes no number of its own.
 */
export function measurementIndexes(taken: number, retaken: readonly boolean[]): number[] {
  let n = taken;
  const out: number[] = [];
  for (let i = retaken.length - 1; i >= 0; i--) out.unshift(retaken[i] ? n + 1 : n--);
  return out;
}

/** Each planned check with its counters: from the verdict when there is one, else from the last suspended round. */
function checkViews(
  planned: ReadonlyMap<string, Planned>,
  state: Json | undefined,
  verdictChecks: readonly Json[] | undefined,
): CheckView[] {
  const stateChecks = obj(state?.checks) ?? {};
  const fromVerdict = new Map((verdictChecks ?? []).map((c) => [str(c.name) ?? '', c] as const));
  const names = [...new Set([...planned.keys(), ...Object.keys(stateChecks), ...fromVerdict.keys()])].filter(Boolean);
  return names.map((name) => {
    const plan = planned.get(name);
    const v = fromVerdict.get(name);
    const s = obj(stateChecks[name]);
    const counters = obj(v?.counters) ?? s ?? {};
    const taken = num(counters.taken) ?? 0;
    const passes = num(counters.passes) ?? 0;
    const failures = num(counters.failures) ?? 0;
    const errors = num(counters.errors) ?? 0;
    const inconclusives = num(counters.inconclusives) ?? 0;
    const rawStatus = str(v?.status) ?? str(s?.status) ?? 'running';
    // A check still running when the verdict came was stopped by it (fail fast or the deadline).
    const status = verdictChecks !== undefined && rawStatus === 'running' ? 'stopped' : rawStatus;
    const count = plan?.count;
    const recentRaw = Array.isArray(v?.recent) ? v.recent : Array.isArray(s?.recent) ? s.recent : [];
    const indexes = measurementIndexes(
      taken,
      recentRaw.map((m) => obj(m)?.retaken === true),
    );
    const recent = recentRaw.map((m, i): MeasurementView => {
      const r = obj(m) ?? {};
      const durationMs = num(r.durationMs);
      return {
        outcome: str(r.outcome) ?? 'error',
        message: str(r.message) ?? '',
        at: num(r.startedAt) ?? 0,
        ...(durationMs !== undefined ? { durationMs } : {}),
        index: indexes[i] ?? 0,
      };
    });
    return {
      name,
      kind: str(v?.kind) ?? plan?.kind ?? '',
      status,
      dryRun: v?.dryRun === true || plan?.dryRun === true,
      ...(count !== undefined ? { count } : {}),
      taken,
      passes,
      failures,
      errors,
      inconclusives,
      ...(count !== undefined && status === 'running'
        ? { left: Math.max(0, count - passes - failures - inconclusives) }
        : {}),
      reason: str(v?.reason) ?? str(s?.reason) ?? '',
      recent,
    };
  });
}
