import { errorFunction, gammaln, medianSorted, probit, wilcoxonRankSum } from 'simple-statistics';
import { type Fields, join } from '../spec/fields.ts';

/**
 * The statistical judge of blue versus green. Pure: numbers in, a judgement out.
 *
 * - Latency: one-sided Mann-Whitney U test (Mann & Whitney 1947) that green's latencies are
 *   stochastically larger than blue's. Exact null distribution when both samples have at most
 *   `exactLimit` values and there are no ties; otherwise the normal approximation with the tie
 *   correction of the variance and a continuity correction (as R's `wilcox.test`).
 * - Effect size: the Hodges-Lehmann shift (median of all green-minus-blue differences) with its
 *   distribution-free confidence interval from the ordered differences (Moses 1953; Lehmann 1963;
 *   Hollander & Wolfe, Nonparametric Statistical Methods, ch. 4).
 * - Errors: one-sided Fisher exact test (Fisher 1935) that green's error proportion is larger.
 * - Repeated looks: the k-th judgement of a check tests at alpha_k = alpha * 6 / (pi^2 k^2), whose sum
 *   over all k is alpha (an alpha-spending / Bonferroni sequence), so the chance of any false fail over
 *   however many measurements stays at most alpha, whatever the dependence between looks. Within a
 *   look alpha_k is split evenly between the latency and the error test (Bonferroni).
 */

/** What the plan sets (`compare.judge`). */
export interface JudgeSettings {
  /** The false-fail rate allowed over all looks of the check (0.05). */
  readonly alpha: number;
  /** Green's shift must be at least this many milliseconds to matter... */
  readonly minLatencyShiftMs: number;
  /** ...and at least (ratio - 1) times blue's median latency. */
  readonly minLatencyRatio: number;
  /** Green's error proportion must exceed blue's by at least this much to matter (0.01 = 1 point). */
  readonly minErrorRateIncrease: number;
  /** Fewer latency samples than this on either side: the judge cannot tell. */
  readonly minSamples: number;
}

export const defaultJudge: JudgeSettings = {
  alpha: 0.05,
  minLatencyShiftMs: 25,
  minLatencyRatio: 1.2,
  minErrorRateIncrease: 0.01,
  minSamples: 8,
};

/** One side's evidence: latencies of probes that got an answer, and the count of bad probes. */
export interface SideSample {
  readonly latenciesMs: readonly number[];
  readonly errors: number;
  readonly n: number;
}

export interface MannWhitney {
  /** Green's U: pairs where green is slower, ties counting one half. */
  readonly u: number;
  /** One-sided p-value for "green is slower". */
  readonly p: number;
  readonly method: 'exact' | 'normal';
}

export interface ShiftEstimate {
  /** Hodges-Lehmann estimate of green minus blue. */
  readonly shift: number;
  readonly lower: number;
  readonly upper: number;
  /** The interval's confidence (0.95); exact intervals reach at least this. */
  readonly confidence: number;
}

export interface Judgement {
  readonly outcome: 'pass' | 'fail' | 'inconclusive';
  /** 1 for the first judgement of a check, then 2, 3, ... */
  readonly look: number;
  /** The level this look tests at, before the split between latency and errors. */
  readonly alphaLook: number;
  readonly latency?: MannWhitney & ShiftEstimate & { readonly greenMedian: number; readonly blueMedian: number };
  readonly errors: { readonly p: number; readonly greenRate: number; readonly blueRate: number };
  /** Why, in a few words (`green significantly and materially slower`). */
  readonly reason: string;
}

/** Up to this many values per side, without ties, U's exact null distribution is used. */
export const exactLimit = 30;

/** alpha_k = alpha * 6 / (pi^2 k^2): sums to alpha over k = 1, 2, ... */
export function lookAlpha(alpha: number, look: number): number {
  return (alpha * 6) / (Math.PI * Math.PI * look * look);
}

/** P(Z > z) for a standard normal Z. */
export function upperNormal(z: number): number {
  // The erfc approximation behind simple-statistics' errorFunction has a small relative error, so
  // computing the tail from it keeps small p-values meaningful.
  return 0.5 * (1 - errorFunction(z / Math.SQRT2));
}

/** Sizes of tie groups in the pooled sample. */
function tieSizes(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const out: number[] = [];
  let run = 1;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1]) run++;
    else {
      if (run > 1) out.push(run);
      run = 1;
    }
  }
  return out;
}

const distributions = new Map<string, Float64Array>();

/**
 * Null distribution of U for sample sizes m and n without ties: P(U = u) for u = 0..mn. From the
 * recurrence f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u) over counts, normalised by C(m+n, m).
 */
