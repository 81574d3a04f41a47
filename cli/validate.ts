import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { longestScheduleMs } from '../lib/core/policy.ts';
import { directoryLibrary } from '../lib/plan/library.ts';
import {
  findPlan,
  NoPlanError,
  type PlanLibrary,
  type PlanReaders,
  prefixProblem,
  ssmLibrary,
} from '../lib/plan/load.ts';
import { type PlanRoute, parseRoute, routeKeys } from '../lib/plan/route.ts';
import { type Plan, parsePlanText } from '../lib/plan/schema.ts';
import { scheduleProblem, type TriggerName, triggerLimits } from '../lib/plan/trigger-limits.ts';
import { PlanError } from '../lib/spec/errors.ts';
import { formatDuration } from '../lib/spec/fields.ts';
import { fallbackHook, hookEntry } from '../lib/spec/hooks.ts';
import { createOutput, table } from './render.ts';

export const validateUsage = `usage: greenlight validate PLAN [--json]
       greenlight validate --library DIR|/SSM/PREFIX/ [--route ROUTE] [--fallback PLAN] [--json]

Checks a plan (YAML or JSON) without running it: the same schema the functions load it with. Every
problem is listed with the field it is in, e.g. checks.green-health.expect.status[0]: ...

With --library, checks every plan of a plan library (a directory that mirrors the SSM layout, or the
SSM parameters under a prefix, as GREENLIGHT_PLAN_PREFIX names it), with the shared check sets they
include. With --route as well, tells which plan that deployment gets: the parameter chosen, or the
fallback, or none.

options:
  --library   a directory, or an SSM path beginning and ending with / (ssm:/path/ to say so; GetParametersByPath)
  --route     codedeploy/<application>/<deploymentGroup>, ecs/<cluster>/<service> or lambda/<function>
  --fallback  the fallback plan file (GREENLIGHT_PLAN, _FILE or _PARAMETER in the functions)
  --json      one JSON document on stdout: {"valid": true, ...} or {"valid": false, "issues": [...]}
  -h, --help

exit codes: 0 the plan is valid, 1 it is not, 2 usage error or the file cannot be read.`;

