import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { StateKeyError, type StateKeyPort } from '../aws/state-key.ts';
import { assess, maxAttempts } from '../core/policy.ts';
import type { AnalysisState, CheckPolicy, CheckState, Measurement, Outcome } from '../core/types.ts';
import type { PlanCheck } from '../plan/schema.ts';
import { carriedAnalysisMs } from '../plan/trigger-limits.ts';
import { StateError } from './errors.ts';
import { clockSkewMs, scheduleMs } from './schedule.ts';

export { clockSkewMs, scheduleMs };

/**
 * An analysis carried between invocations: in an ECS hook's `hookDetails` (IN_PROGRESS) or in the
 * payload a PAUSE gate sends to its next invocation. It comes back through hands we do not control,
 * so everything read back is checked: shape, sizes, numbers, counters that agree with the plan's
 * policy, the plan's fingerprint, the deployment it belongs to and the absolute deadline.
 *
 * Everything carried is authenticated with an HMAC-SHA256 under the state key, a secret only the
 * functions can read (see `StateKeyPort`): whoever can invoke a function, or edit a service's hook
 * configuration, can send state but cannot make state that verifies. A plain digest would not do:
 * anyone can recompute it. MACs are compared in constant time.
 */

/** The state as JSON may not exceed this; recent measurements are dropped first to fit. */
export const maxStateBytes = 16 * 1024;
/** Recent measurements carried per check: enough for a reason, small enough for hookDetails. */
export const stateRecentLimit = 2;
/** No analysis may run longer than this, from its first invocation. */
export const maxAnalysisMs = carriedAnalysisMs;
const maxMessageChars = 200;
const maxLegs = 5_000;
const stateVersion = 2;
/** Hex characters of the MAC kept: the full HMAC-SHA256. */
const macChars = 64;

export { StateError };

export interface CarriedState {
  readonly analysis: AnalysisState;
  /** Epoch ms past which the analysis fails instead of going on. */
  readonly deadline: number;
  /** Invocations so far, this one excluded. */
  readonly legs: number;
}

export interface StateBinding {
  /** From `planFingerprint`: state from another plan, stage or check set is refused. */
  readonly fingerprint: string;
  /** What the state belongs to (a service deployment and its stage or hook); state from elsewhere is refused. */
  readonly bind: string;
}

/** A short, stable hash of what decides the analysis: the stage and the selected checks with their policies. */
export function planFingerprint(checks: readonly PlanCheck[], stage: string): string {
  return sha256(canonicalJson({ stage, checks: checks.map((c) => ({ ...c })) })).slice(0, 24);
}

/**
 * Time the plan's deadline leaves beyond its schedule for measurements AWS throttles, which are taken again
 * rather than counted (`AnalyzeOptions.deadlineAt`): a fleet of 200 deployments starting together stretches
 * one-minute bakes to about ten minutes at AWS's published ECS limits (`npm run bench`, fleet section).
 */
export const throttleAllowanceMs = 15 * 60_000;

/** The longest an ECS lifecycle hook's analysis may run (its hook's limit): the deadline never goes past it. */
export const maxPlanDeadlineMs = 24 * 3_600_000;

/**
 * The plan's own deadline, fixed at the first invocation: the schedule's length plus a margin for
 * the gaps between invocations (callback delays, cold starts) of one minute and a tenth of the schedule,
 * plus `throttleAllowanceMs` for throttled measurements taken again, within `maxPlanDeadlineMs` of the
 * start (never less than the schedule and its margin).
 */
export function planDeadline(
  checks: readonly PlanCheck[],
  startedAt: number,
): { deadline: number; scheduleMs: number } {
  const schedule = scheduleMs(checks);
  const margin = schedule + 60_000 + Math.ceil(schedule / 10);
  const length = Math.max(margin, Math.min(margin + throttleAllowanceMs, maxPlanDeadlineMs));
  return { deadline: startedAt + length, scheduleMs: schedule };
}

/**
 * The state as plain JSON with its MAC under `key`, trimmed to fit `maxStateBytes`. Throws a `StateError`
 * if it cannot fit.
 */
