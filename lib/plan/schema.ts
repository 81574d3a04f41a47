import { bodyMemoryIssues } from '../checks/body-budget.ts';
import { preparePatterns } from '../checks/body-expect.ts';
import { type CheckEntry, usedPlaceholders } from '../checks/build-runs.ts';
import { type AllowPolicy, readAllow } from '../checks/egress.ts';
import { checkKinds, isCheckKind } from '../checks/registry.ts';
import { readSecrets, type SecretSource, secretNamesIn } from '../checks/secrets.ts';
import type { CheckPolicy } from '../core/types.ts';
import { PlanError } from '../spec/errors.ts';
import { clip, echo, Fields, join, keyLimit } from '../spec/fields.ts';
import {
  canonicalHook,
  fallbackHook,
  hookCollisions,
  hookEntry,
  isKnownHook,
  knownHooks,
  testListenerProblem,
} from '../spec/hooks.ts';
import { checkPlaceholders } from '../spec/placeholders.ts';
import { type ComposeOptions, composePlan } from './compose.ts';
import { checkFieldNames, checkNamePattern, maxChecks, planShape, policyShapes } from './definitions.ts';
import { checkShape } from './shape.ts';
import { scheduleProblem, triggersOf } from './trigger-limits.ts';
import { parseYaml } from './yaml.ts';

/** A check as the plan declares it: its kind's own fields, and when and how it is measured (lib/checks/build-runs.ts). */
export type PlanCheck = CheckEntry;

export interface Plan {
  readonly version: 1;
  readonly description?: string;
  /** Hook or stage name (or `*`) to the names of the checks that decide it. */
  readonly hooks: Readonly<Record<string, readonly string[]>>;
  readonly checks: Readonly<Record<string, PlanCheck>>;
  /** Where probes may go besides public addresses of their own hosts; defaults when absent. */
  readonly allow?: AllowPolicy;
  /** Values checks use as `{{secret:name}}`, read per invocation. */
  readonly secrets?: Readonly<Record<string, SecretSource>>;
}

export const defaultPolicy: CheckPolicy = {
  initialDelayMs: 0,
  count: 1,
  intervalMs: 5_000,
  timeoutMs: 5_000,
  failureLimit: 0,
  consecutiveErrorLimit: 0,
  consecutiveSuccesses: 0,
  inconclusiveLimit: 0,
  dryRun: false,
};

/** The policy fields, as `defaults` and every check take them. */
const policyFields = Object.keys(policyShapes);
const planFields = Object.keys(planShape.fields);

/** Parses plan text: JSON when it looks like JSON, YAML otherwise (its reader loaded only then). */
export async function parsePlanText(text: string, source: string, options?: ComposeOptions): Promise<Plan> {
  return parsePlanValue(await planDocument(text, source), options);
}

