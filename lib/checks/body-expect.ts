import type { RE2JS } from 're2js';
import { PlanError } from '../spec/errors.ts';
import { clip, type Fields, join } from '../spec/fields.ts';
import { checkJsonRanges, isJsonRange, rangeMismatch } from './json-range.ts';

/** What a response body must hold: shared by the http and lambda-invoke checks. */
export interface BodyExpect {
  readonly bodyContains?: string;
  readonly bodyMatches?: string;
  /** Dotted paths (`data.items[0].id`) to the value each must equal in the JSON body, or a `{min, max}` range. */
  readonly json?: Readonly<Record<string, unknown>>;
}

export const bodyExpectFields = ['bodyContains', 'bodyMatches', 'json'] as const;

/** Reads `bodyContains`, `bodyMatches` and `json` from an `expect` block, naming each bad field. */
export function readBodyExpect(raw: Record<string, unknown>, path: string, f: Fields, pathExample: string): BodyExpect {
  const out: { -readonly [K in keyof BodyExpect]: BodyExpect[K] } = {};
  if (raw.bodyContains !== undefined) {
    const s = f.string(raw.bodyContains, join(path, 'bodyContains'), { max: 4096 });
    if (s !== undefined) out.bodyContains = s;
  }
  if (raw.bodyMatches !== undefined) {
    const at = join(path, 'bodyMatches');
    const source = f.string(raw.bodyMatches, at, { max: 1000 });
    const why = source === undefined ? undefined : re2Problem(source);
    if (why !== undefined) f.problem(at, why);
    else if (source !== undefined) out.bodyMatches = source;
  }
  if (raw.json !== undefined) {
    const json = f.object(raw.json, join(path, 'json'));
    if (json) {
      for (const key of Object.keys(json)) {
        if (parseJsonPath(key) === undefined) {
          f.problem(join(join(path, 'json'), key), `expected a field path such as status or ${pathExample}`);
        }
      }
      checkJsonRanges(json, join(path, 'json'), f);
      out.json = json;
    }
  }
  return out;
}

/**
 * Plan regular expressions run on RE2 (re2js, pure JavaScript): matching time is linear in the text,
 * whatever the pattern, so green's answer cannot hold the event loop past the deadline. RE2 syntax
 * (https://github.com/google/re2/wiki/Syntax): no backreferences, no lookahead or lookbehind.
 *
 * re2js is about 150 KiB of minified code that most plans never use: it is imported only when a plan
 * uses `bodyMatches`, so other plans never evaluate it (in the single-file bundles SAM builds its bytes
 * are still read and pre-parsed at load; docs/performance.md, "Code only some plans need"). Plan parsing
 * is synchronous, so the async readers load it first (`preparePatterns`, called by `parsePlanValue` and
 * `parsePlanText` in lib/plan/schema.ts).
 */
type Re2js = typeof import('re2js');
let engine: Re2js | undefined;
let loading: Promise<Re2js> | undefined;

/**
 * Loads the RE2 engine once; later calls return at once. A failed import is retried by the next call.
 * Throws the import's error.
 */
