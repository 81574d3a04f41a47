import { runGate } from '../../lib/gate/run-gate.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { codeDeployHook } from '../shared/triggers/codedeploy-hook.ts';
import { gateDeps } from '../shared/wiring.ts';

/**
 * CodeDeploy AppSpec hooks (ECS and Lambda platforms): reports Succeeded or Failed exactly once. A schedule
 * longer than this invocation runs on the durable function (functions/durable-analysis), which reports.
 */
export const handler = lambdaHandler((event, context) => runGate(codeDeployHook(), gateDeps())(event, context));
