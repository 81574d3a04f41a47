import { eventsAdapter } from '../../lib/aws/events.ts';
import { protonAdapter } from '../../lib/aws/proton.ts';
import { checkDeps, planFromEnv } from '../../lib/aws/wiring.ts';
import { verdictObserver } from '../../lib/gate/observe.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { lambdaHandler } from '../../lib/runtime/lambda.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { metrics } from '../../lib/runtime/metrics.ts';
import { protonPipelineGuardTrigger } from '../../lib/triggers/proton/guard.ts';

/** LEGACY (AWS Proton support ended 2026-10-07): cancels a service pipeline deployment whose checks fail. */
export const handler = lambdaHandler((event, context) =>
  runGate(
    protonPipelineGuardTrigger({
      proton: protonAdapter(),
      clock: systemClock,
      settings: { region: process.env.AWS_REGION },
    }),
    {
      loadPlan: planFromEnv(),
      checks: checkDeps(),
      clock: systemClock,
      log: logger,
      observe: verdictObserver({ events: eventsAdapter(), metrics, log: logger, clock: systemClock }),
      reserve: process.env.GREENLIGHT_REPORT_RESERVE,
    },
  )(event, context),
);