export function uDistribution(m: number, n: number): Float64Array {
  const key = `${m},${n}`;
  const cached = distributions.get(key);
  if (cached) return cached;
  // counts[i][j] for i <= m, j <= n, built row by row.
  let previous: Float64Array[] = [];
  for (let i = 0; i <= m; i++) {
    const row: Float64Array[] = [];
    for (let j = 0; j <= n; j++) {
      const f = new Float64Array(i * j + 1);
      if (i === 0 || j === 0) f[0] = 1;
      else {
        const a = previous[j] as Float64Array; // (i-1, j)
        const b = row[j - 1] as Float64Array; // (i, j-1)
        for (let u = 0; u < f.length; u++)
          f[u] = (u >= j && u - j < a.length ? (a[u - j] as number) : 0) + (u < b.length ? (b[u] as number) : 0);
      }
      row.push(f);
    }
    previous = row;
  }
  const counts = previous[n] as Float64Array;
  const total = counts.reduce((s, x) => s + x, 0);
  const p = counts.map((x) => x / total);
  distributions.set(key, p);
  return p;
}

/** True when U's exact null distribution applies to these samples. */
function exactApplies(green: readonly number[], blue: readonly number[]): boolean {
  return green.length <= exactLimit && blue.length <= exactLimit && tieSizes([...green, ...blue]).length === 0;
}

/** The one-sided p-value P(U >= u) for green's U. */
function uUpperP(u: number, n1: number, n2: number, ties: readonly number[], exact: boolean): number {
  if (exact) {
    const dist = uDistribution(n1, n2);
    let p = 0;
    for (let x = Math.ceil(u); x < dist.length; x++) p += dist[x] as number;
    return Math.min(1, p);
  }
  const N = n1 + n2;
  const tieTerm = ties.reduce((s, t) => s + (t * t * t - t), 0) / (N * (N - 1));
  const variance = ((n1 * n2) / 12) * (N + 1 - tieTerm);
  if (variance <= 0) return 1;
  const z = (u - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
  return upperNormal(z);
}

/** One-sided Mann-Whitney U test that green's values are larger than blue's. Both samples non-empty. */
export function mannWhitney(green: readonly number[], blue: readonly number[]): MannWhitney {
  const n1 = green.length;
  const n2 = blue.length;
  const u = wilcoxonRankSum([...green], [...blue]) - (n1 * (n1 + 1)) / 2;
  const exact = exactApplies(green, blue);
  const p = uUpperP(u, n1, n2, tieSizes([...green, ...blue]), exact);
  return { u, p, method: exact ? 'exact' : 'normal' };
}

/** The smallest one-sided p-value these sample sizes (and ties) can ever give: when every green value is larger. */
function smallestP(green: readonly number[], blue: readonly number[]): number {
  const n1 = green.length;
  const n2 = blue.length;
  return uUpperP(n1 * n2, n1, n2, tieSizes([...green, ...blue]), exactApplies(green, blue));
}

/**
 * Hodges-Lehmann shift of green over blue and its confidence interval from the ordered pairwise
 * differences: [D(k), D(mn+1-k)] with k from U's exact lower alpha/2 quantile (as R's `wilcox.test`
 * `conf.int`), or from the normal approximation with ties (Hollander & Wolfe).
 */
export function hodgesLehmann(green: readonly number[], blue: readonly number[], confidence = 0.95): ShiftEstimate {
  const diffs: number[] = [];
  for (const g of green) for (const b of blue) diffs.push(g - b);
  diffs.sort((a, b) => a - b);
  const mn = diffs.length;
  const half = (1 - confidence) / 2;
  let k: number;
  if (exactApplies(green, blue)) {
    // Smallest q with P(U <= q) >= alpha/2 (R's qwilcox), then the q-th smallest difference.
    const dist = uDistribution(green.length, blue.length);
    let cdf = 0;
    k = 0;
    while (k < dist.length) {
      cdf += dist[k] as number;
      if (cdf >= half - 1e-12) break;
      k++;
    }
  } else {
    const N = green.length + blue.length;
    const ties = tieSizes([...green, ...blue]);
    const tieTerm = ties.reduce((s, t) => s + (t * t * t - t), 0) / (N * (N - 1));
    const sd = Math.sqrt(((green.length * blue.length) / 12) * (N + 1 - tieTerm));
    k = Math.floor(mn / 2 - probit(1 - half) * sd);
  }
  k = Math.min(Math.max(k, 1), Math.ceil(mn / 2));
  return {
    shift: medianSorted(diffs),
    lower: diffs[k - 1] as number,
    upper: diffs[mn - k] as number,
    confidence,
  };
}

/** log C(n, k) */
function logChoose(n: number, k: number): number {
  return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);
}

/**
 * One-sided Fisher exact test for the 2x2 table [[a, n1-a], [b, n2-b]]: P(X >= a) where X, the first
 * cell, is hypergeometric given the margins. Equals R's `fisher.test(..., alternative = "greater")`.
 */
