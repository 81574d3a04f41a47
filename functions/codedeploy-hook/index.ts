import { codeDeployAdapter } from '../../lib/aws/codedeploy.ts';
import { listenerAdapter } from '../../lib/aws/elbv2.ts';
import { checkDeps, planFromEnv } from '../../lib/aws/wiring.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { codeDeployHook } from '../../lib/triggers/codedeploy-hook.ts';

/** CodeDeploy AppSpec hooks (ECS and Lambda platforms): reports Succeeded or Failed exactly once. */
export const handler = lambdaHandler((event, context) =>
  codeDeployHook({
    codedeploy: codeDeployAdapter(),
    listeners: listenerAdapter(),
    loadPlan: planFromEnv(),
    checks: checkDeps(),
    clock: systemClock,
    log: logger,
    settings: {
      hook: process.env.GREENLIGHT_HOOK,
      reserve: process.env.GREENLIGHT_REPORT_RESERVE,
      region: process.env.AWS_REGION,
    },
  })(event, context),
);
