import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { WiredCheckDeps } from '../checks/registry.ts';
import { parseResolveOverrides } from '../checks/resolve.ts';
import { loadPlan, planSourceFromEnv } from '../plan/load.ts';
import type { Plan } from '../plan/schema.ts';
import { systemClock } from '../runtime/clock.ts';
import { publishVerdictsVariable, readBooleanSetting, SettingError } from '../runtime/settings.ts';
import { cloudWatchAdapter } from './cloudwatch.ts';
import { ecsChecksAdapter } from './ecs-checks.ts';
import { lambdaInvokeAdapter } from './lambda.ts';
import { lazy } from './lazy.ts';
import { secretsAdapter } from './secrets.ts';
import { sigv4Adapter } from './sigv4.ts';
import { getParameter } from './ssm.ts';
import { targetHealthAdapter } from './target-health.ts';

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

/** Loads the function's plan from GREENLIGHT_PLAN, GREENLIGHT_PLAN_FILE or GREENLIGHT_PLAN_PARAMETER. */
export function planFromEnv(env: NodeJS.ProcessEnv = process.env): (signal: AbortSignal) => Promise<Plan> {
  return (signal) =>
    loadPlan(
      planSourceFromEnv(env),
      {
        readFile: (path) => readFile(resolve(env.LAMBDA_TASK_ROOT ?? process.cwd(), path), 'utf8'),
        // An edited plan parameter takes effect within a minute, without a redeploy (Powertools' cache).
        readParameter: (name, signal) => getParameter(name, { signal, maxAge: 60 }),
      },
      signal,
    );
}
