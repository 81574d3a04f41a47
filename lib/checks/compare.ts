import type { Measure, Observation } from '../core/types.ts';
import { join } from '../plan/fields.ts';
import { short, textOr } from './aws-support.ts';
import { needsBody } from './body-expect.ts';
import { type HttpSpec, httpCheck } from './http.ts';
import { type JudgeSettings, readJudge, type SideSample, sequentialJudge } from './judge.ts';
import type { CheckKind } from './kind.ts';

/** The http check's probe fields at the top level, as the plan writes them, plus the comparison's own. */
export interface CompareSpec extends Omit<HttpSpec, 'url'> {
  /** Base URL of blue, the production listener: `{{prodListenerUrl}}` by default. */
  readonly blue: string;
  /** Base URL of green, the test listener: `{{testListenerUrl}}` by default. */
  readonly green: string;
  /** Appended to both base URLs, such as `/health`. */
  readonly path: string;
  /** Probes of each side per measurement, taken in pairs at the same moment. */
  readonly samples: number;
  /** Green fails when its error rate exceeds blue's by more than this (0.05 = 5 percentage points). */
  readonly maxErrorRateIncrease: number;
  /** Green fails when its p95 latency exceeds blue's times this factor... */
  readonly maxLatencyRatio: number;
  /** ...and by more than this many milliseconds, so that 2 ms against 1 ms is not a regression. */
  readonly minLatencyIncreaseMs: number;
  /** Each probe's own time limit. */
  readonly probeTimeoutMs: number;
  /** When set, the statistical judge decides instead of the margins above (lib/checks/judge.ts). */
  readonly judge?: JudgeSettings;
}

const httpFields = ['method', 'headers', 'body', 'expect', 'followRedirects', 'maxBodyBytes', 'tls'] as const;

export const compareCheck: CheckKind<CompareSpec> = {
  fields: [
    'blue',
    'green',
    'path',
    ...httpFields,
    'samples',
    'maxErrorRateIncrease',
    'maxLatencyRatio',
    'minLatencyIncrease',
    'probeTimeout',
    'judge',
  ],

  parse(raw, path, f) {
    const blue = textOr(raw, 'blue', path, f, '{{prodListenerUrl}}');
    const green = textOr(raw, 'green', path, f, '{{testListenerUrl}}');
    const urlPath = raw.path === undefined ? '' : f.string(raw.path, join(path, 'path'), { min: 0, max: 2048 });
    if (urlPath && !urlPath.startsWith('/')) f.problem(join(path, 'path'), 'must start with /');
    // The http kind reads the probe fields; its url is set per side once placeholders are filled.
    const http = httpCheck.parse({ ...pick(raw, httpFields), url: 'http://compare.invalid/' }, path, f);
    const samples = raw.samples === undefined ? 10 : f.integer(raw.samples, join(path, 'samples'), 1, 200);
    const maxErrorRateIncrease =
      raw.maxErrorRateIncrease === undefined
        ? 0.05
        : f.number(raw.maxErrorRateIncrease, join(path, 'maxErrorRateIncrease'), 0, 1);
    const maxLatencyRatio =
      raw.maxLatencyRatio === undefined ? 1.5 : f.number(raw.maxLatencyRatio, join(path, 'maxLatencyRatio'), 1, 1000);
    const minLatencyIncreaseMs =
      raw.minLatencyIncrease === undefined
        ? 25
        : f.duration(raw.minLatencyIncrease, join(path, 'minLatencyIncrease'), 600_000);
    const probeTimeoutMs =
      raw.probeTimeout === undefined ? 2_000 : f.duration(raw.probeTimeout, join(path, 'probeTimeout'), 600_000);
    if (probeTimeoutMs === 0) f.problem(join(path, 'probeTimeout'), 'must be more than 0');
    const judge = raw.judge === undefined ? undefined : readJudge(raw.judge, join(path, 'judge'), f);
    if (raw.judge !== undefined && !judge) return undefined;
    if (
      blue === undefined ||
      green === undefined ||
      urlPath === undefined ||
      !http ||
      samples === undefined ||
      maxErrorRateIncrease === undefined ||
      maxLatencyRatio === undefined ||
      minLatencyIncreaseMs === undefined ||
      !probeTimeoutMs
    ) {
      return undefined;
    }
    const { url: _unused, ...probe } = http;
    return {
      ...probe,
      blue,
      green,
      path: urlPath,
      samples,
      maxErrorRateIncrease,
      maxLatencyRatio,
      minLatencyIncreaseMs,
      probeTimeoutMs,
      ...(judge ? { judge } : {}),
    };
  },

  // Each pair probes blue and green at the same moment: two bodies at once.
  bufferedBodyBytes(spec) {
    return needsBody(spec.expect) ? 2 * spec.maxBodyBytes : 0;
  },

  // Both sides are http probes: each stays on its own listener (a redirect from one listener to the
  // other is refused by the http kind's guard) and takes its bodies from the invocation's budget.
  create(spec, deps, path) {
    const probe: Omit<HttpSpec, 'url'> = {
      method: spec.method,
      headers: spec.headers,
      expect: spec.expect,
      followRedirects: spec.followRedirects,
      maxBodyBytes: spec.maxBodyBytes,
      ...(spec.body === undefined ? {} : { body: spec.body }),
      ...(spec.secretHeaders === undefined ? {} : { secretHeaders: spec.secretHeaders }),
      ...(spec.secretBody === undefined ? {} : { secretBody: spec.secretBody }),
      // One tls block for both sides: blue and green are listeners of one load balancer, one certificate.
      ...(spec.tls === undefined ? {} : { tls: spec.tls }),
    };
    // The http kind validates each filled URL and names the field when one is not a URL.
    const blue = httpCheck.create({ ...probe, url: spec.blue + spec.path }, deps, join(path, 'blue'));
    const green = httpCheck.create({ ...probe, url: spec.green + spec.path }, deps, join(path, 'green'));
    // The judge keeps the evidence of every measurement of this check, so each look tests at its own level.
    const judged = spec.judge ? sequentialJudge(spec.judge) : undefined;
    return (signal) => compareSides(blue, green, spec, signal, judged);
  },
};

