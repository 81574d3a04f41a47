import type { CheckRow } from '../render.ts';
import type { Version } from './demo-service.ts';

/** What became of one hook or stage. `Skipped`: never run, because the deployment had already failed. */
export type StepStatus = 'Succeeded' | 'Failed' | 'Skipped';

export interface MeasurementRecord {
  readonly check: string;
  readonly outcome: string;
  readonly message: string;
  /** Milliseconds since the step started. */
  readonly atMs: number;
}

export interface StepResult {
  /** The hook (CodeDeploy) or lifecycle stage (ECS). */
  readonly name: string;
  readonly status: StepStatus;
  /** What the caller received: `Succeeded` / `Failed` (CodeDeploy), `SUCCEEDED` / `FAILED` (ECS). */
  readonly reported?: string;
  readonly reasons: readonly string[];
  readonly checks: readonly CheckRow[];
  readonly measurements: readonly MeasurementRecord[];
  readonly durationMs: number;
  /** How many times the function was invoked for this step (ECS calls again after IN_PROGRESS). */
  readonly invocations: number;
}

export interface FlowResult {
  readonly driver: string;
  readonly title: string;
  readonly deployment: string;
  readonly steps: readonly StepResult[];
  readonly rolledBack: boolean;
  /** Hooks the deployment service runs again while it rolls back (ECS): they must never block it. */
  readonly rollbackSteps: readonly StepResult[];
  /** Which version the production listener served once the flow ended. */
  readonly productionServes: Version | 'unknown';
  /** The plan parameter the functions routed this deployment to (plan library scenarios); absent: none. */
  readonly plan?: string;
}