export function fisherGreater(a: number, n1: number, b: number, n2: number): number {
  const N = n1 + n2;
  const K = a + b;
  const denominator = logChoose(N, n1);
  let p = 0;
  for (let x = a; x <= Math.min(K, n1); x++) {
    if (K - x > n2) continue;
    p += Math.exp(logChoose(K, x) + logChoose(N - K, n1 - x) - denominator);
  }
  return Math.min(1, p);
}

/**
 * Judges green against blue at the `look`-th measurement of a check: `fail` when green is
 * significantly (at alpha_look / 2 for each test) AND materially worse in latency or in errors,
 * `inconclusive` when the latency samples are too few to tell (fewer than `minSamples`, or so few
 * that even the most extreme ordering could not be significant at this look), `pass` otherwise
 * (including every latency on both sides equal: a shift of exactly 0).
 */
export function judge(green: SideSample, blue: SideSample, s: JudgeSettings, look: number): Judgement {
  const alphaLook = lookAlpha(s.alpha, look);
  const each = alphaLook / 2;
  const greenRate = green.n === 0 ? 0 : green.errors / green.n;
  const blueRate = blue.n === 0 ? 0 : blue.errors / blue.n;
  const errorP = green.n === 0 || blue.n === 0 ? 1 : fisherGreater(green.errors, green.n, blue.errors, blue.n);
  const errors = { p: errorP, greenRate, blueRate };
  const errorsWorse = errorP < each && greenRate - blueRate >= s.minErrorRateIncrease - 1e-12;
  const base = { look, alphaLook, errors };
  if (errorsWorse) {
    const latency = latencyOf(green, blue, s);
    return {
      ...base,
      ...(latency ? { latency } : {}),
      outcome: 'fail',
      reason: 'green has significantly and materially more errors',
    };
  }
  const latency = latencyOf(green, blue, s);
  if (!latency || green.latenciesMs.length < s.minSamples || blue.latenciesMs.length < s.minSamples) {
    return {
      ...base,
      ...(latency ? { latency } : {}),
      outcome: 'inconclusive',
      reason: `too few latency samples (green ${green.latenciesMs.length}, blue ${blue.latenciesMs.length}, need ${s.minSamples} each)`,
    };
  }
  // Every latency on both sides the same: no ordering, so no test could tell, yet the samples show no
  // shift at all (HL shift and interval 0). That is evidence of no difference, not a lack of it.
  const first = green.latenciesMs[0];
  if ([...green.latenciesMs, ...blue.latenciesMs].every((v) => v === first)) {
    return {
      ...base,
      latency,
      outcome: 'pass',
      reason: `no difference: every latency ${round(first ?? 0)} ms on both sides`,
    };
  }
  if (smallestP(green.latenciesMs, blue.latenciesMs) >= each) {
    return {
      ...base,
      latency,
      outcome: 'inconclusive',
      reason: `samples too small to reach significance at this look (level ${formatP(each)})`,
    };
  }
  const significant = latency.p < each;
  const needed = Math.max(s.minLatencyShiftMs, (s.minLatencyRatio - 1) * latency.blueMedian);
  const material = latency.shift >= needed;
  if (significant && material) {
    return { ...base, latency, outcome: 'fail', reason: 'green significantly and materially slower' };
  }
  const why = significant
    ? `green slower, but by less than the material ${round(needed)} ms`
    : 'no significant difference';
  return { ...base, latency, outcome: 'pass', reason: why };
}

function latencyOf(green: SideSample, blue: SideSample, s: JudgeSettings): Judgement['latency'] | undefined {
  if (green.latenciesMs.length === 0 || blue.latenciesMs.length === 0) return undefined;
  const mw = mannWhitney(green.latenciesMs, blue.latenciesMs);
  const hl = hodgesLehmann(green.latenciesMs, blue.latenciesMs, 1 - s.alpha);
  const median = (v: readonly number[]): number => medianSorted([...v].sort((a, b) => a - b));
  return { ...mw, ...hl, greenMedian: median(green.latenciesMs), blueMedian: median(blue.latenciesMs) };
}

/**
 * The judgement as one line: `U=412 p=0.0012 shift +31 ms (95% CI +12..+50 ms); errors 2/30 vs 0/30 p=0.25`.
 * `greenline check` prints it in its measurement lines.
 */
