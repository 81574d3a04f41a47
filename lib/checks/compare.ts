import { isIP } from 'node:net';
import type { Measure, MeasureAt, Observation } from '../core/types.ts';
import { join } from '../spec/fields.ts';
import { type ProductionTraffic, productionTrafficAt } from '../spec/hooks.ts';
import { needsBody } from './body-expect.ts';
import { type Egress, originKey } from './egress.ts';
import { type HttpSpec, httpCheck } from './http.ts';
import { type JudgeSettings, readJudge, type SideSample, sequentialJudge } from './judge.ts';
import type { CheckKind } from './kind.ts';
import { short, textOr } from './observations.ts';

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
  /** Set by `prepare` from the deployment: what blue can be at this hook (see `baselineProblem`). */
  readonly at?: BaselineFacts;
}

/** The facts `prepare` takes from the deployment context for the blue-baseline rule. */
export interface BaselineFacts {
  readonly hook: string;
  readonly productionTraffic: ProductionTraffic;
  /** The listener placeholder `blue` names, when it names one. */
  readonly blueListener?: 'production listener' | 'test listener';
}

const httpFields = ['method', 'headers', 'body', 'expect', 'followRedirects', 'maxBodyBytes', 'tls'] as const;

export const compareCheck: CheckKind<CompareSpec> = {
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

  // The hook decides whether the production listener can still be blue; a plan's explicit blue is checked
  // against the deployment's listeners once filled (`create`).
  prepare(spec, context) {
    const blueListener = blueListenerIn(spec.blue);
    const at: BaselineFacts = {
      hook: context.hook ?? '(no hook)',
      productionTraffic: productionTrafficAt(context.hook),
      ...(blueListener ? { blueListener } : {}),
    };
    return { ...spec, at };
  },

  // What `baselineProblem` refuses at run time, said at validation when the plan maps it to the hook by name.
  hookProblem(spec, hook) {
    const listener = blueListenerIn(spec.blue);
    if (listener === 'test listener') {
      return 'its blue is {{testListenerUrl}}, which carries green: give blue a URL that serves only blue';
    }
    const traffic = productionTrafficAt(hook);
    if (listener === 'production listener' && traffic !== 'blue' && traffic !== 'unknown') {
      return `its blue is the production listener ({{prodListenerUrl}}${spec.blue === '{{prodListenerUrl}}' ? ', the default' : ''}), but production traffic already reaches green at ${hook}: give blue a URL outside the deployment's listeners that serves only blue, or compare at a hook before traffic moves`;
    }
    return undefined;
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
    // Measuring green against green is no comparison: an error measurement, never a pass, every time.
    const refused = baselineProblem(spec, deps.egress);
    if (refused !== undefined) return async () => ({ outcome: 'error', message: refused });
    // The judge keeps the evidence of every measurement of this check, so each look tests at its own level.
    const judged = spec.judge ? sequentialJudge(spec.judge) : undefined;
    return (signal, at) => compareSides(blue, green, spec, signal, judged, at);
  },
};

/** The listener a `blue` template names by placeholder (the test listener first: it is never blue). */
function blueListenerIn(blue: string): BaselineFacts['blueListener'] {
  const names = [...blue.matchAll(/\{\{\s*(prodListenerUrl|testListenerUrl)\s*\}\}/g)].map((m) => m[1]);
  if (names.includes('testListenerUrl')) return 'test listener';
  return names.includes('prodListenerUrl') ? 'production listener' : undefined;
}

/**
 * Why blue cannot serve as the baseline at this hook, or undefined when it can. The rule:
 * - blue and green on one origin measure one side twice: refused at every hook;
 * - blue on the test listener measures green (the test listener carries green): refused at every hook;
 * - blue on the production listener (by `{{prodListenerUrl}}`, the default, or a URL with its origin) is
 *   blue only while production serves only blue: before traffic moves (`productionTrafficAt`). At
 *   AfterAllowTraffic, the termination wait, PRODUCTION_TRAFFIC_SHIFT (production carries both) and
 *   POST_PRODUCTION_TRAFFIC_SHIFT, and at any hook greenlight cannot place, it is refused;
 * - any other blue is the plan's own statement that it serves only blue (a stable environment, another
 *   load balancer), accepted at every hook.
 * A listener is known by its placeholder in `blue`, or by the origin of a listener URL the deployment
 * context holds (`egress.listeners`, from `{{testListenerUrl}}`/`{{prodListenerUrl}}`). Only the
 * listeners a plan uses are resolved, so blue on another port of a listener's host (the load balancer's
 * DNS name: CodeDeploy and ECS put the test and production listeners on one load balancer) is taken to
 * be the production listener too. An IP-literal host says nothing about the listener (ELBv2 gives DNS
 * names; loopback tests and `greenlight check --var` give addresses), so for it only the origin counts.
 */