export async function loadPatternEngine(): Promise<void> {
  if (engine !== undefined) return;
  loading ??= import('re2js').then(
    (m) => {
      engine = m;
      return m;
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  await loading;
}

/**
 * Whether `raw` (a plan as read from JSON or YAML, or a hookDetails object, not yet validated) has a
 * `bodyMatches` field at any depth. Any depth, not only where a check kind reads one, so that a new kind
 * cannot be missed; walked without recursion, so a deeply nested value cannot overflow the stack.
 */
export function usesPatterns(raw: unknown): boolean {
  const seen = new Set<object>();
  const stack: unknown[] = [raw];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object' || seen.has(node)) continue;
    seen.add(node);
    if (!Array.isArray(node) && Object.hasOwn(node, 'bodyMatches')) return true;
    for (const value of Object.values(node)) stack.push(value);
  }
  return false;
}

/** Loads the RE2 engine when `raw` uses `bodyMatches` (see `usesPatterns`): await it before a synchronous parse. */
export async function preparePatterns(raw: unknown): Promise<void> {
  if (usesPatterns(raw)) await loadPatternEngine();
}

/**
 * A `bodyMatches` pattern was read or run before the RE2 engine was loaded: a fault of the caller (it
 * parsed a plan without `parsePlanValue` / `parsePlanText`), never of the plan. Not a `PlanError`, so it
 * is never reported as a problem of the plan; the function fails closed with it.
 */
export class PatternEngineNotLoadedError extends Error {
  constructor() {
    super(
      'internal error: a plan uses bodyMatches but the RE2 engine (re2js) was not loaded: read plans through parsePlanValue or parsePlanText (lib/plan/schema.ts), which load it',
    );
    this.name = 'PatternEngineNotLoadedError';
  }
}

const compiled = new Map<string, RE2JS>();

/** The compiled pattern. Throws `PatternEngineNotLoadedError` before `loadPatternEngine`, and RE2's error for a pattern it cannot run. */
function re2(source: string): RE2JS {
  let r = compiled.get(source);
  if (r === undefined) {
    if (engine === undefined) throw new PatternEngineNotLoadedError();
    r = engine.RE2JS.compile(source);
    // A plan has at most a few dozen patterns; the cap only guards against a caller that makes many.
    if (compiled.size >= 256) compiled.clear();
    compiled.set(source, r);
  }
  return r;
}

/** Why RE2 cannot run `source`, for a plan problem; undefined when it can. Throws `PatternEngineNotLoadedError` before `loadPatternEngine`. */
export function re2Problem(source: string): string | undefined {
  // Outside the try: a missing engine is the caller's fault, not an invalid pattern.
  if (engine === undefined) throw new PatternEngineNotLoadedError();
  try {
    re2(source);
    return undefined;
  } catch (error) {
    // RE2 quotes the part of the pattern it stopped at (`missing closing ): \`(abc…\``): cut like any echo.
    const detail = (error as Error).message
      .replace(/^error parsing regexp: /, '')
      .replace(/`([\s\S]*)`$/, (_whole, fragment: string) => `\`${clip(fragment)}\``);
    const unsupported = /\\[1-9]|\(\?<?[=!]/.test(source)
      ? '; backreferences and lookaround are not supported, since they cannot run in linear time'
      : '';
    return `invalid regular expression (RE2 syntax${unsupported}): ${clip(detail, 120)}`;
  }
}

/**
 * Checks, once the plan's placeholders are filled, that RE2 can run `e.bodyMatches`.
 * Throws a `PlanError` naming `<path>.bodyMatches` when it cannot.
 */
export function compileBodyExpect(e: BodyExpect, path: string): void {
  if (e.bodyMatches === undefined) return;
  const why = re2Problem(e.bodyMatches);
  if (why !== undefined) throw new PlanError([`${join(path, 'bodyMatches')}: ${why}`]);
}

export function needsBody(e: BodyExpect): boolean {
  return e.bodyContains !== undefined || e.bodyMatches !== undefined || e.json !== undefined;
}

/**
 * Why `text` does not hold what `e` expects, or undefined when it does. `noun` names the text in the
 * message ("body", "response"); `max` bounds each quoted excerpt.
 */
export function bodyMismatch(e: BodyExpect, text: string, noun: string, max: number): string | undefined {
  const short = (s: string, n = max): string => (s.length > n ? `${s.slice(0, n)}…` : s);
  if (e.bodyContains !== undefined && !text.includes(e.bodyContains)) {
    return `${noun} does not contain ${JSON.stringify(short(e.bodyContains))}`;
  }
  if (e.bodyMatches !== undefined && !re2(e.bodyMatches).test(text)) {
    return `${noun} does not match /${short(e.bodyMatches)}/`;
  }
  if (e.json === undefined) return undefined;
  const cost = jsonParseCost(text);
  if (cost > jsonParseMaxBytes) {
    return `${noun} is too large to parse as JSON within memory (about ${Math.ceil(cost / MiB)} MiB once parsed, at most ${jsonParseMaxBytes / MiB} MiB): lower maxBodyBytes or match it with bodyContains`;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return `${noun} is not JSON (starts ${JSON.stringify(short(text, 40))})`;
  }
  for (const [path, want] of Object.entries(e.json)) {
    const got = readJsonPath(doc, parseJsonPath(path) ?? []);
    if (isJsonRange(want)) {
      const outside = rangeMismatch(path, got, want);
      if (outside !== undefined) return outside;
      continue;
    }
    if (!deepEqual(got, want)) {
      return `JSON ${path} is ${got === undefined ? 'missing' : short(JSON.stringify(got))}, expected ${short(JSON.stringify(want))}`;
    }
  }
  return undefined;
}

type PathStep = string | number;

/** `data.items[0].id` to ['data', 'items', 0, 'id']. */
export function parseJsonPath(path: string): PathStep[] | undefined {
  if (!/^(?:[^.[\]]+|\[\d+\])(?:\[\d+\])*(?:\.[^.[\]]+(?:\[\d+\])*)*$/.test(path)) return undefined;
  const steps: PathStep[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    steps.push(m[1] !== undefined ? m[1] : Number(m[2]));
  }
  return steps;
}

function readJsonPath(doc: unknown, steps: PathStep[]): unknown {
  let at: unknown = doc;
  for (const step of steps) {
    if (at === null || typeof at !== 'object') return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(at)) return undefined;
      at = at[step];
    } else {
      if (Array.isArray(at) || !Object.hasOwn(at, step)) return undefined;
      at = (at as Record<string, unknown>)[step];
    }
  }
  return at;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const MiB = 1024 * 1024;

/**
 * The most memory one parsed JSON body may take. JSON.parse is synchronous and its tree is dropped as
 * soon as the expectations are read, so at most one exists at a time; without this bound, 10 MiB of
 * `[{},{},...]` (within maxBodyBytes and the body budget) parses into over 200 MiB of objects and the
 * function runs out of memory before it can deliver a verdict.
 */
export const jsonParseMaxBytes = 32 * MiB;

/**
 * A linear, allocation-free upper estimate of the heap bytes `JSON.parse(text)` takes, measured on Node 24:
 * an object or array about 80 bytes (an empty object in an array takes 67), any other value 16, and 2
 * per character of text for the strings. Characters inside strings are not counted as structure.
 */
export function jsonParseCost(text: string): number {
  let containers = 0;
  let values = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) containers++;
    else if (c === 44 /* , */ || c === 58 /* : */) values++;
  }
  return containers * 80 + values * 16 + text.length * 2;
}
