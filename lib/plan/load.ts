import { PlanError } from '../spec/errors.ts';
import { includedNames, type SharedChecks } from './compose.ts';
import { type PlanRoute, routeKeys } from './route.ts';
import { type Plan, parsePlanValue, planDocument } from './schema.ts';

/**
 * Where plans come from. `prefix` (GREENLIGHT_PLAN_PREFIX) is the plan library: each deployment's plan is
 * found under it from the deployment itself (lib/plan/route.ts). At most one of `inline`
 * (GREENLIGHT_PLAN), `file` (GREENLIGHT_PLAN_FILE) and `parameter` (GREENLIGHT_PLAN_PARAMETER) is the
 * one plan: every deployment's without a library, the fallback with one.
 */
export interface PlanSource {
  readonly inline?: string;
  readonly file?: string;
  readonly parameter?: string;
  readonly prefix?: string;
}

export interface PlanReaders {
  readFile(path: string): Promise<string>;
  readParameter(name: string, signal?: AbortSignal): Promise<string>;
  /**
   * Reads several SSM parameters in one call (GetParameters); a name that does not exist is absent from
   * the result. Rejects on anything else (AccessDenied, throttling after retries).
   */
  readParameters?(names: readonly string[], signal?: AbortSignal): Promise<ReadonlyMap<string, string>>;
}

/**
 * A plan library: plans and shared check sets by key (`codedeploy/App/Group`, `ecs/cluster/service`,
 * `lambda/fn`, `shared/name`). In the functions, SSM parameters under a prefix; for `greenlight validate`,
 * also a directory that mirrors that layout.
 */
export interface PlanLibrary {
  /** Where `key` is kept (the SSM parameter name, the file), as messages show it. */
  where(key: string): string;
  /** Each key's text; a key the library does not hold is absent from the result. */
  read(keys: readonly string[], signal?: AbortSignal): Promise<ReadonlyMap<string, string>>;
}

/** The plan a deployment gets, and how it was chosen. */
export interface FoundPlan {
  readonly plan: Plan;
  /** The SSM parameter, file or variable it came from. */
  readonly from: string;
  /** Whether it is the fallback (no routed plan exists). */
  readonly fallback: boolean;
  /** Where routed plans were looked for, in order (empty without a library). */
  readonly looked: readonly string[];
  /** Route names that cannot be SSM parameter names, and were skipped. */
  readonly refused: readonly string[];
}

/**
 * No plan routes to this deployment and no fallback is set. A hook greenlight was wired to fails closed
 * on it (it is a `PlanError`); a gate that takes EventBridge events for many deployments ignores the
 * deployment (someone else's).
 */
export class NoPlanError extends PlanError {
  readonly looked: readonly string[];

  constructor(looked: readonly string[], refused: readonly string[]) {
    const where = looked.length > 0 ? `looked for ${looked.join(', ')}` : 'the deployment names nothing to route on';
    super([
      `no plan for this deployment: ${where}${refused.length ? ` (${refused.join('; ')})` : ''}; no fallback plan is set (GREENLIGHT_PLAN, GREENLIGHT_PLAN_FILE or GREENLIGHT_PLAN_PARAMETER)`,
    ]);
    this.name = 'NoPlanError';
    this.looked = looked;
  }
}

/** SSM parameter names allow these characters; a prefix is a path that starts and ends with `/`. */
const prefixPattern = /^\/(?:[A-Za-z0-9_.-]+\/){1,12}$/;

/** Whether `prefix` can hold a plan library (`/greenlight/plans/`); SSM reserves names beginning aws or ssm. */
export function prefixProblem(prefix: string): string | undefined {
  if (!prefixPattern.test(prefix)) {
    return `GREENLIGHT_PLAN_PREFIX must be an SSM path that begins and ends with "/" (e.g. /greenlight/plans/), of letters, digits, "_", ".", "-"`;
  }
  if (/^\/(aws|ssm)/i.test(prefix)) return 'GREENLIGHT_PLAN_PREFIX may not begin with /aws or /ssm (reserved by SSM)';
  return undefined;
}