export function encodeState(state: CarriedState, binding: StateBinding, key: Uint8Array): Record<string, unknown> {
  for (const keep of [stateRecentLimit, 1, 0]) {
    const checks: Record<string, unknown> = {};
    for (const [name, s] of Object.entries(state.analysis.checks)) {
      checks[name] = {
        taken: s.taken,
        passes: s.passes,
        failures: s.failures,
        errors: s.errors,
        inconclusives: s.inconclusives,
        consecutivePasses: s.consecutivePasses,
        consecutiveErrors: s.consecutiveErrors,
        nextAt: Math.round(s.nextAt),
        recent: keep === 0 ? [] : s.recent.slice(-keep).map(compactMeasurement),
      };
    }
    const body = {
      v: stateVersion,
      plan: binding.fingerprint,
      bind: binding.bind,
      startedAt: Math.round(state.analysis.startedAt),
      deadline: Math.round(state.deadline),
      legs: state.legs,
      checks,
    };
    const encoded = { ...body, mac: mac(key, 'state', body) };
    if (Buffer.byteLength(JSON.stringify(encoded)) <= maxStateBytes) return encoded;
  }
  throw new StateError(
    `the analysis state does not fit in ${maxStateBytes} bytes even without recent measurements: use fewer checks`,
  );
}

function compactMeasurement(m: Measurement): Record<string, unknown> {
  const out: Record<string, unknown> = {
    outcome: m.outcome,
    message: m.message.length > maxMessageChars ? `${m.message.slice(0, maxMessageChars - 1)}…` : m.message,
    startedAt: Math.round(m.startedAt),
    durationMs: Math.max(0, Math.round(m.durationMs)),
  };
  if (m.value !== undefined) {
    out.value = typeof m.value === 'string' && m.value.length > 100 ? m.value.slice(0, 100) : m.value;
  }
  return out;
}

const topKeys = ['v', 'plan', 'bind', 'startedAt', 'deadline', 'legs', 'checks', 'mac'];
const checkKeys = [
  'taken',
  'passes',
  'failures',
  'errors',
  'inconclusives',
  'consecutivePasses',
  'consecutiveErrors',
  'nextAt',
  'recent',
];
const outcomes: readonly Outcome[] = ['pass', 'fail', 'inconclusive', 'error'];

/**
 * Reads carried state back for `checks`, or throws a `StateError` saying what is wrong with it: a MAC
 * that does not verify under `key`, another plan, stage or deployment, a start in the future, a deadline
 * passed, counters that do not fit the policy. Check statuses and reasons are not carried: they are
 * recomputed from the counters and the plan's policy.
 */
export function decodeState(
  raw: unknown,
  expected: StateBinding & { readonly checks: readonly PlanCheck[] },
  now: number,
  key: Uint8Array,
): CarriedState {
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(raw) ?? '');
  } catch (error) {
    throw new StateError('state is not JSON', { cause: error });
  }
  if (size > maxStateBytes) throw new StateError(`state is larger than ${maxStateBytes} bytes (${size})`);
  const top = record(raw, 'state');
  if (top.v !== stateVersion) throw new StateError(`state.v: expected ${stateVersion}`);
  exactKeys(top, topKeys, 'state');
  const { mac: given, ...body } = top;
  verifyMac(key, 'state', body, given, 'state.mac');
  if (top.plan !== expected.fingerprint) {
    throw new StateError('state.plan: the state belongs to another plan or stage (the plan changed mid-analysis?)');
  }
  if (top.bind !== expected.bind) throw new StateError('state.bind: the state belongs to another deployment');
  const startedAt = int(top.startedAt, 'state.startedAt', now - maxAnalysisMs - 3_600_000, now + clockSkewMs);
  const deadline = int(top.deadline, 'state.deadline', startedAt, startedAt + maxAnalysisMs + 3_600_000);
  if (deadline <= now) {
    throw new StateError(`the analysis deadline passed ${Math.round((now - deadline) / 1000)} s ago`);
  }
  const legs = int(top.legs, 'state.legs', 1, maxLegs);

  const rawChecks = record(top.checks, 'state.checks');
  const names = expected.checks.map((c) => c.name);
  exactKeys(rawChecks, names, 'state.checks', true);
  const checks: Record<string, CheckState> = {};
  for (const check of expected.checks) {
    checks[check.name] = readCheckState(rawChecks[check.name], `state.checks.${check.name}`, check.policy, {
      startedAt,
      deadline,
    });
  }
  return { analysis: { startedAt, checks }, deadline, legs };
}