/** Plan text (or a shared check set's) as a document, not yet validated. Throws a `PlanError`. */
export async function planDocument(text: string, source: string): Promise<unknown> {
  if (text.length > 256 * 1024) throw new PlanError([`${source}: plan is larger than 256 KiB`]);
  try {
    return /^\s*[{[]/.test(text) ? JSON.parse(text) : await parseYaml(text, source);
  } catch (error) {
    const detail = (error as Error).message.split('\n')[0];
    throw new PlanError([`${source}: not valid JSON or YAML: ${detail}`], { cause: error });
  }
}

/**
 * Validates a parsed plan (JSON or YAML already read, or a hookDetails object), first loading what only
 * some plans need (the RE2 engine, for `bodyMatches`, in the plan or the shared check sets it includes).
 * Throws a `PlanError` that lists every problem.
 */
export async function parsePlanValue(raw: unknown, options?: ComposeOptions): Promise<Plan> {
  await preparePatterns([raw, ...(options?.shared ? [...options.shared.sets.values()] : [])]);
  return parsePlan(raw, options);
}

/**
 * Validates a parsed plan. Throws a `PlanError` that lists every problem with its field path.
 * `include` and `variables` are resolved first (lib/plan/compose.ts), with `options.shared`. A plan with
 * `bodyMatches` needs the RE2 engine loaded first (`parsePlanValue` and `parsePlanText` do it); without
 * it, throws `PatternEngineNotLoadedError`. Production code reads plans through those two.
 */
export function parsePlan(document: unknown, options?: ComposeOptions): Plan {
  // Every reader below recurses: a plan nested deeper than any real one is refused before them (as the
  // YAML reader refuses it), so JSON or a hookDetails object cannot overflow the stack.
  if (nestedDeeperThan(document, maxPlanDepth)) {
    throw new PlanError([`plan: nested deeper than ${maxPlanDepth} levels`]);
  }
  const composed = composePlan(document, options);
  const raw = composed.document;
  // The structural pass first, from the definitions the JSON Schema is made of: whatever the readers
  // below say, a plan the schema refuses is refused. Its problems are worded as the readers word theirs,
  // so each is said once (the readers' come first, in their order; any only the pass finds follow).
  const structure = new Fields();
  checkShape(planShape, raw, '', structure);
  const f = new Fields();
  // Composition's problems first, then the plan's own: one mistake never hides another.
  f.issues.push(...composed.issues);
  const fail = (): PlanError => {
    for (const issue of structure.issues) if (!f.issues.includes(issue)) f.issues.push(issue);
    return new PlanError(f.issues);
  };
  const top = f.object(raw, 'plan', planFields);
  if (!top) throw fail();

  if (top.version !== 1) f.problem('version', `expected 1, got ${echo(top.version)}`);
  const description = top.description === undefined ? undefined : f.string(top.description, 'description');

  const defaults = readPolicy(
    top.defaults === undefined ? {} : top.defaults,
    'defaults',
    f,
    defaultPolicy,
    policyFields,
  );

  const allow = top.allow === undefined ? undefined : readAllow(top.allow, 'allow', f);
  const secrets = top.secrets === undefined ? undefined : readSecrets(top.secrets, 'secrets', f);
  const secretNames = new Set(Object.keys(secrets ?? {}));

  // Null-prototype records: a plan name (`toString`, `constructor`) never finds Object.prototype's.
  const checks: Record<string, PlanCheck> = Object.create(null);
  const rawChecks = f.object(top.checks ?? {}, 'checks');
  if (rawChecks) {
    const entries = Object.entries(rawChecks);
    if (entries.length > maxChecks) f.problem('checks', `must have at most ${maxChecks} checks`);
    for (const [name, value] of entries.slice(0, maxChecks)) {
      const path = join('checks', name);
      if (!checkNamePattern.test(name)) {
        f.problem(path, 'check names use letters, digits, ".", "_" and "-" (at most 64)');
        continue;
      }
      const check = readCheck(name, value, path, f, defaults ?? defaultPolicy, secretNames);
      if (check) checks[name] = withPlanBlocks(check, allow, secrets);
    }
  }

  const hooks: Record<string, readonly string[]> = Object.create(null);
  const rawHooks = f.object(top.hooks, 'hooks');
  if (rawHooks) {
    for (const [alias, canonical] of hookCollisions(Object.keys(rawHooks))) {
      f.problem(
        join('hooks', alias),
        `${alias} is SAM's name for ${canonical}, which the plan also maps: give the hook one entry`,
      );
    }
    for (const [hook, value] of Object.entries(rawHooks)) {
      const path = join('hooks', hook);
      if (!isKnownHook(hook)) {
        f.problem(path, `unknown hook or stage (expected one of: ${knownHooks.join(', ')})`);
        continue;
      }
      const list = f.array(value, path, maxChecks);
      if (!list) continue;
      const names: string[] = [];
      list.forEach((item, i) => {
        const name = f.string(item, join(path, i));
        if (name === undefined) return;
        if (rawChecks && !Object.hasOwn(rawChecks, name)) {
          const have = Object.keys(rawChecks);
          f.problem(
            join(path, i),
            `unknown check ${echo(name)} (plan has: ${have.length ? have.map((k) => clip(k, keyLimit)).join(', ') : 'no checks'})`,
          );
          return;
        }
        if (names.includes(name)) {
          f.problem(join(path, i), `check ${echo(name)} is listed twice`);
          return;
        }
        names.push(name);
      });
      hooks[hook] = names;
      entryProblems(hook, names, checks, f);
    }
  }

  for (const issue of bodyMemoryIssues(hooks, checks, checkKinds)) f.problem(issue.path, issue.message);
  if (f.issues.length > 0 || structure.issues.length > 0) throw fail();
  return {
    version: 1,
    ...(description === undefined ? {} : { description }),
    hooks,
    checks,
    ...(allow === undefined ? {} : { allow }),
    ...(secrets === undefined ? {} : { secrets }),
  };
}

/**
 * What makes a hook entry unable to decide: only dry-run checks (nothing decides; `[]` says "no checks"
 * explicitly), or a schedule longer than a trigger that runs the hook allows. `*` is checked by the
 * trigger that falls back to it, at run time, and noted by `greenlight validate`.
 */
function entryProblems(hook: string, names: readonly string[], checks: Record<string, PlanCheck>, f: Fields): void {
  const listed = names.filter((n) => Object.hasOwn(checks, n)).map((n) => checks[n] as PlanCheck);
  if (listed.length !== names.length) return; // a listed check is invalid: reported already
  const path = join('hooks', hook);
  if (listed.length > 0 && listed.every((c) => c.policy.dryRun)) {
    f.problem(
      path,
      'every check listed is dryRun, so nothing decides the verdict: make one deciding, or map the hook to [] to let it pass without checks',
    );
  }
  if (hook === fallbackHook) return;
  for (const [i, c] of listed.entries()) {
    // The registry maps each type to its own kind, so this spec fits it.
    const problem = (
      checkKinds[c.type].hookProblem as ((spec: unknown, hook: string) => string | undefined) | undefined
    )?.(c.spec, canonicalHook(hook));
    if (problem !== undefined) f.problem(join(path, i), `check ${echo(c.name)} cannot work here: ${problem}`);
    const blue = usedPlaceholders([c]).has('testListenerUrl') ? testListenerProblem(hook) : undefined;
    if (blue !== undefined) f.problem(join(path, i), `check ${echo(c.name)} cannot work here: ${blue}`);
  }
  for (const trigger of triggersOf(hook)) {
    const problem = scheduleProblem(trigger, hook, listed);
    if (problem !== undefined) {
      f.issues.push(problem);
      return;
    }
  }
}

/** The check with the plan's `allow` and the secrets it uses; unchanged for a plan without them. */
function withPlanBlocks(
  check: PlanCheck,
  allow: AllowPolicy | undefined,
  secrets: Readonly<Record<string, SecretSource>> | undefined,
): PlanCheck {
  const used = [...secretNamesIn(check.spec)].filter((n) => secrets !== undefined && Object.hasOwn(secrets, n));
  const own: Record<string, SecretSource> = Object.create(null);
  for (const n of used) own[n] = secrets?.[n] as SecretSource;
  return {
    ...check,
    ...(allow === undefined ? {} : { allow }),
    ...(used.length === 0 ? {} : { secrets: own }),
  };
}

function readCheck(
  name: string,
  value: unknown,
  path: string,
  f: Fields,
  defaults: CheckPolicy,
  secretNames: ReadonlySet<string>,
): PlanCheck | undefined {
  const raw = f.object(value, path);
  if (!raw) return undefined;
  const type = raw.type;
  if (!isCheckKind(type)) {
    f.problem(
      join(path, 'type'),
      `unknown check type ${type === undefined ? '(missing)' : echo(type)} (expected one of: ${Object.keys(checkKinds).join(', ')})`,
    );
    return undefined;
  }
  const kind = checkKinds[type];
  f.object(raw, path, checkFieldNames(type));
  if (raw.description !== undefined) f.string(raw.description, join(path, 'description'));
  checkPlaceholders(raw, path, f, secretNames);
  const policy = readPolicy(raw, path, f, defaults);
  const spec = kind.parse(raw, path, f);
  if (!policy || spec === undefined) return undefined;
  return { name, type, policy, spec } as PlanCheck;
}

function readPolicy(
  value: unknown,
  path: string,
  f: Fields,
  base: CheckPolicy,
  allowed?: readonly string[],
): CheckPolicy | undefined {
  const raw = f.object(value, path, allowed);
  if (!raw) return undefined;
  const before = f.issues.length;
  const pick = <T>(key: string, read: (v: unknown, at: string) => T | undefined, fallback: T): T => {
    if (raw[key] === undefined) return fallback;
    return read(raw[key], join(path, key)) ?? fallback;
  };
  const policy: CheckPolicy = {
    initialDelayMs: pick('initialDelay', (v, at) => f.duration(v, at, 3_600_000), base.initialDelayMs),
    count: pick('count', (v, at) => atLeastOne(f, v, at), base.count),
    intervalMs: pick('interval', (v, at) => f.duration(v, at, 3_600_000), base.intervalMs),
    timeoutMs: pick('timeout', (v, at) => positive(f, f.duration(v, at, 900_000), at), base.timeoutMs),
    failureLimit: pick('failureLimit', (v, at) => f.integer(v, at, 0, 10_000), base.failureLimit),
    consecutiveErrorLimit: pick(
      'consecutiveErrorLimit',
      (v, at) => f.integer(v, at, 0, 10_000),
      base.consecutiveErrorLimit,
    ),
    consecutiveSuccesses: pick(
      'consecutiveSuccesses',
      (v, at) => f.integer(v, at, 0, 10_000),
      base.consecutiveSuccesses,
    ),
    inconclusiveLimit: pick('inconclusiveLimit', (v, at) => f.integer(v, at, 0, 10_000), base.inconclusiveLimit),
    dryRun: pick('dryRun', (v, at) => f.boolean(v, at), base.dryRun),
  };
  if (policy.consecutiveSuccesses > policy.count) {
    f.problem(join(path, 'consecutiveSuccesses'), `cannot exceed count (${policy.count})`);
  }
  return f.issues.length > before ? undefined : policy;
}

/** `count`: a deciding check needs at least one measurement, so 0 (or less) is refused by name. */
function atLeastOne(f: Fields, v: unknown, at: string): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v < 1) {
    return f.problem(at, `must be at least 1, got ${v}: a check passes only on a measurement that passed`);
  }
  return f.integer(v, at, 1, 10_000);
}

