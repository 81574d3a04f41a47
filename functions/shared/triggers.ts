import { codeDeployHook } from './triggers/codedeploy-hook.ts';
import { codeDeployWaitGate } from './triggers/codedeploy-wait-gate.ts';
import { ecsPauseGate } from './triggers/ecs-pause-gate.ts';

/**
 * The triggers whose long analyses run on the durable function, wired to the real adapters. Each entry
 * function imports only its own (functions/shared/triggers/<name>.ts), so its bundle holds one trigger;
 * the durable function imports this table, so it runs what any entry function started, with the same
 * ports and settings.
 */
export const triggers = {
  'codedeploy-hook': codeDeployHook,
  'ecs-pause-gate': ecsPauseGate,
  'codedeploy-wait-gate': codeDeployWaitGate,
} as const;

/** The triggers whose long analyses run on the durable function. */
export type DurableTriggerName = keyof typeof triggers;