function readCheckState(
  value: unknown,
  path: string,
  policy: CheckPolicy,
  window: { startedAt: number; deadline: number },
): CheckState {
  const r = record(value, path);
  exactKeys(r, checkKeys, path);
  const n = (key: string, max: number): number => int(r[key], `${path}.${key}`, 0, max);
  // Errors are retried, not counted toward count: a check may take up to maxAttempts measurements.
  const most = maxAttempts(policy);
  const counters = {
    taken: n('taken', most),
    passes: n('passes', policy.count),
    failures: n('failures', policy.count),
    errors: n('errors', most),
    inconclusives: n('inconclusives', policy.count),
    consecutivePasses: n('consecutivePasses', policy.count),
    consecutiveErrors: n('consecutiveErrors', most),
  };
  if (counters.passes + counters.failures + counters.errors + counters.inconclusives !== counters.taken) {
    throw new StateError(`${path}: counters do not add up to taken`);
  }
  if (counters.consecutivePasses > counters.passes || counters.consecutiveErrors > counters.errors) {
    throw new StateError(`${path}: consecutive counters exceed their totals`);
  }
  if (counters.consecutivePasses > 0 && counters.consecutiveErrors > 0) {
    throw new StateError(`${path}: cannot have both consecutive passes and consecutive errors`);
  }
  const nextAt = int(r.nextAt, `${path}.nextAt`, window.startedAt, window.deadline + policy.intervalMs + 3_600_000);
  const list = r.recent;
  if (!Array.isArray(list) || list.length > stateRecentLimit) {
    throw new StateError(`${path}.recent: expected a list of at most ${stateRecentLimit} measurements`);
  }
  // Not bounded by `taken`: a throttled measurement taken again is kept in `recent` but not counted. The recent
  // measurements only word the reasons; statuses come from the counters.
  const recent = list.map((m, i) => readMeasurement(m, `${path}.recent[${i}]`, window));
  const assessment = assess(counters, policy);
  return { ...counters, status: assessment.status, reason: assessment.reason, nextAt, recent };
}

function readMeasurement(value: unknown, path: string, window: { startedAt: number; deadline: number }): Measurement {
  const r = record(value, path);
  exactKeys(r, ['outcome', 'message', 'startedAt', 'durationMs', 'value'], path, false, ['value']);
  if (!outcomes.includes(r.outcome as Outcome)) throw new StateError(`${path}.outcome: expected one of ${outcomes}`);
  if (typeof r.message !== 'string' || r.message.length > maxMessageChars) {
    throw new StateError(`${path}.message: expected a string of at most ${maxMessageChars} characters`);
  }
  const startedAt = int(r.startedAt, `${path}.startedAt`, window.startedAt, window.deadline);
  const durationMs = int(r.durationMs, `${path}.durationMs`, 0, 3_600_000);
  const m = { outcome: r.outcome as Outcome, message: r.message, startedAt, durationMs };
  if (r.value === undefined) return m;
  const v = r.value;
  const ok =
    v === null ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v)) ||
    (typeof v === 'string' && v.length <= 100);
  if (!ok) throw new StateError(`${path}.value: expected a short string, a number, a boolean or null`);
  return { ...m, value: v as string | number | boolean | null };
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new StateError(`${path}: expected an object`);
  }
  return value as Record<string, unknown>;
}

function exactKeys(
  r: Record<string, unknown>,
  keys: readonly string[],
  path: string,
  names = false,
  optional: readonly string[] = [],
): void {
  for (const key of Object.keys(r)) {
    if (!keys.includes(key)) throw new StateError(`${path}: unexpected ${names ? 'check' : 'field'} ${key}`);
  }
  for (const key of keys) {
    if (!Object.hasOwn(r, key) && !optional.includes(key)) {
      throw new StateError(`${path}: missing ${names ? 'check' : 'field'} ${key}`);
    }
  }
}

