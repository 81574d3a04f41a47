import { runGate } from '../../lib/gate/run-gate.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { ecsPauseGate } from '../shared/triggers/ecs-pause-gate.ts';
import { gateDeps } from '../shared/wiring.ts';

/**
 * EventBridge `ECS Hook State Change` (HOOK_AWAITING_ACTION) for PAUSE hooks: ContinueServiceDeployment
 * CONTINUE or ROLLBACK. A schedule longer than this invocation runs on the durable function
 * (functions/durable-analysis), which decides.
 */
export const handler = lambdaHandler((event, context) => runGate(ecsPauseGate(), gateDeps())(event, context));
