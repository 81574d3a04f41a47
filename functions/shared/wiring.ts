import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { cloudWatchAdapter } from '../../lib/aws/cloudwatch.ts';
import { durableStartAdapter } from '../../lib/aws/durable-start.ts';
import { ecsChecksAdapter } from '../../lib/aws/ecs-checks.ts';
import { eventsAdapter } from '../../lib/aws/events.ts';
import { lambdaInvokeAdapter } from '../../lib/aws/lambda.ts';
import { lazy } from '../../lib/aws/lazy.ts';
import { secretsAdapter } from '../../lib/aws/secrets.ts';
import { sigv4Adapter } from '../../lib/aws/sigv4.ts';
import { getParameter, getParameters } from '../../lib/aws/ssm.ts';
import { targetHealthAdapter } from '../../lib/aws/target-health.ts';
import type { WiredCheckDeps } from '../../lib/checks/registry.ts';
import { parseResolveOverrides } from '../../lib/checks/resolve.ts';
import { verdictObserver } from '../../lib/gate/observe.ts';
import type { GateDeps } from '../../lib/gate/run-gate.ts';
import { findPlan, type PlanReaders, planSourceFromEnv } from '../../lib/plan/load.ts';
import type { PlanRoute } from '../../lib/plan/route.ts';
import type { Plan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { logger } from '../../lib/runtime/logger.ts';
import { metrics } from '../../lib/runtime/metrics.ts';
import { publishVerdictsVariable, readBooleanSetting, SettingError } from '../../lib/runtime/settings.ts';

/** The check kinds' AWS ports: made once, over SDK clients that are themselves made on first use. */
const checkPorts = lazy(() => ({
  ecs: ecsChecksAdapter(),
  targetHealth: targetHealthAdapter(),
  cloudwatch: cloudWatchAdapter(),
  lambda: lambdaInvokeAdapter(),
  secrets: secretsAdapter(),
  sigv4: sigv4Adapter(),
}));

/**
 * What every function's checks use, wired to the real adapters. Called per invocation, cheap:
 * SDK clients are made on first use. The one place a new check kind's port is added.
 */
export function checkDeps(env: NodeJS.ProcessEnv = process.env): WiredCheckDeps {
  // Read here, where every function and the CLI wire their checks; a bad value must not crash the
  // function at init (no verdict): it is kept and fails the verdict, naming the variable (buildRuns).
  let pinned = new Map<string, string>();
  let settingError: SettingError | undefined;
  try {
    // Pinned names skip DNS and the address rules: the operator chose their address (curl --resolve).
    pinned = parseResolveOverrides(env.GREENLIGHT_RESOLVE);
    readBooleanSetting(publishVerdictsVariable, env[publishVerdictsVariable], true);
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    settingError = error;
  }
  return {
    clock: systemClock,
    pinned,
    ...(settingError ? { settingError } : {}),
    ...checkPorts(),
  };
}

/**
 * Loads the plan for a deployment: routed from the plan library under GREENLIGHT_PLAN_PREFIX (one SSM
 * parameter per deployment, see lib/plan/route.ts), else the fallback GREENLIGHT_PLAN,
 * GREENLIGHT_PLAN_FILE or GREENLIGHT_PLAN_PARAMETER. Logs which plan it chose.
 */
export function planFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): (signal: AbortSignal, route?: PlanRoute) => Promise<Plan> {
  return async (signal, route) => {
    const found = await findPlan(planSourceFromEnv(env), planReaders(env), signal, route);
    // Only with a plan library is there a choice to report.
    if (found.looked.length > 0 || found.refused.length > 0) {
      logger.info('plan for this deployment', {
        planFrom: found.from,
        fallback: found.fallback,
        ...(found.refused.length > 0 ? { routeRefused: found.refused } : {}),
      });
    }
    return found.plan;
  };
}

/** How the functions read plans: files from the bundle, SSM parameters through Powertools' cache. */
export function planReaders(env: NodeJS.ProcessEnv = process.env): PlanReaders {
  return {
    readFile: (path) => readFile(resolve(env.LAMBDA_TASK_ROOT ?? process.cwd(), path), 'utf8'),
    // An edited plan parameter takes effect within a minute, without a redeploy (Powertools' cache).
    readParameter: (name, signal) => getParameter(name, { signal, maxAge: 60 }),
    // A plan created for a deployment is found within a minute too (a missing one is asked again after it).
    readParameters: (names, signal) => getParameters(names, { signal, maxAge: 60 }),
  };
}

/**
 * What the gate runner needs for every function, wired to the real adapters: the plan from the
 * environment, the checks' ports, the clock, the one logger, and the verdict observer (metrics and the
 * verdict event). Called per invocation: settings are read from the environment as it is then.
 */
export function gateDeps(env: NodeJS.ProcessEnv = process.env): GateDeps {
  return {
    loadPlan: planFromEnv(env),
    checks: checkDeps(env),
    clock: systemClock,
    log: logger,
    observe: verdictObserver({ events: eventsAdapter(), metrics, log: logger, clock: systemClock }),
    reserve: env.GREENLIGHT_REPORT_RESERVE,
    ...(env.GREENLIGHT_DURABLE_FUNCTION?.trim()
      ? { durable: { functionArn: env.GREENLIGHT_DURABLE_FUNCTION.trim(), port: durableStartAdapter() } }
      : {}),
  };
}
