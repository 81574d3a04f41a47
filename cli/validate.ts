import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { longestScheduleMs } from '../lib/core/policy.ts';
import { type Plan, parsePlanText } from '../lib/plan/schema.ts';
import { scheduleProblem, type TriggerName, triggerLimits } from '../lib/plan/trigger-limits.ts';
import { PlanError } from '../lib/spec/errors.ts';
import { formatDuration } from '../lib/spec/fields.ts';
import { fallbackHook, hookEntry } from '../lib/spec/hooks.ts';
import { createOutput, table } from './render.ts';

export const validateUsage = `usage: greenlight validate PLAN [--json]

Checks a plan (YAML or JSON) without running it: the same schema the functions load it with. Every
problem is listed with the field it is in, e.g. checks.green-health.expect.status[0]: ...

options:
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
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
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
