import { ecsAdapter } from '../../lib/aws/ecs.ts';
import { forwardAdapter, listenerAdapter } from '../../lib/aws/elbv2.ts';
import { eventsAdapter } from '../../lib/aws/events.ts';
import { asyncInvokeAdapter } from '../../lib/aws/lambda-async.ts';
import { stateKeyFromEnv } from '../../lib/aws/state-key.ts';
import { checkDeps, planFromEnv } from '../../lib/aws/wiring.ts';
import { verdictObserver } from '../../lib/gate/observe.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { metrics } from '../../lib/runtime/metrics.ts';
import { ecsPauseGateTrigger } from '../../lib/triggers/ecs/pause-gate.ts';

/** EventBridge `ECS Hook State Change` (HOOK_AWAITING_ACTION) for PAUSE hooks: ContinueServiceDeployment CONTINUE or ROLLBACK. */
export const handler = lambdaHandler((event, context) =>
  runGate(
    ecsPauseGateTrigger({
      ecs: ecsAdapter(),
      listeners: listenerAdapter(),
      forwards: forwardAdapter(),
      invoker: asyncInvokeAdapter(),
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
