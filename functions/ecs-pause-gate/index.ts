import { ecsAdapter } from '../../lib/aws/ecs.ts';
import { forwardAdapter, listenerAdapter } from '../../lib/aws/elbv2.ts';
import { asyncInvokeAdapter } from '../../lib/aws/lambda-async.ts';
import { stateKeyFromEnv } from '../../lib/aws/state-key.ts';
import { taskDefinitionAdapter } from '../../lib/aws/task-definitions.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { ecsPauseGateTrigger } from '../../lib/triggers/ecs/pause-gate.ts';
import { gateDeps } from '../shared/wiring.ts';

/** EventBridge `ECS Hook State Change` (HOOK_AWAITING_ACTION) for PAUSE hooks: ContinueServiceDeployment CONTINUE or ROLLBACK. */
export const handler = lambdaHandler((event, context) =>
  runGate(
    ecsPauseGateTrigger({
      ecs: ecsAdapter(),
      listeners: listenerAdapter(),
      forwards: forwardAdapter(),
      taskDefinitions: taskDefinitionAdapter(),
      invoker: asyncInvokeAdapter(),
      stateKey: stateKeyFromEnv(),
      clock: systemClock,
      log: logger,
      settings: { region: process.env.AWS_REGION },
    }),
    gateDeps(),
  )(event, context),
);
