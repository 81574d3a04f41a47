import { ecsAdapter } from '../../lib/aws/ecs.ts';
import { forwardAdapter, listenerAdapter } from '../../lib/aws/elbv2.ts';
import { eventsAdapter } from '../../lib/aws/events.ts';
import { stateKeyFromEnv } from '../../lib/aws/state-key.ts';
import { checkDeps, planFromEnv } from '../../lib/aws/wiring.ts';
import { verdictObserver } from '../../lib/gate/observe.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { metrics } from '../../lib/runtime/metrics.ts';
import { ecsLifecycleHookTrigger } from '../../lib/triggers/ecs/lifecycle-hook.ts';

/** Amazon ECS native blue/green, linear and canary `AWS_LAMBDA` lifecycle hooks: answers SUCCEEDED, FAILED or IN_PROGRESS. */
export const handler = lambdaHandler((event, context) =>
  runGate(
    ecsLifecycleHookTrigger({
      ecs: ecsAdapter(),
      listeners: listenerAdapter(),
      forwards: forwardAdapter(),
      stateKey: stateKeyFromEnv(),
      clock: systemClock,
      log: logger,
      settings: { region: process.env.AWS_REGION },
    }),
    {
      loadPlan: planFromEnv(),
      checks: checkDeps(),
      clock: systemClock,
      log: logger,
      observe: verdictObserver({ events: eventsAdapter(), metrics, log: logger, clock: systemClock }),
      reserve: process.env.GREENLIGHT_REPORT_RESERVE,
    },
  )(event, context),
);