export function planSourceFromEnv(env: NodeJS.ProcessEnv): PlanSource {
  const source: { -readonly [K in keyof PlanSource]: PlanSource[K] } = {};
  if (env.GREENLIGHT_PLAN?.trim()) source.inline = env.GREENLIGHT_PLAN;
  if (env.GREENLIGHT_PLAN_FILE?.trim()) source.file = env.GREENLIGHT_PLAN_FILE.trim();
  if (env.GREENLIGHT_PLAN_PARAMETER?.trim()) source.parameter = env.GREENLIGHT_PLAN_PARAMETER.trim();
  if (env.GREENLIGHT_PLAN_PREFIX?.trim()) source.prefix = env.GREENLIGHT_PLAN_PREFIX.trim();
  return source;
}

/** The plan library of SSM parameters under `prefix`, read in batches of GetParameters. */
export function ssmLibrary(prefix: string, readers: PlanReaders): PlanLibrary {
  return {
    where: (key) => `${prefix}${key}`,
    async read(keys, signal) {
      const names = keys.map((k) => `${prefix}${k}`);
      const found = new Map<string, string>();
      if (names.length === 0) return found;
      if (!readers.readParameters) throw new Error('no reader for SSM parameters in batches');
      const values = await readers.readParameters(names, signal);
      for (const [i, key] of keys.entries()) {
        const value = values.get(names[i] as string);
        if (value !== undefined) found.set(key, value);
      }
      return found;
    },
  };
}

const cache = new Map<string, { plan: Plan; text: string }>();

/**
 * Loads and validates the plan for `route`: the first of the route's keys (lib/plan/route.ts) that the
 * library under `source.prefix` holds, else the one plan of `source` as the fallback. Throws a
 * `NoPlanError` when there is neither, a `PlanError` when the plan cannot be read or is not valid.
 *
 * Inline and file plans are cached for the life of the container. SSM plans are asked of the readers
 * every time (which cache them for as long as they choose: a minute in the functions) and parsed again
 * only when their text, or the text of a shared check set they include, changed.
 */
export async function findPlan(
  source: PlanSource,
  readers: PlanReaders,
  signal?: AbortSignal,
  route?: PlanRoute,
  library?: PlanLibrary,
): Promise<FoundPlan> {
  const given = (['inline', 'file', 'parameter'] as const).filter((k) => source[k] !== undefined);
  if (given.length > 1) {
    throw new PlanError([`more than one plan configured (${given.map(envName).join(', ')}): set exactly one`]);
  }
  if (source.prefix !== undefined) {
    const problem = prefixProblem(source.prefix);
    if (problem) throw new PlanError([problem]);
  }
  const lib = library ?? (source.prefix === undefined ? undefined : ssmLibrary(source.prefix, readers));
  if (given.length === 0 && lib === undefined) {
    throw new PlanError([
      'no plan configured: set GREENLIGHT_PLAN_PREFIX (a plan per deployment), or GREENLIGHT_PLAN (inline YAML or JSON), GREENLIGHT_PLAN_FILE or GREENLIGHT_PLAN_PARAMETER',
    ]);
  }
  const { keys, refused } = lib ? routeKeys(route) : { keys: [], refused: [] };
  const looked = lib ? keys.map((k) => lib.where(k)) : [];
  if (lib && keys.length > 0) {
    let texts: ReadonlyMap<string, string>;
    try {
      texts = await lib.read(keys, signal);
    } catch (error) {
      throw new PlanError([`cannot read the plan library (${looked.join(', ')}): ${readFault(error)}`], {
        cause: error,
      });
    }
    for (const key of keys) {
      const text = texts.get(key);
      if (text === undefined) continue;
      const from = lib.where(key);
      return { plan: await compile(`routed:${from}`, text, from, lib, signal), from, fallback: false, looked, refused };
    }
  }
  const kind = given[0];
  if (kind === undefined) throw new NoPlanError(looked, refused);
  const plan = await loadOne(source, kind, readers, lib, signal);
  const from = kind === 'inline' ? 'GREENLIGHT_PLAN' : (source[kind] as string);
  return { plan, from, fallback: lib !== undefined, looked, refused };
}

