import { ecsAdapter } from '../../../lib/aws/ecs.ts';
import { forwardAdapter, listenerAdapter } from '../../../lib/aws/elbv2.ts';
import { taskDefinitionAdapter } from '../../../lib/aws/task-definitions.ts';
import { systemClock } from '../../../lib/runtime/clock.ts';
import { logger } from '../../../lib/runtime/logger.ts';
import { ecsPauseGateTrigger } from '../../../lib/triggers/ecs/pause-gate.ts';

/** The ecs-pause-gate trigger wired to the real adapters, made per invocation (settings read from the environment then). */
export const ecsPauseGate = (env: NodeJS.ProcessEnv = process.env) =>
  ecsPauseGateTrigger({
    ecs: ecsAdapter(),
    listeners: listenerAdapter(),
    forwards: forwardAdapter(),
    taskDefinitions: taskDefinitionAdapter(),
    clock: systemClock,
    log: logger,
    settings: { region: env.AWS_REGION },
  });
