import { codeDeployAdapter } from '../../lib/aws/codedeploy.ts';
import { ecsAdapter } from '../../lib/aws/ecs.ts';
import { forwardAdapter, listenerAdapter } from '../../lib/aws/elbv2.ts';
import { taskDefinitionAdapter } from '../../lib/aws/task-definitions.ts';
import { taskSetOriginAdapter } from '../../lib/aws/task-sets.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { codeDeployHookTrigger } from '../../lib/triggers/codedeploy/hook.ts';
import { codeDeployWaitGateTrigger } from '../../lib/triggers/codedeploy/wait-gate.ts';
import { ecsPauseGateTrigger } from '../../lib/triggers/ecs/pause-gate.ts';

/**
 * The triggers wired to the real adapters, made per invocation (settings are read from the environment as
 * it is then). The entry functions and the durable function build each trigger here, so that an analysis
 * started by one is run by the other with the same ports and settings.
 */
export const triggers = {
  'codedeploy-hook': (env: NodeJS.ProcessEnv = process.env) =>
    codeDeployHookTrigger({
      codedeploy: codeDeployAdapter(),
      listeners: listenerAdapter(),
      taskSets: taskSetOriginAdapter(),
      taskDefinitions: taskDefinitionAdapter(),
      clock: systemClock,
      log: logger,
      settings: { hook: env.GREENLIGHT_HOOK, region: env.AWS_REGION },
    }),
  'ecs-pause-gate': (env: NodeJS.ProcessEnv = process.env) =>
    ecsPauseGateTrigger({
      ecs: ecsAdapter(),
      listeners: listenerAdapter(),
      forwards: forwardAdapter(),
      taskDefinitions: taskDefinitionAdapter(),
      clock: systemClock,
      log: logger,
      settings: { region: env.AWS_REGION },
    }),
  'codedeploy-wait-gate': (env: NodeJS.ProcessEnv = process.env) =>
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
    }),
} as const;

/** The triggers whose long analyses run on the durable function. */
export type DurableTriggerName = keyof typeof triggers;
