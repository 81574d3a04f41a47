import { codeDeployAdapter } from '../../lib/aws/codedeploy.ts';
import { listenerAdapter } from '../../lib/aws/elbv2.ts';
import { asyncInvokeAdapter } from '../../lib/aws/lambda-async.ts';
import { stateKeyFromEnv } from '../../lib/aws/state-key.ts';
import { taskDefinitionAdapter } from '../../lib/aws/task-definitions.ts';
import { taskSetOriginAdapter } from '../../lib/aws/task-sets.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { codeDeployWaitGateTrigger } from '../../lib/triggers/codedeploy/wait-gate.ts';
import { gateDeps } from '../shared/wiring.ts';

/** CodeDeploy blue/green waits (EventBridge): ContinueDeployment on pass, StopDeployment with rollback on fail. */
export const handler = lambdaHandler((event, context) =>
  runGate(
    codeDeployWaitGateTrigger({
      codedeploy: codeDeployAdapter(),
      listeners: listenerAdapter(),
      taskSets: taskSetOriginAdapter(),
      taskDefinitions: taskDefinitionAdapter(),
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
    gateDeps(),
  )(event, context),
);
