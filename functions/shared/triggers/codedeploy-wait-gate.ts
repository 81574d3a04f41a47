import { codeDeployAdapter } from '../../../lib/aws/codedeploy.ts';
import { listenerAdapter } from '../../../lib/aws/elbv2.ts';
import { taskDefinitionAdapter } from '../../../lib/aws/task-definitions.ts';
import { taskSetOriginAdapter } from '../../../lib/aws/task-sets.ts';
import { systemClock } from '../../../lib/runtime/clock.ts';
import { logger } from '../../../lib/runtime/logger.ts';
import { codeDeployWaitGateTrigger } from '../../../lib/triggers/codedeploy/wait-gate.ts';

/** The codedeploy-wait-gate trigger wired to the real adapters, made per invocation (settings read from the environment then). */
export const codeDeployWaitGate = (env: NodeJS.ProcessEnv = process.env) =>
  codeDeployWaitGateTrigger({
    codedeploy: codeDeployAdapter(),
    listeners: listenerAdapter(),
    taskSets: taskSetOriginAdapter(),
    taskDefinitions: taskDefinitionAdapter(),
    clock: systemClock,
    log: logger,
    settings: {
      pollInterval: env.GREENLIGHT_WAIT_POLL_INTERVAL,
      watchLimit: env.GREENLIGHT_WAIT_WATCH_LIMIT,
      region: env.AWS_REGION,
    },
  });
