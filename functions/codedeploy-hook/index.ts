import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { codeDeployAdapter } from '../../lib/aws/codedeploy.ts';
import { listenerAdapter } from '../../lib/aws/elbv2.ts';
import { getParameter } from '../../lib/aws/ssm.ts';
import { overrideLookup, parseResolveOverrides } from '../../lib/checks/resolve.ts';
import { loadPlan, planSourceFromEnv } from '../../lib/plan/load.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { codeDeployHook } from '../../lib/triggers/codedeploy-hook.ts';

/** CodeDeploy AppSpec hooks (ECS and Lambda platforms): reports Succeeded or Failed exactly once. */
export const handler = lambdaHandler((event, context) =>
  codeDeployHook({
    codedeploy: codeDeployAdapter(),
    listeners: listenerAdapter(),
    loadPlan: (signal) =>
      loadPlan(
        planSourceFromEnv(process.env),
        {
          readFile: (path) => readFile(resolve(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), path), 'utf8'),
          readParameter: getParameter,
        },
        Date.now(),
        signal,
      ),
    checks: { clock: systemClock, lookup: overrideLookup(parseResolveOverrides(process.env.GREENLIGHT_RESOLVE)) },
    clock: systemClock,
    log: logger,
    settings: {
      hook: process.env.GREENLIGHT_HOOK,
      reserve: process.env.GREENLIGHT_REPORT_RESERVE,
      region: process.env.AWS_REGION,
    },
  })(event, context),
);
