import type { Clock, Measure } from '../core/types.ts';
import type { SettingError } from '../runtime/settings.ts';
import type { Fields } from '../spec/fields.ts';
import type { DeploymentContext } from '../spec/placeholders.ts';
import type { BodyBudget } from './body-budget.ts';
import type { Egress } from './egress.ts';
import type { CheckPorts } from './registry.ts';
import type { Lookup } from './resolve.ts';
import type { SecretPort } from './secrets.ts';

/**
 * What every check may use, whatever its kind: the clock, name resolution, where probes may go and the
 * body budget. A kind's AWS reads are not here: each kind names its own port (`CheckKind<Spec, Port>`),
 * beside its code, and receives it typed as present.
 */
export interface CheckBase {
  readonly clock: Clock;
  /** How probes resolve host names; DNS when absent. */
  readonly lookup?: Lookup | undefined;
  /** GREENLIGHT_RESOLVE: names sent to an address the operator chose, exempt from the address rules. */
  readonly pinned?: ReadonlyMap<string, string> | undefined;
  /** A GREENLIGHT_* setting the wiring could not read: building the checks throws it, so the verdict fails naming it. */
  readonly settingError?: SettingError | undefined;
  /** Where this check's probes may go: the plan's `allow` and the deployment's listener hosts (set by buildRuns). */
  readonly egress?: Egress | undefined;
  /** Response-body memory shared by every check of one invocation (set by buildRuns). */
  readonly bodyBudget?: BodyBudget | undefined;
  /** Reads the values of the plan's `secrets`. */
  readonly secrets?: SecretPort | undefined;
}

/**
 * What a check run is built with (`buildRuns`): the base and any of the kinds' ports. Every port is
 * optional here so that a test wires only what its checks use; the composition root builds
 * `WiredCheckDeps` (lib/checks/registry.ts), where every port the registry's kinds name is required,
 * so a kind whose port has no adapter does not compile.
 */
export type CheckDeps = CheckBase & Partial<CheckPorts>;

/**
 * One kind of check: how its plan fields are read, and how a measurement is made.
 * `parse` sees the fields with `{{placeholders}}` still in them; `create` sees them filled
 * and may throw a `PlanError` for a value that only becomes invalid once filled (a URL).
 */
export interface CheckKind<Spec, Port extends object = Record<never, never>> {
  // The fields a kind reads, and what each is, are in lib/plan/definitions.ts (the plan's structure,
  // which the JSON Schema is made from too); the compiler asks for an entry there for every kind.
  parse(raw: Record<string, unknown>, path: string, f: Fields): Spec | undefined;
  /**
   * Optional: adjusts a spec to the deployment before its placeholders are filled, for defaults that
   * depend on the trigger (a CodeDeploy green task set, or an ECS native target revision), or to fill a
   * query's placeholders escaped for its language. May throw a `PlanError` naming a field under `path`.
   */
  prepare?(spec: Spec, context: DeploymentContext, path: string): Spec;
  /**
   * Optional: the most response-body bytes one measurement holds in memory at once (0 or absent: none
   * beyond the SDK's small answers). Plan validation sums it over a hook's checks against the function's
   * memory (lib/checks/body-budget.ts).
   */
  bufferedBodyBytes?(spec: Spec): number;
  /**
   * Optional: why this check cannot work at `hook` (a hook or stage name, never `*`), whatever the
   * deployment, so that validation refuses the plan before a deployment finds out; undefined when it can.
   */
  hookProblem?(spec: Spec, hook: string): string | undefined;
  /** `deps` holds this kind's `Port`, typed as present: the kind never checks for it at run time. */
  create(spec: Spec, deps: CheckBase & Port, path: string): Measure;
}
