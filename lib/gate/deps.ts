import type { StateKeyPort } from '../aws/state-key.ts';
import type { CheckDeps } from '../checks/kind.ts';
import type { Clock } from '../core/types.ts';
import type { PlanRoute } from '../plan/route.ts';
import type { Plan } from '../plan/schema.ts';
import type { Log } from '../runtime/logger.ts';
import type { ObserveVerdict } from './observe.ts';

/** What every trigger needs besides its own AWS ports. */
export interface TriggerDeps {
  /** The plan for the deployment `route` names (lib/plan/load.ts); throws a `NoPlanError` when there is none. */
  readonly loadPlan: (signal: AbortSignal, route?: PlanRoute) => Promise<Plan>;
  readonly checks: CheckDeps;
  readonly clock: Clock;
  readonly log: Log;
  /** Metrics and the verdict event, once the verdict is delivered (never for IN_PROGRESS or a no-op). */
  readonly observe?: ObserveVerdict;
}

/** What a trigger that carries state between invocations needs: the key that authenticates it. */
export interface CarriedStateDeps {
  /** Read only when state is written or read: an analysis that fits one invocation never pays for it. */
  readonly stateKey: StateKeyPort;
}