export function baselineProblem(
  spec: Pick<CompareSpec, 'blue' | 'green' | 'path' | 'at'>,
  egress: Pick<Egress, 'listeners' | 'deploymentHosts'> | undefined,
): string | undefined {
  const at = spec.at ?? { hook: '(no hook)', productionTraffic: 'unknown' as const };
  let blueOrigin: string;
  let greenOrigin: string;
  try {
    blueOrigin = originKey(new URL(spec.blue + spec.path));
    greenOrigin = originKey(new URL(spec.green + spec.path));
  } catch {
    return undefined; // Not URLs: the http kind has already refused them.
  }
  if (blueOrigin === greenOrigin) {
    return `no blue baseline: blue and green are one origin (${blueOrigin}), so compare would measure one side against itself`;
  }
  const blueHost = blueOrigin.slice(blueOrigin.indexOf('://') + 3, blueOrigin.lastIndexOf(':'));
  const onListenerHost = isIP(blueHost) === 0 && egress?.deploymentHosts.has(blueHost) === true;
  const listener =
    at.blueListener ??
    egress?.listeners?.get(blueOrigin) ??
    (onListenerHost ? "production listener (another port of the deployment's load balancer)" : undefined);
  if (listener === undefined) return undefined;
  if (listener === 'test listener') {
    return `no blue baseline at ${at.hook}: blue is the test listener, which carries green; give compare.blue a URL that serves only blue`;
  }
  if (at.productionTraffic === 'blue') return undefined;
  const why = {
    green: 'production traffic already reaches green',
    shifting: 'production traffic already reaches green (blue and green share it while it shifts)',
    unknown: 'greenlight cannot tell at this hook whether production traffic reaches only blue',
  }[at.productionTraffic];
  return `no blue baseline at ${at.hook}: ${why}, so the ${listener} is not blue; give compare.blue a URL outside the deployment's listeners that serves only blue, or compare before traffic moves`;
}

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
  at?: MeasureAt,
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
  // Green with no passing probe gave no evidence that it works, however badly blue did too: never a pass,
  // neither on "no significant difference" nor within an error-rate margin.
  const greenPassedNone = g.errors === g.n;
  const passedNone = `green passed none of its ${g.n} probes (${short(g.firstProblem ?? 'no response', 320)})`;
  if (judged) {
    const { judgement, message } = judged(sideSample(greenSamples), sideSample(blueSamples), at?.index);
    const shift = judgement.latency ? round(judgement.latency.shift) : null;
    if (greenPassedNone && judgement.outcome !== 'fail') {
      return { outcome: 'fail', message: `${passedNone}; judge: ${message}`, value: shift };
    }
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
      message: `green p95 latency ${Math.round(g.p95)} ms is more than ${spec.maxLatencyRatio}x blue's ${Math.round(b.p95)} ms (and ${Math.round(g.p95 - b.p95)} ms more, allowed ${spec.minLatencyIncreaseMs} ms): ${numbers}`,
      value: round(rateIncrease),
    };
  }
  if (greenPassedNone) return { outcome: 'fail', message: `${passedNone}; ${numbers}`, value: round(rateIncrease) };
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
  // Microseconds, not whole ms: rounding to ms made fast sides tie, and a sample of ties tells the judge nothing.
  const latencyMs = round(performance.now() - started);
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
  return `${s.errors}/${s.n} errors (${pct(s.rate)}), p95 ${s.p95 === undefined ? 'n/a' : `${Math.round(s.p95)} ms`}`;
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