interface Sample {
  readonly outcome: Observation['outcome'];
  readonly message: string;
  readonly latencyMs: number;
}

interface SideStats {
  readonly n: number;
  readonly errors: number;
  /** Probes that got no response at all (`error` outcome). */
  readonly unreachable: number;
  readonly rate: number;
  /** Of the probes that got a response; undefined when none did. */
  readonly p95?: number;
  readonly firstProblem?: string;
}

async function compareSides(
  blue: Measure,
  green: Measure,
  spec: CompareSpec,
  signal: AbortSignal,
  judged?: ReturnType<typeof sequentialJudge>,
): Promise<Observation> {
  const blueSamples: Sample[] = [];
  const greenSamples: Sample[] = [];
  for (let i = 0; i < spec.samples && !signal.aborted; i++) {
    // Each pair in the same moment, so both sides see the same backend conditions.
    const [b, g] = await Promise.all([
      timed(blue, spec.probeTimeoutMs, signal),
      timed(green, spec.probeTimeoutMs, signal),
    ]);
    blueSamples.push(b);
    greenSamples.push(g);
  }
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    const why = reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'aborted';
    return {
      outcome: 'error',
      message: `compare stopped after ${blueSamples.length} of ${spec.samples} pairs: ${why}`,
    };
  }
  const b = stats(blueSamples);
  const g = stats(greenSamples);
  const numbers = `green ${describeSide(g)}; blue ${describeSide(b)}`;
  // Without one good blue answer there is nothing to compare green with: never a pass on that.
  if (b.errors === b.n) {
    const how = b.unreachable === b.n ? 'answered none' : 'passed none';
    return {
      outcome: 'error',
      message: `no baseline: blue ${how} of ${b.n} probes (${short(b.firstProblem ?? 'no response', 320)}); ${numbers}`,
    };
  }
  if (judged) {
    const { judgement, message } = judged(sideSample(greenSamples), sideSample(blueSamples));
    const shift = judgement.latency ? round(judgement.latency.shift) : null;
    return { outcome: judgement.outcome, message, value: shift };
  }
  const rateIncrease = g.rate - b.rate;
  if (rateIncrease > spec.maxErrorRateIncrease + 1e-9) {
    return {
      outcome: 'fail',
      message: `green error rate exceeds blue's by ${pct(rateIncrease)} (allowed ${pct(spec.maxErrorRateIncrease)}): ${numbers}; first green problem: ${short(g.firstProblem ?? '', 320)}`,
      value: round(rateIncrease),
    };
  }
  if (g.p95 === undefined) {
    return { outcome: 'fail', message: `green answered none of ${g.n} probes: ${numbers}`, value: round(rateIncrease) };
  }
  if (b.p95 !== undefined && g.p95 > b.p95 * spec.maxLatencyRatio && g.p95 - b.p95 > spec.minLatencyIncreaseMs) {
    return {
      outcome: 'fail',
      message: `green p95 latency ${g.p95} ms is more than ${spec.maxLatencyRatio}x blue's ${b.p95} ms (and ${g.p95 - b.p95} ms more, allowed ${spec.minLatencyIncreaseMs} ms): ${numbers}`,
      value: round(rateIncrease),
    };
  }
  return { outcome: 'pass', message: `green within margins of blue: ${numbers}`, value: round(rateIncrease) };
}

async function timed(measure: Measure, timeoutMs: number, signal: AbortSignal): Promise<Sample> {
  const started = performance.now();
  const local = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  let o: Observation;
  try {
    o = await measure(local);
  } catch (error) {
    o = { outcome: 'error', message: (error as Error)?.message ?? String(error) };
  }
  const latencyMs = Math.round(performance.now() - started);
  if (local.aborted && !signal.aborted && o.outcome === 'error') {
    return { outcome: 'error', message: `no answer within probeTimeout ${timeoutMs} ms`, latencyMs };
  }
  return { outcome: o.outcome, message: o.message, latencyMs };
}

/** The judge's view of one side: latencies of the probes that got an answer, and the probes that did not pass. */
function sideSample(samples: readonly Sample[]): SideSample {
  const latenciesMs = samples.filter((s) => s.outcome !== 'error').map((s) => s.latencyMs);
  return { latenciesMs, errors: samples.filter((s) => s.outcome !== 'pass').length, n: samples.length };
}

function stats(samples: readonly Sample[]): SideStats {
  const n = samples.length;
  const bad = samples.filter((s) => s.outcome !== 'pass');
  const unreachable = samples.filter((s) => s.outcome === 'error').length;
  const answered = samples.filter((s) => s.outcome !== 'error').map((s) => s.latencyMs);
  const p95 = percentile(answered, 0.95);
  const out: SideStats = { n, errors: bad.length, unreachable, rate: n === 0 ? 1 : bad.length / n };
  return {
    ...out,
    ...(p95 === undefined ? {} : { p95 }),
    ...(bad[0] ? { firstProblem: bad[0].message } : {}),
  };
}

/** Nearest-rank percentile: with 10 samples, p95 is the largest. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1];
}

function describeSide(s: SideStats): string {
  return `${s.errors}/${s.n} errors (${pct(s.rate)}), p95 ${s.p95 === undefined ? 'n/a' : `${s.p95} ms`}`;
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function pick(raw: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => raw[k] !== undefined).map((k) => [k, raw[k]]));
}
