import type { CheckPolicy, CheckRun } from '../core/types.ts';
import { join } from '../spec/fields.ts';
import { testListenerProblem } from '../spec/hooks.ts';
import type { DeploymentContext, PlaceholderName } from '../spec/placeholders.ts';
import { functionBodyBudget } from './body-budget.ts';
import { type AllowPolicy, defaultAllow, deploymentListeners } from './egress.ts';
import type { CheckDeps } from './kind.ts';
import { type CheckKindName, type CheckSpec, checkKinds, type WiredCheckDeps } from './registry.ts';
import { redactedMeasure, type SecretSource, secretReader } from './secrets.ts';

/**
 * A check as a plan declares it: its kind's own fields, and when and how it is measured. Declared here,
 * beside the kinds it ranges over, so that building a run needs nothing from lib/plan (the plan schema
 * names this type `PlanCheck`).
 */
export type CheckEntry = {
  [K in CheckKindName]: {
    readonly name: string;
    readonly type: K;
    readonly policy: CheckPolicy;
    readonly spec: CheckSpec<K>;
    /** The plan's `allow` block, when it has one (copied here so that a check carries where it may probe). */
    readonly allow?: AllowPolicy;
    /** The plan's secrets this check uses as `{{secret:name}}`: references, never values. */
    readonly secrets?: Readonly<Record<string, SecretSource>>;
  };
}[CheckKindName];

/**
 * Turns plan checks into runnable checks for this deployment. Throws a `PlanError` naming the field, or the
 * `SettingError` the wiring kept (`deps.settingError`). Each check probes only where the plan's `allow` and the deployment's listeners say, and reports
 * nothing of its secrets or credential headers.
 */
export function buildRuns(checks: readonly CheckEntry[], context: DeploymentContext, deps: CheckDeps): CheckRun[] {
  // A misconfigured function never passes, not even a hook whose plan entry lists no checks.
  if (deps.settingError) throw deps.settingError;
  const listeners = deploymentListeners(context);
  // One body budget for every check of this invocation (lib/checks/body-budget.ts).
  const bodyBudget = deps.bodyBudget ?? functionBodyBudget();
  const read = secretReader(deps.secrets);
  return checks.map((check) => {
    const path = join('checks', check.name);
    // Evidence from green only: where the test listener still reaches blue, a check probing it measures
    // nothing of green. Every measurement is then an error (never a pass), naming why.
    const blue = usedPlaceholders([check]).has('testListenerUrl') ? testListenerProblem(context.hook) : undefined;
    if (blue !== undefined) {
      return {
        name: check.name,
        kind: check.type,
        policy: check.policy,
        measure: async () => ({ outcome: 'error' as const, message: blue }),
      };
    }
    const kind = checkKinds[check.type];
    // The registry maps each type to its own kind, so this spec fits it.
    const prepared = kind.prepare ? kind.prepare(check.spec as never, context, path) : check.spec;
    const checkDeps: CheckDeps = { ...deps, bodyBudget, egress: { allow: check.allow ?? defaultAllow, ...listeners } };
    const measure = redactedMeasure({
      template: prepared as { headers?: Readonly<Record<string, string>> },
      context,
      secrets: check.secrets,
      path,
      // The registry maps each type to its own kind, so this spec fits it. The ports: the functions pass
      // `WiredCheckDeps`, where the compiler has seen every kind's port wired; a test wires only the ports
      // its checks use, and a port it leaves out fails that check's measurement (an error, never a pass).
      create: (filled) => kind.create(filled as never, checkDeps as WiredCheckDeps, path),
      read,
    });
    return { name: check.name, kind: check.type, policy: check.policy, measure };
  });
}

/** The placeholder names that `checks` use, so that only those need resolving. */
export function usedPlaceholders(checks: readonly CheckEntry[]): Set<PlaceholderName> {
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