function positive(f: Fields, ms: number | undefined, at: string): number | undefined {
  if (ms === 0) return f.problem(at, 'must be more than 0');
  return ms;
}

/**
 * The checks that decide `hook`: its entry under any of its names (`PreTraffic` is `BeforeAllowTraffic`),
 * else `*`; resolved by `hookEntry`, the one resolution every caller shares.
 * Throws a `PlanError` naming the hook and the keys the plan has when none applies.
 */
export function checksForHook(plan: Plan, hook: string): { key: string; checks: PlanCheck[] } {
  const keys = Object.keys(plan.hooks);
  if (!isKnownHook(hook) || hook === fallbackHook) {
    throw new PlanError([`hooks: ${echo(hook)} is not a hook or stage greenlight runs`]);
  }
  const key = hookEntry(plan.hooks, hook);
  if (key === undefined) {
    const named = canonicalHook(hook) === hook ? hook : `${hook} (${canonicalHook(hook)})`;
    throw new PlanError([
      `hooks: no entry for ${named} and no "${fallbackHook}" fallback (plan has: ${keys.length ? keys.join(', ') : 'no hooks'})`,
    ]);
  }
  const names = plan.hooks[key] ?? [];
  const checks = names.map((n) => {
    if (!Object.hasOwn(plan.checks, n)) throw new PlanError([`hooks.${key}: unknown check ${echo(n)}`]);
    return plan.checks[n] as PlanCheck;
  });
  return { key, checks };
}

/** The deepest nesting a plan may have (the YAML reader's limit too). */
const maxPlanDepth = 64;

/** Whether `value` nests objects or arrays deeper than `limit`, found without recursion. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
