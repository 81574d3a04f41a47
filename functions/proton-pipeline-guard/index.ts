import { protonAdapter } from '../../lib/aws/proton.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { protonPipelineGuardTrigger } from '../../lib/triggers/proton/guard.ts';
import { gateDeps } from '../shared/wiring.ts';

/** LEGACY (AWS Proton support ended 2026-10-07): cancels a service pipeline deployment whose checks fail. */
export const handler = lambdaHandler((event, context) =>
  runGate(
    protonPipelineGuardTrigger({
      proton: protonAdapter(),
      clock: systemClock,
      settings: { region: process.env.AWS_REGION },
    }),
    gateDeps(),
  )(event, context),
);
