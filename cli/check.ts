import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkDeps } from '../lib/aws/wiring.ts';
import { buildRuns } from '../lib/checks/build-runs.ts';
import { redact } from '../lib/checks/http.ts';
import { analyze } from '../lib/core/analyze.ts';
import type { CheckResult, CheckRun, Verdict } from '../lib/core/types.ts';
import { checksForHook, type Plan, type PlanCheck, parsePlanText } from '../lib/plan/schema.ts';
import { systemClock } from '../lib/runtime/clock.ts';
import { SettingError } from '../lib/runtime/settings.ts';
import { PlanError } from '../lib/spec/errors.ts';
import { formatDuration } from '../lib/spec/fields.ts';
import { isKnownHook, knownHooks } from '../lib/spec/hooks.ts';
import { type DeploymentContext, type PlaceholderName, placeholderNames } from '../lib/spec/placeholders.ts';
import {
  type CheckRow,
  checkTable,
  createOutput,
  formatSeconds,
  measurementLine,
  type Output,
  styled,
} from './render.ts';

export const checkUsage = `usage: greenlight check --plan FILE --hook NAME [--var name=value ...] [options]

Runs the checks a plan gives a hook, from your laptop or CI, against real endpoints, with the same
engine, schedule and limits as the functions, and prints each measurement as it happens and the
verdict. A dry run: nothing is reported to CodeDeploy or ECS.

options:
  --plan FILE         the plan (YAML or JSON)
  --hook NAME         the hook or stage whose checks run (${knownHooks
    .filter((h) => h !== '*')
    .slice(0, 5)
    .join(', ')}, ...)
  --var name=value    fills {{name}} in the plan (repeatable), e.g. --var testListenerUrl=https://test.example.com
  --resolve host=ip   send probes for host to ip, like curl --resolve (repeatable; same as GREENLIGHT_RESOLVE)
  --json              one JSON document on stdout (progress goes to stderr)
  -h, --help

Probes go only where the plan's \`allow\` block permits: loopback, private and link-local addresses are
refused unless it lists them (a plan that probes http://localhost needs
\`allow: { addresses: [loopback] }\`); names pinned with --resolve skip the address rules.

Header values and query strings are never printed.

exit codes: 0 the verdict is pass, 1 it is not (fail, error, inconclusive), 2 usage or plan error
(the field is named), 130 interrupted.`;