export function describeJudgement(j: Judgement, green: SideSample, blue: SideSample): string {
  const parts: string[] = [];
  if (j.latency) {
    const l = j.latency;
    parts.push(
      `latency U=${round(l.u)} p=${formatP(l.p)} (${l.method}, n=${green.latenciesMs.length}/${blue.latenciesMs.length}), shift ${signed(l.shift)} ms (${Math.round(l.confidence * 100)}% CI ${signed(l.lower)}..${signed(l.upper)} ms), median green ${round(l.greenMedian)} ms vs blue ${round(l.blueMedian)} ms`,
    );
  } else parts.push('latency n/a');
  parts.push(`errors green ${green.errors}/${green.n} vs blue ${blue.errors}/${blue.n} p=${formatP(j.errors.p)}`);
  parts.push(`look ${j.look} at level ${formatP(j.alphaLook)}`);
  return `${j.reason}: ${parts.join('; ')}`;
}

export function formatP(p: number): string {
  if (p >= 0.001) return String(Math.round(p * 10_000) / 10_000);
  return p.toExponential(1);
}

function signed(x: number): string {
  const r = round(x);
  return r > 0 ? `+${r}` : String(r);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Latencies kept per side across looks: the most recent, so memory and the O(mn) interval stay bounded. */
export const pooledLimit = 400;

/**
 * The judge of one check across its measurements: each call adds one measurement's samples to the
 * evidence so far and judges at the next look, spending alpha as `lookAlpha` says.
 *
 * `index` is the measurement's place in the check's whole schedule (`MeasureAt.index`, carried across
 * invocations): the look is the larger of it and one more than the previous look, so looks only grow
 * and a check resumed in a new invocation (ECS IN_PROGRESS) continues the spending where it stopped
 * instead of testing at alpha_1 again. Every look of a check then has its own k, and the union bound
 * keeps the chance of any false fail at most sum alpha_k <= alpha, whatever each look's data: the
 * pooled evidence lives as long as the check's measure (one invocation) and starts afresh in the next,
 * which costs power, never the bound. Measurements that reach no judgement (no blue baseline, an error)
 * leave their k unspent, which only lowers the false-fail rate.
 */
export function sequentialJudge(
  settings: JudgeSettings,
): (green: SideSample, blue: SideSample, index?: number) => { judgement: Judgement; message: string } {
  let look = 0;
  const pooled = {
    green: { latenciesMs: [] as number[], errors: 0, n: 0 },
    blue: { latenciesMs: [] as number[], errors: 0, n: 0 },
  };
  const add = (into: { latenciesMs: number[]; errors: number; n: number }, s: SideSample): void => {
    into.latenciesMs.push(...s.latenciesMs);
    if (into.latenciesMs.length > pooledLimit) into.latenciesMs.splice(0, into.latenciesMs.length - pooledLimit);
    into.errors += s.errors;
    into.n += s.n;
  };
  return (green, blue, index) => {
    look = Math.max(look + 1, index !== undefined && Number.isSafeInteger(index) && index > 0 ? index : 0);
    add(pooled.green, green);
    add(pooled.blue, blue);
    const judgement = judge(pooled.green, pooled.blue, settings, look);
    return { judgement, message: describeJudgement(judgement, pooled.green, pooled.blue) };
  };
}

const judgeFields = ['alpha', 'minLatencyShift', 'minLatencyRatio', 'minErrorRateIncrease', 'minSamples'] as const;

/** Reads `compare.judge` (`true` for the defaults, or an object of settings); problems name the field. */
export function readJudge(value: unknown, path: string, f: Fields): JudgeSettings | undefined {
  if (value === true) return defaultJudge;
  const raw = f.object(value, path, judgeFields);
  if (!raw) return undefined;
  const before = f.issues.length;
  const alpha = raw.alpha === undefined ? defaultJudge.alpha : f.number(raw.alpha, join(path, 'alpha'), 1e-6, 0.5);
  const minLatencyShiftMs =
    raw.minLatencyShift === undefined
      ? defaultJudge.minLatencyShiftMs
      : f.duration(raw.minLatencyShift, join(path, 'minLatencyShift'), 600_000);
  const minLatencyRatio =
    raw.minLatencyRatio === undefined
      ? defaultJudge.minLatencyRatio
      : f.number(raw.minLatencyRatio, join(path, 'minLatencyRatio'), 1, 1000);
  const minErrorRateIncrease =
    raw.minErrorRateIncrease === undefined
      ? defaultJudge.minErrorRateIncrease
      : f.number(raw.minErrorRateIncrease, join(path, 'minErrorRateIncrease'), 0, 1);
  const minSamples =
    raw.minSamples === undefined
      ? defaultJudge.minSamples
      : f.integer(raw.minSamples, join(path, 'minSamples'), 2, 1000);
  if (
    f.issues.length > before ||
    alpha === undefined ||
    minLatencyShiftMs === undefined ||
    minLatencyRatio === undefined ||
    minErrorRateIncrease === undefined ||
    minSamples === undefined
  ) {
    return undefined;
  }
  return { alpha, minLatencyShiftMs, minLatencyRatio, minErrorRateIncrease, minSamples };
}