function int(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new StateError(`${path}: expected an integer within bounds`);
  }
  return value;
}

/** JSON with object keys sorted, so a digest survives a round trip that reorders keys. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The state key, or a `StateError` naming why it cannot be had (the setting, never the value): a state
 * that cannot be authenticated is a failed verdict.
 */
export async function readStateKey(port: StateKeyPort, signal?: AbortSignal): Promise<Uint8Array> {
  try {
    return await port(signal);
  } catch (error) {
    const message =
      error instanceof StateKeyError
        ? error.message
        : `cannot read the state key: ${(error as Error)?.name ?? 'Error'}`;
    throw new StateError(message, { cause: error });
  }
}

/** The state key for one invocation: read at most once; `prefetch` starts the read alongside the checks. */
export interface StateKeyOnce {
  /** Starts reading the key now, when the invocation will probably write state: the read then costs no report time. */
  prefetch(): void;
  /** The key, or a `StateError` saying why it cannot be had. */
  get(): Promise<Uint8Array>;
}

/** `signal` is made when the read starts: it bounds the read (to the invocation's report deadline, say). */
export function stateKeyOnce(port: StateKeyPort, signal: () => AbortSignal): StateKeyOnce {
  let pending: Promise<Uint8Array> | undefined;
  const start = (): Promise<Uint8Array> => {
    if (!pending) {
      pending = readStateKey(port, signal());
      // Held for whoever awaits it; a prefetch nobody awaits must not be an unhandled rejection.
      pending.catch(() => undefined);
    }
    return pending;
  };
  return { prefetch: () => void start(), get: start };
}

/** HMAC-SHA256 (RFC 2104) of `body` as canonical JSON, domain-separated by `purpose`, in hex. */
function mac(key: Uint8Array, purpose: string, body: unknown): string {
  return createHmac('sha256', key)
    .update(`greenlight/${purpose}/v${stateVersion}\n${canonicalJson(body)}`)
    .digest('hex');
}

function verifyMac(key: Uint8Array, purpose: string, body: unknown, given: unknown, path: string): void {
  if (typeof given !== 'string' || !/^[0-9a-f]+$/.test(given) || given.length !== macChars) {
    throw new StateError(`${path}: missing or malformed: the state is not authenticated`);
  }
  const expected = Buffer.from(mac(key, purpose, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) {
    throw new StateError(
      `${path} does not verify: the state was not written by greenlight with this key (forged or altered)`,
    );
  }
}

/**
 * `body` with `issuedAt` (epoch ms) and an HMAC-SHA256 `mac` under `key` over both, for a payload that
 * goes through hands greenlight does not control (a gate's asynchronous invocation of itself).
 * `purpose` separates kinds of payloads: a sealed payload of one kind never verifies as another.
 */
export function seal(
  body: Readonly<Record<string, unknown>>,
  key: Uint8Array,
  purpose: string,
  now: number,
): Record<string, unknown> {
  const stamped = { ...body, issuedAt: Math.round(now) };
  return { ...stamped, mac: mac(key, purpose, stamped) };
}

/**
 * Verifies a payload `seal` wrote: its MAC under `key` for `purpose`, and that it was issued neither in
 * the future nor more than `maxAgeMs` ago. Returns it without `mac`; throws a `StateError` saying what is wrong.
 */
export function unseal(
  raw: unknown,
  key: Uint8Array,
  purpose: string,
  now: number,
  maxAgeMs: number,
): Record<string, unknown> {
  const top = record(raw, purpose);
  const { mac: given, ...body } = top;
  verifyMac(key, purpose, body, given, `${purpose}.mac`);
  const issuedAt = body.issuedAt;
  if (typeof issuedAt !== 'number' || !Number.isSafeInteger(issuedAt)) {
    throw new StateError(`${purpose}.issuedAt: expected epoch milliseconds`);
  }
  if (issuedAt > now + clockSkewMs) throw new StateError(`${purpose}.issuedAt is in the future`);
  if (issuedAt < now - maxAgeMs) {
    throw new StateError(`${purpose} expired: issued ${Math.round((now - issuedAt) / 1000)} s ago`);
  }
  return body;
}