/** The plan for `route` (see `findPlan`). */
export async function loadPlan(
  source: PlanSource,
  readers: PlanReaders,
  signal?: AbortSignal,
  route?: PlanRoute,
): Promise<Plan> {
  return (await findPlan(source, readers, signal, route)).plan;
}

async function loadOne(
  source: PlanSource,
  kind: 'inline' | 'file' | 'parameter',
  readers: PlanReaders,
  lib: PlanLibrary | undefined,
  signal: AbortSignal | undefined,
): Promise<Plan> {
  const key = `${kind}:${source[kind]}`;
  const hit = cache.get(key);
  // A plan with include is compiled again: its shared check sets may have changed.
  if (hit && kind !== 'parameter' && !hit.text.includes('\0')) return hit.plan;
  let text: string;
  let name: string;
  if (kind === 'inline') {
    text = source.inline as string;
    name = 'GREENLIGHT_PLAN';
  } else if (kind === 'file') {
    name = source.file as string;
    try {
      text = await readers.readFile(name);
    } catch (error) {
      throw new PlanError(
        [
          `GREENLIGHT_PLAN_FILE: cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        ],
        { cause: error },
      );
    }
  } else {
    name = source.parameter as string;
    try {
      text = await readers.readParameter(name, signal);
    } catch (error) {
      throw new PlanError(
        [
          `GREENLIGHT_PLAN_PARAMETER: cannot read SSM parameter ${name}: ${readFault(error)}${
            // The template grants ssm:GetParameter on the PlanParameterName parameter only.
            /^AccessDenied(Exception)?$/.test((error as Error).name)
              ? " (greenlight's role may read only the parameter the stack's PlanParameterName parameter names)"
              : ''
          }`,
        ],
        { cause: error },
      );
    }
  }
  return compile(key, text, name, lib, signal);
}

/** Parses `text` with the shared check sets it includes, reusing the last plan made from the same texts. */
async function compile(
  key: string,
  text: string,
  name: string,
  lib: PlanLibrary | undefined,
  signal: AbortSignal | undefined,
): Promise<Plan> {
  const hit = cache.get(key);
  if (hit?.text === text) return hit.plan;
  const document = await planDocument(text, name);
  const names = includedNames(document);
  let shared: SharedChecks | undefined;
  let all = text;
  if (lib && names.length > 0) {
    const keys = names.map((n) => `shared/${n}`);
    let texts: ReadonlyMap<string, string>;
    try {
      texts = await lib.read(keys, signal);
    } catch (error) {
      throw new PlanError([`${name}: cannot read its shared check sets: ${readFault(error)}`], { cause: error });
    }
    const sets = new Map<string, unknown>();
    for (const n of names) {
      const setText = texts.get(`shared/${n}`);
      all += `\0${n}\0${setText ?? ''}`;
      if (setText !== undefined) sets.set(n, await planDocument(setText, lib.where(`shared/${n}`)));
    }
    const again = cache.get(key);
    if (again?.text === all) return again.plan;
    shared = { sets, where: (n) => lib.where(`shared/${n}`) };
  }
  let plan: Plan;
  try {
    plan = await parsePlanValue(document, { shared });
  } catch (error) {
    // Plans in a library are many: every problem names the plan it is in.
    if (error instanceof PlanError && key.startsWith('routed:')) {
      throw new PlanError(
        error.issues.map((i) => `${name}: ${i}`),
        { cause: error },
      );
    }
    throw error;
  }
  cache.set(key, { plan, text: all });
  return plan;
}

/** Forgets cached plans (tests). */
export function clearPlanCache(): void {
  cache.clear();
}

function readFault(error: unknown): string {
  return `${(error as Error)?.name}: ${(error as Error)?.message}`;
}

function envName(kind: 'inline' | 'file' | 'parameter'): string {
  return { inline: 'GREENLIGHT_PLAN', file: 'GREENLIGHT_PLAN_FILE', parameter: 'GREENLIGHT_PLAN_PARAMETER' }[kind];
}