/** `greenlight validate`. Returns the exit code. */
export async function validateCommand(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`validate: ${(error as Error).message}\n\n${validateUsage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${validateUsage}\n`);
    return 0;
  }
  const out = createOutput({ json: values.json === true });
  if (values.library !== undefined) return libraryCommand(out, values, positionals);
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) {
    out.problem(`validate: expected one plan file\n\n${validateUsage}`);
    out.document({ command: 'validate', error: 'expected one plan file', exitCode: 2 });
    return 2;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const message = `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    out.problem(`validate: ${message}`);
    out.document({ command: 'validate', file, error: message, exitCode: 2 });
    return 2;
  }
  let plan: Plan;
  try {
    plan = await parsePlanText(text, file);
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    out.line(
      `${out.style(['bold', 'red'], '✗')} ${file} is not a valid plan (${plural(error.issues.length, 'problem')}):`,
    );
    for (const issue of error.issues) out.line(`  ${issue}`);
    out.document({ command: 'validate', file, valid: false, issues: error.issues, exitCode: 1 });
    return 1;
  }

  const checks = Object.values(plan.checks);
  out.line(
    `${out.style(['bold', 'green'], '✓')} ${file} is a valid plan: ${plural(checks.length, 'check')}, ${plural(Object.keys(plan.hooks).length, 'hook entry', 'hook entries')}`,
  );
  if (plan.description) out.line(`  ${plan.description}`);
  out.line();
  for (const line of table(
    out,
    ['hook / stage', 'checks'],
    Object.entries(plan.hooks).map(([hook, names]) => [hook, names.length > 0 ? names.join(', ') : '(none: passes)']),
  )) {
    out.line(line);
  }
  out.line();
  for (const line of table(
    out,
    ['check', 'type', 'schedule', 'longest run', 'limits'],
    checks.map((c) => [c.name, c.type, schedule(c.policy), formatDuration(longest(c.policy)), limits(c.policy)]),
  )) {
    out.line(line);
  }
  const unused = checks.filter((c) => !Object.values(plan.hooks).some((names) => names.includes(c.name)));
  for (const c of unused) out.line(`  note: ${c.name} is not listed under any hook, so it never runs`);
  const fallbackNotes = fallbackFit(plan);
  for (const note of fallbackNotes) out.line(`  note: ${note}`);
  out.document({
    command: 'validate',
    file,
    valid: true,
    description: plan.description,
    hooks: plan.hooks,
    checks: checks.map((c) => ({ name: c.name, type: c.type, policy: c.policy, longestRunMs: longest(c.policy) })),
    notes: fallbackNotes,
    exitCode: 0,
  });
  return 0;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      library: { type: 'string' },
      route: { type: 'string' },
      fallback: { type: 'string' },
    },
  });
}

type Policy = Plan['checks'][string]['policy'];

function schedule(p: Policy): string {
  const delay = p.initialDelayMs > 0 ? `after ${formatDuration(p.initialDelayMs)}, ` : '';
  return `${delay}${p.count} × every ${formatDuration(p.intervalMs)}, timeout ${formatDuration(p.timeoutMs)}`;
}

/**
 * How long the check can take when every measurement runs to its timeout and every tolerated error is
 * retried: what must fit in the trigger's time.
 */
function longest(p: Policy): number {
  return longestScheduleMs(p);
}

/**
 * The `*` entry is checked against each trigger's limit for the hooks that fall back to it. Not an error:
 * a plan cannot say which function runs it, and a long `*` suits the ECS functions. Explicit entries
 * that cannot fit are plan errors (the schema refuses them).
 */
function fallbackFit(plan: Plan): string[] {
  const names = Object.hasOwn(plan.hooks, fallbackHook) ? (plan.hooks[fallbackHook] ?? []) : undefined;
  if (names === undefined) return [];
  const checks = names.flatMap((n) =>
    Object.hasOwn(plan.checks, n) ? [plan.checks[n] as Plan['checks'][string]] : [],
  );
  const notes: string[] = [];
  for (const [trigger, limit] of Object.entries(triggerLimits) as [
    TriggerName,
    (typeof triggerLimits)[TriggerName],
  ][]) {
    const falling = limit.hooks.filter((h) => hookEntry(plan.hooks, h) === fallbackHook);
    if (falling.length === 0) continue;
    const problem = scheduleProblem(trigger, fallbackHook, checks);
    if (problem !== undefined) notes.push(`${problem} (for ${falling.join(', ')} under ${trigger}, which would fail)`);
  }
  return notes;
}

function limits(p: Policy): string {
  const parts = [
    p.failureLimit > 0 ? `failureLimit ${p.failureLimit}` : '',
    p.consecutiveErrorLimit > 0 ? `consecutiveErrorLimit ${p.consecutiveErrorLimit}` : '',
    p.consecutiveSuccesses > 0 ? `consecutiveSuccesses ${p.consecutiveSuccesses}` : '',
    p.inconclusiveLimit > 0 ? `inconclusiveLimit ${p.inconclusiveLimit}` : '',
    p.dryRun ? 'dry run' : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

type Output = ReturnType<typeof createOutput>;

/** `greenlight validate --library`: every plan of the library, or (`--route`) the plan one deployment gets. */
async function libraryCommand(
  out: Output,
  values: ReturnType<typeof parse>['values'],
  positionals: readonly string[],
): Promise<number> {
  const given = values.library as string;
  // A directory that exists is read as one; else an SSM path (`ssm:/greenlight/plans/` says so outright).
  const isDir =
    !given.startsWith('ssm:') &&
    (await stat(given).then(
      (st) => st.isDirectory(),
      () => false,
    ));
  const where = given.replace(/^ssm:/, '');
  const usage = (message: string): number => {
    out.problem(`validate: ${message}\n\n${validateUsage}`);
    out.document({ command: 'validate', error: message, exitCode: 2 });
    return 2;
  };
  if (positionals.length > 0) return usage('--library takes no plan file');
  const route = values.route === undefined ? undefined : parseRoute(values.route);
  if (values.route !== undefined && route === undefined) {
    return usage(
      `--route ${values.route}: expected codedeploy/<application>/<deploymentGroup>, ecs/<cluster>/<service> or lambda/<function>`,
    );
  }
  let library: PlanLibrary;
  let list: () => Promise<string[]>;
  if (!isDir) {
    const problem = prefixProblem(where);
    if (problem) return usage(problem.replace('GREENLIGHT_PLAN_PREFIX', '--library'));
    const { getParameters } = await import('../lib/aws/ssm.ts');
    library = ssmLibrary(where, {
      readFile: (path) => readFile(path, 'utf8'),
      readParameter: () => Promise.reject(new Error('not used')),
      readParameters: (names, signal) => getParameters(names, { signal }),
    });
    list = async () =>
      [...(await (await import('../lib/aws/ssm-library.ts')).parametersByPath(where)).keys()].map((k) =>
        k.replace(/^\//, ''),
      );
  } else {
    const dir = directoryLibrary(where);
    library = dir;
    list = () => dir.keys();
  }
  try {
    if (route !== undefined) return await routeReport(out, library, route, values.fallback);
    return await libraryReport(out, where, library, await list());
  } catch (error) {
    const message = `cannot read the plan library ${where}: ${(error as Error).name}: ${(error as Error).message}`;
    out.problem(`validate: ${message}`);
    out.document({ command: 'validate', library: where, error: message, exitCode: 2 });
    return 2;
  }
}

/** Every plan in the library (keys outside shared/), each parsed as the functions would, with its includes. */
async function libraryReport(out: Output, where: string, library: PlanLibrary, keys: string[]): Promise<number> {
  const plans = keys.filter((k) => !k.startsWith('shared/'));
  const results: { key: string; where: string; valid: boolean; issues: readonly string[] }[] = [];
  for (const key of plans) {
    const shown = library.where(key);
    const misplaced = routeOfKey(key);
    if (misplaced !== undefined) {
      results.push({ key, where: shown, valid: false, issues: [misplaced] });
      continue;
    }
    try {
      await findPlan({}, noReaders, undefined, parseRoute(key), library);
      results.push({ key, where: shown, valid: true, issues: [] });
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      results.push({ key, where: shown, valid: false, issues: error.issues });
    }
  }
  const bad = results.filter((r) => !r.valid);
  for (const r of results) {
    if (r.valid) out.line(`${out.style(['bold', 'green'], '✓')} ${r.key}`);
    else {
      out.line(`${out.style(['bold', 'red'], '✗')} ${r.key} (${plural(r.issues.length, 'problem')}):`);
      for (const issue of r.issues) out.line(`  ${issue}`);
    }
  }
  out.line();
  out.line(`${plural(results.length, 'plan')} in ${where}: ${results.length - bad.length} valid, ${bad.length} not`);
  const code = bad.length > 0 || results.length === 0 ? 1 : 0;
  if (results.length === 0)
    out.line('  no plans found (plans live at codedeploy/<app>/<group>, ecs/<cluster>/<service>, lambda/<function>)');
  out.document({ command: 'validate', library: where, valid: code === 0, plans: results, exitCode: code });
  return code;
}

/** Which plan the deployment `route` names gets: routed, the fallback, or none (exit 1). */
async function routeReport(
  out: Output,
  library: PlanLibrary,
  route: PlanRoute,
  fallback: string | undefined,
): Promise<number> {
  const source = fallback === undefined ? {} : { file: fallback };
  try {
    const found = await findPlan(
      source,
      { ...noReaders, readFile: (path) => readFile(path, 'utf8') },
      undefined,
      route,
      library,
    );
    out.line(`${out.style(['bold', 'green'], '✓')} ${found.fallback ? 'fallback plan' : 'plan'}: ${found.from}`);
    out.line(`  looked for: ${found.looked.join(', ') || '(nothing to route on)'}`);
    for (const r of found.refused) out.line(`  skipped: ${r}`);
    out.document({
      command: 'validate',
      route: values(route),
      plan: found.from,
      fallback: found.fallback,
      looked: found.looked,
      valid: true,
      exitCode: 0,
    });
    return 0;
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    const none = error instanceof NoPlanError;
    out.line(`${out.style(['bold', 'red'], '✗')} ${none ? 'no plan for this deployment' : 'the plan is not valid'}:`);
    for (const issue of error.issues) out.line(`  ${issue}`);
    out.document({
      command: 'validate',
      route: values(route),
      valid: false,
      noPlan: none,
      issues: error.issues,
      exitCode: 1,
    });
    return 1;
  }
}

/** Why a library key can never be a deployment's plan (it is not where any route looks), or undefined. */
function routeOfKey(key: string): string | undefined {
  const route = parseRoute(key);
  if (route === undefined || routeKeys(route).keys[0] !== key) {
    return `${key}: no deployment's route leads here (plans live at codedeploy/<application>/<deploymentGroup>, ecs/<cluster>/<service>, lambda/<function>; shared check sets at shared/<name>)`;
  }
  return undefined;
}

function values(route: PlanRoute): readonly string[] {
  return routeKeys(route).keys;
}

const noReaders: PlanReaders = {
  readFile: () => Promise.reject(new Error('not used')),
  readParameter: () => Promise.reject(new Error('not used')),
};
