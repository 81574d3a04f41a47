import { codeDeployAdapter } from '../../../lib/aws/codedeploy.ts';
import { listenerAdapter } from '../../../lib/aws/elbv2.ts';
import { taskDefinitionAdapter } from '../../../lib/aws/task-definitions.ts';
import { taskSetOriginAdapter } from '../../../lib/aws/task-sets.ts';
import { systemClock } from '../../../lib/runtime/clock.ts';
import { logger } from '../../../lib/runtime/logger.ts';
import { codeDeployHookTrigger } from '../../../lib/triggers/codedeploy/hook.ts';

/** The codedeploy-hook trigger wired to the real adapters, made per invocation (settings read from the environment then). */
export const codeDeployHook = (env: NodeJS.ProcessEnv = process.env) =>
  codeDeployHookTrigger({
    codedeploy: codeDeployAdapter(),
    listeners: listenerAdapter(),
    taskSets: taskSetOriginAdapter(),
    taskDefinitions: taskDefinitionAdapter(),
    clock: systemClock,
    log: logger,
    settings: { hook: env.GREENLIGHT_HOOK, region: env.AWS_REGION },
  });
