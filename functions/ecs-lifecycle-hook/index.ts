import { ecsAdapter } from '../../lib/aws/ecs.ts';
import { forwardAdapter, listenerAdapter } from '../../lib/aws/elbv2.ts';
import { stateKeyFromEnv } from '../../lib/aws/state-key.ts';
import { taskDefinitionAdapter } from '../../lib/aws/task-definitions.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { ecsLifecycleHookTrigger } from '../../lib/triggers/ecs/lifecycle-hook.ts';
import { gateDeps } from '../shared/wiring.ts';

/** Amazon ECS native blue/green, linear and canary `AWS_LAMBDA` lifecycle hooks: answers SUCCEEDED, FAILED or IN_PROGRESS. */
export const handler = lambdaHandler((event, context) =>
  runGate(
    ecsLifecycleHookTrigger({
      ecs: ecsAdapter(),
      listeners: listenerAdapter(),
      forwards: forwardAdapter(),
      taskDefinitions: taskDefinitionAdapter(),
      stateKey: stateKeyFromEnv(),
      clock: systemClock,
      log: logger,
      settings: { region: process.env.AWS_REGION },
    }),
    gateDeps(),
  )(event, context),
);
