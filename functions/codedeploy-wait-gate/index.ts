import { codeDeployAdapter } from '../../lib/aws/codedeploy.ts';
import { listenerAdapter } from '../../lib/aws/elbv2.ts';
import { eventsAdapter } from '../../lib/aws/events.ts';
import { asyncInvokeAdapter } from '../../lib/aws/lambda-async.ts';
import { stateKeyFromEnv } from '../../lib/aws/state-key.ts';
import { taskSetOriginAdapter } from '../../lib/aws/task-sets.ts';
import { checkDeps, planFromEnv } from '../../lib/aws/wiring.ts';
import { verdictObserver } from '../../lib/gate/observe.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { metrics } from '../../lib/runtime/metrics.ts';
import { codeDeployWaitGateTrigger } from '../../lib/triggers/codedeploy/wait-gate.ts';

/** CodeDeploy blue/green waits (EventBridge): ContinueDeployment on pass, StopDeployment with rollback on fail. */
export const handler = lambdaHandler((event, context) =>
  runGate(
    codeDeployWaitGateTrigger({
      codedeploy: codeDeployAdapter(),
      listeners: listenerAdapter(),
      taskSets: taskSetOriginAdapter(),
      invoker: asyncInvokeAdapter(),
      stateKey: stateKeyFromEnv(),
      clock: systemClock,
      log: logger,
      settings: {
        pollInterval: process.env.GREENLIGHT_WAIT_POLL_INTERVAL,
        watchLimit: process.env.GREENLIGHT_WAIT_WATCH_LIMIT,
        region: process.env.AWS_REGION,
      },
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
