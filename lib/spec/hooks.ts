/** Every hook or stage name a plan's `hooks` may map, by the trigger that runs it. */
export const codeDeployHooks = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

export const ecsStages = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
] as const;

export const waitHooks = ['ReadyWait', 'TerminationWait'] as const;

export const protonHooks = ['ProtonPipeline'] as const;

/** SAM's names for the Lambda platform's traffic hooks (`DeploymentPreference.Hooks`). */
export const hookAliases: ReadonlyMap<string, string> = new Map([
  ['PreTraffic', 'BeforeAllowTraffic'],
  ['PostTraffic', 'AfterAllowTraffic'],
]);

export const fallbackHook = '*';

export const knownHooks: readonly string[] = [
  ...codeDeployHooks,
  ...hookAliases.keys(),
  ...ecsStages,
  ...waitHooks,
  ...protonHooks,
  fallbackHook,
];

/** Whether `name` is a hook or stage name a plan may use (`*` included). */
export function isKnownHook(name: string): boolean {
  return knownHooks.includes(name);
}

/** The hook's own name: `PreTraffic` is `BeforeAllowTraffic`; any other name is itself. */
export function canonicalHook(name: string): string {
  return hookAliases.get(name) ?? name;
}

/** Every name `hook` goes by: its own and its SAM alias (`BeforeAllowTraffic`, `PreTraffic`). */
export function hookNames(hook: string): string[] {
  const canonical = canonicalHook(hook);
  return [canonical, ...[...hookAliases].filter(([, target]) => target === canonical).map(([alias]) => alias)];
}

/**
 * The key of `hooks` that decides `hook`: its entry under any of its names, else `*`, else `undefined`.
 * The one resolution every trigger, `greenlight check` and `greenlight validate` use. Own keys only, so
 * `toString` or `constructor` never resolve to `Object.prototype`. A plan that maps a hook under two
 * names is refused when parsed (see `hookCollisions`), so the name it is asked by cannot change the answer.
 */
export function hookEntry(hooks: Readonly<Record<string, unknown>>, hook: string): string | undefined {
  if (!isKnownHook(hook)) return undefined;
  const names = hook === fallbackHook ? [] : hookNames(hook);
  return [...names, fallbackHook].find((k) => Object.hasOwn(hooks, k));
}

/** `[alias, canonical]` pairs that `keys` both map: the same hook given twice. */
export function hookCollisions(keys: readonly string[]): [string, string][] {
  return [...hookAliases].filter(([alias, canonical]) => keys.includes(alias) && keys.includes(canonical));
}

/**
 * Where the production listener sends traffic at a hook: `blue` (only the original), `shifting` (both,
 * as during an ECS linear or canary shift), `green` (the replacement, once traffic has moved), or
 * `unknown` (a hook greenlight cannot place, such as the Proton guard's or `*`).
 *
 * Read from the hook or stage alone, a fact fixed for the invocation, never from live listener weights
 * (which a concurrent shift or rollback can change while the check runs). CodeDeploy: every hook before
 * AllowTraffic and the ready wait precede any production shift; AfterAllowTraffic and the termination
 * wait follow the whole shift (canary and linear configurations included). ECS native: every stage before
 * PRODUCTION_TRAFFIC_SHIFT precedes it; that stage is the shift; POST_PRODUCTION_TRAFFIC_SHIFT follows it
 * (see "Lifecycle hooks for Amazon ECS service deployments" in the ECS developer guide).
 */
export type ProductionTraffic = 'blue' | 'shifting' | 'green' | 'unknown';

const productionTraffic: ReadonlyMap<string, ProductionTraffic> = new Map<string, ProductionTraffic>([
  ['BeforeInstall', 'blue'],
  ['AfterInstall', 'blue'],
  ['AfterAllowTestTraffic', 'blue'],
  ['BeforeAllowTraffic', 'blue'],
  ['AfterAllowTraffic', 'green'],
  ['ReadyWait', 'blue'],
  ['TerminationWait', 'green'],
  ...ecsStages.map((stage, i): [string, ProductionTraffic] => {
    const shift = ecsStages.indexOf('PRODUCTION_TRAFFIC_SHIFT');
    return [stage, i < shift ? 'blue' : i === shift ? 'shifting' : 'green'];
  }),
]);

/** See `ProductionTraffic`. SAM aliases count as their hook (`PostTraffic` is AfterAllowTraffic). */
export function productionTrafficAt(hook: string | undefined): ProductionTraffic {
  if (hook === undefined) return 'unknown';
  // A Map, not an object: `toString` is no hook.
  return productionTraffic.get(canonicalHook(hook)) ?? 'unknown';
}

/**
 * Whom the deployment's test listener serves at a hook or stage, from the hook alone (a fact fixed for
 * the invocation, never live weights). CodeDeploy ECS: the test listener routes to the original (blue)
 * task set until AllowTestTraffic, so at BeforeInstall and AfterInstall `{{testListenerUrl}}` reaches
 * blue; from AfterAllowTestTraffic on, and in both waits, it reaches green. ECS native: stages before
 * TEST_TRAFFIC_SHIFT see blue; from TEST_TRAFFIC_SHIFT on (invoked with test traffic on the target) green. `unknown`: a hook greenlight cannot place.
 */
export function testTrafficAt(hook: string | undefined): ProductionTraffic {
  if (hook === undefined) return 'unknown';
  return testTraffic.get(canonicalHook(hook)) ?? 'unknown';
}

const testTraffic: ReadonlyMap<string, ProductionTraffic> = new Map<string, ProductionTraffic>([
  ['BeforeInstall', 'blue'],
  ['AfterInstall', 'blue'],
  ['AfterAllowTestTraffic', 'green'],
  ['BeforeAllowTraffic', 'green'],
  ['AfterAllowTraffic', 'green'],
  ['ReadyWait', 'green'],
  ['TerminationWait', 'green'],
  // ECS invokes TEST_TRAFFIC_SHIFT hooks with the test traffic on the target revision (AWS's own sample:
  // testTrafficWeights 100 to it), so from that stage on the test listener reaches green.
  ...ecsStages.map((stage, i): [string, ProductionTraffic] => [
    stage,
    i < ecsStages.indexOf('TEST_TRAFFIC_SHIFT') ? 'blue' : 'green',
  ]),
]);

/**
 * Why `{{testListenerUrl}}` cannot stand for green at `hook`, or undefined when it can (or the hook
 * cannot be placed). A check probing it there would measure blue and call it green.
 */
export function testListenerProblem(hook: string | undefined): string | undefined {
  const at = testTrafficAt(hook);
  if (at !== 'blue' && at !== 'shifting') return undefined;
  return `{{testListenerUrl}} does not reach green at ${hook}: the test listener ${at === 'blue' ? 'still routes to blue' : 'is being moved to green'} there (it reaches green from AfterAllowTestTraffic, ECS native TEST_TRAFFIC_SHIFT); map this check to a later hook, or give a URL that only green serves`;
}
