import { codeDeployAdapter } from '../../lib/aws/codedeploy.ts';
import { listenerAdapter } from '../../lib/aws/elbv2.ts';
import { taskDefinitionAdapter } from '../../lib/aws/task-definitions.ts';
import { taskSetOriginAdapter } from '../../lib/aws/task-sets.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { codeDeployHookTrigger } from '../../lib/triggers/codedeploy/hook.ts';
import { gateDeps } from '../shared/wiring.ts';

/** CodeDeploy AppSpec hooks (ECS and Lambda platforms): reports Succeeded or Failed exactly once. */
export const handler = lambdaHandler((event, context) =>
  runGate(
    codeDeployHookTrigger({
      codedeploy: codeDeployAdapter(),
      listeners: listenerAdapter(),
      taskSets: taskSetOriginAdapter(),
      taskDefinitions: taskDefinitionAdapter(),
      clock: systemClock,
      log: logger,
      settings: { hook: process.env.GREENLIGHT_HOOK, region: process.env.AWS_REGION },
    }),
    gateDeps(),
  )(event, context),
);
