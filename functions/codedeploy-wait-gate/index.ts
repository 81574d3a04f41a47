import { runGate } from '../../lib/gate/run-gate.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { codeDeployWaitGate } from '../shared/triggers/codedeploy-wait-gate.ts';
import { gateDeps } from '../shared/wiring.ts';

/**
 * CodeDeploy blue/green waits (EventBridge): ContinueDeployment on pass, StopDeployment with rollback on
 * fail. The watch for the termination wait and a schedule longer than this invocation run on the durable
 * function (functions/durable-analysis), which decides.
 */
export const handler = lambdaHandler((event, context) => runGate(codeDeployWaitGate(), gateDeps())(event, context));
