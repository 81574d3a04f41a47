import { type DurableContext, withDurableExecution } from '@aws/durable-execution-sdk-js';
import { readDurableStart, runDurableGate } from '../../lib/gate/durable.ts';
import type { Trigger } from '../../lib/gate/trigger.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { type DurableTriggerName, triggers } from '../shared/triggers.ts';
import { gateDeps } from '../shared/wiring.ts';

/**
 * The durable analysis function (Lambda durable functions): runs, for the entry function that started it,
 * an analysis longer than one invocation: each round of measurements a checkpointed step, durable waits
 * between rounds (no compute billed), the verdict delivered by the execution itself. Its payload names the
 * hook and nothing else (`DurableStart`); the trigger confirms the hook with AWS as the entry function did.
 * Invoked only by greenlight's entry functions, on its alias (the template grants nothing else).
 */
export async function analyse(event: unknown, ctx: DurableContext) {
  // Each replay is an invocation of its own: its request id in every log line, the keys of the last one reset.
  logger.resetKeys();
  logger.addContext(ctx.lambdaContext);
  const start = readDurableStart(event);
  const make =
    start && Object.hasOwn(triggers, start.trigger) ? triggers[start.trigger as DurableTriggerName] : undefined;
  if (!make) {
    logger.error('not a durable start greenlight knows; nothing to decide');
    return { result: 'ignored', reasons: ['not a durable start greenlight knows'] };
  }
  // One runner for every trigger: each reads its own start event, so none needs its types here.
  const trigger: Trigger<unknown, unknown, unknown, unknown> = make();
  return runDurableGate(trigger, gateDeps())(event, ctx);
}

export const handler = withDurableExecution(analyse);