/** `greenlight check`. Returns the exit code. */
export async function checkCommand(argv: readonly string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (error) {
    process.stderr.write(`check: ${(error as Error).message}\n\n${checkUsage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${checkUsage}\n`);
    return 0;
  }
  const out = createOutput({ json: values.json === true });
  const usage = (message: string): number => {
    out.problem(`check: ${message}`);
    out.document({ command: 'check', dryRun: true, error: message, exitCode: 2 });
    return 2;
  };
  if (!values.plan) return usage('--plan FILE is required');
  if (!values.hook) return usage('--hook NAME is required');
  if (!isKnownHook(values.hook) || values.hook === '*') {
    return usage(
      `unknown hook ${JSON.stringify(values.hook)} (hooks and stages: ${knownHooks.filter((h) => h !== '*').join(', ')})`,
    );
  }
  const context: { -readonly [K in PlaceholderName]?: string } = { hook: values.hook };
  for (const pair of values.var ?? []) {
    const i = pair.indexOf('=');
    const name = i > 0 ? pair.slice(0, i) : '';
    if (!name) return usage(`--var expects name=value, got ${JSON.stringify(redactVar(pair))}`);
    if (!(placeholderNames as readonly string[]).includes(name)) {
      return usage(`--var ${name}: not a placeholder (placeholders: ${placeholderNames.join(', ')})`);
    }
    context[name as PlaceholderName] = pair.slice(i + 1);
  }
  const resolve = [...(values.resolve ?? [])];
  for (const pair of resolve) {
    if (!/^[^=,\s]+=[0-9a-fA-F.:]+$/.test(pair)) return usage(`--resolve expects host=ip, got ${JSON.stringify(pair)}`);
  }

  let text: string;
  try {
    text = await readFile(values.plan, 'utf8');
  } catch (error) {
    return usage(
      `cannot read plan ${values.plan}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let plan: Plan;
  let selected: { key: string; checks: PlanCheck[] };
  let runs: CheckRun[];
  try {
    plan = await parsePlanText(text, values.plan);
    selected = checksForHook(plan, values.hook);
    const env = { ...process.env };
    if (resolve.length > 0) env.GREENLIGHT_RESOLVE = [env.GREENLIGHT_RESOLVE, ...resolve].filter(Boolean).join(',');
    runs = buildRuns(selected.checks, context as DeploymentContext, checkDeps(env));
  } catch (error) {
    if (error instanceof SettingError) return usage(error.message);
    if (!(error instanceof PlanError)) throw error;
    return planProblem(out, values.plan, error);
  }

  out.line(
    `${out.style('bold', `greenlight check ${values.hook}`)}  ${out.style('dim', `dry run: nothing is reported · plan ${values.plan}, entry "${selected.key}"`)}`,
  );
  for (const check of selected.checks) out.line(`  ${describeCheck(check, context)}`);
  if (runs.length === 0)
    out.line(`  ${out.style('dim', 'no checks: the plan lists none for this hook, so it passes')}`);

  const controller = new AbortController();
  const interrupt = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  const width = Math.max(12, ...runs.map((r) => r.name.length));
  const taken = new Map<string, number>();
  const started = Date.now();
  let verdict: Verdict;
  try {
    const analysis = await analyze({
      checks: runs,
      clock: systemClock,
      signal: controller.signal,
      // Selected by checksForHook: no checks only when the plan lists none for this hook.
      noChecksPass: runs.length === 0,
      onMeasurement: (run, m) => {
        // Errors are retried and do not count toward count: an error shows the measurement it retries.
        const index = (taken.get(run.name) ?? 0) + 1;
        if (m.outcome !== 'error') taken.set(run.name, index);
        out.line(
          measurementLine(
            out,
            {
              check: run.name,
              outcome: m.outcome,
              message: m.message,
              atMs: m.startedAt - started,
              index,
              count: run.policy.count,
            },
            width,
          ),
        );
      },
    });
    // Without suspendAt the analysis always ends in a verdict.
    verdict = analysis.kind === 'verdict' ? analysis.verdict : failed('the analysis was suspended', started);
  } finally {
    process.removeListener('SIGINT', interrupt);
  }

  const rows = verdict.checks.map((r) => toRow(r, runs));
  out.line();
  out.line(
    `${out.style('bold', 'Verdict')} ${styled(out, verdict.status)} ${out.style('dim', `in ${formatSeconds(verdict.finishedAt - verdict.startedAt)} (dry run: not reported)`)}`,
  );
  if (rows.length > 0) for (const line of checkTable(out, rows, '  ')) out.line(line);
  for (const reason of verdict.reasons)
    out.line(`  ${verdict.status === 'pass' ? '✓' : out.style('red', '✗')} ${reason}`);
  const exitCode = controller.signal.aborted ? 130 : verdict.status === 'pass' ? 0 : 1;
  out.document({
    command: 'check',
    dryRun: true,
    plan: values.plan,
    hook: values.hook,
    planKey: selected.key,
    verdict: {
      status: verdict.status,
      reasons: verdict.reasons,
      durationMs: verdict.finishedAt - verdict.startedAt,
      checks: verdict.checks.map((c) => ({
        name: c.name,
        kind: c.kind,
        status: c.status === 'running' ? 'stopped' : c.status,
        dryRun: c.dryRun,
        reason: c.reason,
        counters: c.counters,
        count: runs.find((r) => r.name === c.name)?.policy.count,
        recent: c.recent,
      })),
    },
    exitCode,
  });
  return exitCode;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: false,
    options: {
      plan: { type: 'string', short: 'p' },
      hook: { type: 'string' },
      var: { type: 'string', multiple: true },
      resolve: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function planProblem(out: Output, file: string, error: PlanError): number {
  const missing = error.issues.filter((i) => i.includes('has no value for this deployment'));
  out.problem(`check: ${file} cannot run:`);
  for (const issue of error.issues) out.problem(`  ${issue}`);
  const names = [...new Set(missing.flatMap((i) => [...i.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1])))];
  if (names.length > 0) out.problem(`  (give it with ${names.map((n) => `--var ${n}=...`).join(' ')})`);
  out.document({ command: 'check', dryRun: true, plan: file, error: 'plan error', issues: error.issues, exitCode: 2 });
  return 2;
}

/** `green-health  http GET https://host/health  5 × 1s, failureLimit 1`: never header values or a query. */
function describeCheck(check: PlanCheck, context: DeploymentContext): string {
  const p = check.policy;
  const schedule = [
    `${p.count} × ${formatDuration(p.intervalMs)}`,
    p.initialDelayMs > 0 ? `after ${formatDuration(p.initialDelayMs)}` : '',
    `timeout ${formatDuration(p.timeoutMs)}`,
    p.failureLimit > 0 ? `failureLimit ${p.failureLimit}` : '',
    p.consecutiveErrorLimit > 0 ? `consecutiveErrorLimit ${p.consecutiveErrorLimit}` : '',
    p.consecutiveSuccesses > 0 ? `consecutiveSuccesses ${p.consecutiveSuccesses}` : '',
    p.dryRun ? 'dry run (never decides)' : '',
  ].filter(Boolean);
  let target = '';
  if (check.type === 'http') {
    const url = check.spec.url.replace(
      /\{\{\s*(\w+)\s*\}\}/g,
      (whole, name: string) => context[name as PlaceholderName] ?? whole,
    );
    target = ` ${check.spec.method} ${redact(url)}`;
  }
  return `${check.name.padEnd(14)} ${check.type}${target}  (${schedule.join(', ')})`;
}

function toRow(result: CheckResult, runs: readonly CheckRun[]): CheckRow {
  const count = runs.find((r) => r.name === result.name)?.policy.count;
  return {
    name: result.name,
    kind: result.kind,
    // A check still running when the verdict came was stopped by it (fail fast or an interrupt).
    status: result.status === 'running' ? 'stopped' : result.status,
    dryRun: result.dryRun,
    // Measurements that count toward count; errors are retried and shown in their own column.
    taken: result.counters.taken - result.counters.errors,
    ...(count !== undefined ? { count } : {}),
    failures: result.counters.failures,
    errors: result.counters.errors,
    reason: result.reason,
  };
}

function failed(reason: string, at: number): Verdict {
  return { status: 'error', reasons: [reason], checks: [], startedAt: at, finishedAt: Date.now() };
}

/** A `--var` echoed in an error: the name only, since the value may carry a secret. */
function redactVar(pair: string): string {
  const i = pair.indexOf('=');
  return i >= 0 ? `${pair.slice(0, i)}=…` : pair;
}
