import type { AnalysisView, CheckView } from '../lib/status/analysis.ts';
import type { DeploymentView, StatusSnapshot, StatusTarget } from '../lib/status/snapshot.ts';
import { deploymentEvent } from './rehearsal/steps.ts';
import { type CheckRow, checkTable, measurementLine, type Output, styled, table } from './render.ts';

/**
 * How `greenlight status` looks: one snapshot as a page (`status`), or a live follow that appends what
 * changed between snapshots (`status --watch`) in the rehearsal's progress style: a header per hook being
 * judged, one line per measurement numbered against the schedule, the deployment's own events, then the
 * verdict table.
 */

/** `12m 5s`, `45s`, `1h 2m`; negative: `overdue 3s`. */
export function formatIn(ms: number): string {
  if (ms < 0) return `overdue ${formatIn(-ms)}`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function describeTarget(target: StatusTarget): string {
  if (target.kind === 'deployment') return `deployment ${target.deploymentId}`;
  if (target.kind === 'service') return `ECS service ${target.cluster}/${target.service}`;
  return `Lambda function ${target.functionName}`;
}

/** The check rows of an analysis, as the rehearsal's verdict tables show them. */
export function checkRows(checks: readonly CheckView[]): CheckRow[] {
  return checks.map((c) => ({
    name: c.name,
    kind: c.kind,
    status: c.status,
    dryRun: c.dryRun,
    taken: c.taken,
    ...(c.count !== undefined ? { count: c.count } : {}),
    failures: c.failures,
    errors: c.errors,
    reason: c.reason,
  }));
}

function deploymentLine(out: Output, d: DeploymentView): string {
  const what = d.source === 'codedeploy' ? `CodeDeploy ${d.platform ?? ''}`.trim() : 'ECS native';
  const status = d.status === undefined ? '' : `  ${styled(out, d.status)}`;
  const stage = d.stage ? `  stage ${d.stage}` : '';
  return `${out.style('bold', `${what} deployment ${shortId(d.id)}`)}${d.group ? `  ${out.style('dim', d.group)}` : ''}${status}${stage}`;
}

function shortId(id: string): string {
  return id.startsWith('arn:') ? (id.split('/').at(-1) ?? id) : id;
}

/** Which hook and plan key an analysis is known to judge: the header is shown again once they are known. */
function judgedOf(a: AnalysisView): string {
  return `${a.hook ?? ''}|${a.planKey ?? ''}`;
}

function analysisHeader(out: Output, a: AnalysisView): string {
  const hook = a.hook ?? '(hook not opened yet)';
  const plan = a.planKey !== undefined ? ` judged by plan key ${out.style('bold', a.planKey)}` : '';
  return `  ${out.style('bold', '▸')} ${out.style('bold', hook)}${plan}  ${out.style('dim', `durable execution ${a.execution.name}`)}`;
}

function phaseLine(out: Output, a: AnalysisView, now: number): string {
  const parts: string[] = [`${a.phase}`];
  if (a.rounds > 0) parts.push(`${a.rounds} round${a.rounds === 1 ? '' : 's'}`);
  if (a.nextAt !== undefined) {
    parts.push(
      `${a.phase === 'watching' ? 'next look at the hook' : 'next measurement'} in ${formatIn(a.nextAt - now)}`,
    );
  }
  if (a.deadline !== undefined && a.verdict?.decision === undefined) {
    parts.push(`verdict due in ${formatIn(a.deadline - now)} (${new Date(a.deadline).toISOString()})`);
  }
  return `    ${out.style('dim', parts.join(' · '))}`;
}

function verdictLines(out: Output, a: AnalysisView): string[] {
  const lines: string[] = [];
  if (a.verdict) {
    const told =
      a.verdict.decision !== undefined ? `: caller told ${styled(out, a.verdict.decision)}` : ': not delivered yet';
    lines.push(`    verdict ${styled(out, a.verdict.status)}${told}`);
    if (a.verdict.status !== 'pass')
      for (const r of a.verdict.reasons) lines.push(`      ${out.style('red', '✗')} ${r}`);
  }
  if (a.problem !== undefined)
    lines.push(`    ${out.style(a.phase === 'failed' ? 'red' : 'yellow', a.phase)}: ${a.problem}`);
  return lines;
}

/** An unstyled Output that hands each line to `write` (tests, and anything that is not a terminal). */
export function textOutput(write: (line: string) => void): Output {
  return {
    json: false,
    line: (text = '') => write(text),
    document: () => undefined,
    problem: (text) => write(text),
    style: (_format, text) => text,
  };
}

/** The page and the live view on one output. */
export function statusView(out: Output) {
  return { page: (s: StatusSnapshot) => snapshotLines(out, s), watch: () => watchView(out) };
}

/** One snapshot as a page of text. */
export function snapshotLines(out: Output, s: StatusSnapshot): string[] {
  const lines: string[] = [`${out.style('bold', 'greenlight status:')} ${describeTarget(s.target)}`];
  for (const d of s.deployments) {
    lines.push('', deploymentLine(out, d));
    for (const t of d.targets) {
      lines.push(`  target ${t.id}${t.status ? `  ${styled(out, t.status)}` : ''}`);
      const rows = t.hooks.map((h) => [
        h.name,
        { text: h.status },
        h.status === 'InProgress' && h.deadline !== undefined ? `hour ends in ${formatIn(h.deadline - s.at)}` : '',
      ]);
      if (rows.length > 0) lines.push(...table(out, ['hook', 'status', ''], rows, '    '));
    }
  }
  for (const j of s.judging) {
    lines.push(
      '',
      `${out.style('bold', 'judging')} ${j.hook} of ${shortId(j.deploymentId)}${j.execution ? '' : out.style('dim', ' (no durable execution: the entry function runs it; see its logs)')}`,
    );
  }
  for (const a of s.analyses) {
    lines.push('', analysisHeader(out, a), phaseLine(out, a, s.at));
    if (a.checks.length > 0) {
      lines.push(
        ...table(
          out,
          ['check', 'result', 'measured', 'left', 'failed', 'errors', 'last'],
          a.checks.map((c) => {
            const last = c.recent.at(-1);
            return [
              c.dryRun ? `${c.name} (dry run)` : c.name,
              { text: c.status },
              c.count !== undefined ? `${c.taken} of ${c.count}` : String(c.taken),
              c.left !== undefined ? String(c.left) : '',
              String(c.failures),
              String(c.errors),
              last ? `${last.outcome}: ${last.message}` : c.reason,
            ];
          }),
          '    ',
        ),
      );
    }
    lines.push(...verdictLines(out, a));
  }
  for (const n of s.notes) lines.push('', out.style('yellow', `note: ${n}`));
  return lines;
}

/**
 * A live follow: fed each snapshot, it writes only what changed since the last one. Measurements are
 * numbered from the engine's counters, so a measurement is shown once however often it is read.
 */
export function watchView(out: Output) {
  const hookStatus = new Map<string, string>();
  const deploymentStatus = new Map<string, string>();
  const seen = new Map<
    string,
    { phase: string; rounds: number; checks: boolean; verdict: string; problem: string; judged: string }
  >();
  const shown = new Map<string, number>();
  let headed = false;

  return {
    update(s: StatusSnapshot): void {
      if (!headed) {
        out.line(`${out.style('bold', 'greenlight status --watch:')} ${describeTarget(s.target)}`);
        for (const n of s.notes) out.line(out.style('yellow', `  note: ${n}`));
        headed = true;
      }
      for (const d of s.deployments) {
        const key = d.id;
        const now = `${d.status ?? ''}|${d.stage ?? ''}`;
        if (deploymentStatus.get(key) !== now) {
          deploymentStatus.set(key, now);
          out.line();
          out.line(deploymentLine(out, d));
        }
        for (const t of d.targets) {
          for (const h of t.hooks) {
            const hk = `${d.id}|${t.id}|${h.name}`;
            if (hookStatus.get(hk) === h.status) continue;
            const first = !hookStatus.has(hk);
            hookStatus.set(hk, h.status);
            // The first snapshot shows only the hooks that have started; later ones every change.
            if (first && h.status === 'Pending') continue;
            const until =
              h.status === 'InProgress' && h.deadline !== undefined
                ? ` (hour ends in ${formatIn(h.deadline - s.at)})`
                : '';
            deploymentEvent(out, h.name, `${styled(out, h.status)}${until}`);
          }
        }
      }
      for (const a of s.analyses) {
        const key = a.execution.arn;
        const before = seen.get(key);
        if (!before || (before.checks === false && a.checks.length > 0)) {
          if (!before || before.judged !== judgedOf(a)) out.line(analysisHeader(out, a));
          if (a.checks.length > 0) out.line(`    running ${a.checks.map((c) => out.style('bold', c.name)).join(', ')}`);
        }
        const width = Math.max(12, ...a.checks.map((c) => c.name.length));
        const started = a.execution.startedAt ?? s.at;
        for (const c of a.checks) {
          const mk = `${key}|${c.name}`;
          const last = shown.get(mk) ?? 0;
          const fresh = c.recent.filter((m) => m.index > last);
          const missed = (fresh[0]?.index ?? last + 1) - last - 1;
          if (missed > 0)
            out.line(
              `    ${out.style('dim', `(${missed} earlier measurement${missed === 1 ? '' : 's'} of ${c.name} not shown)`)}`,
            );
          for (const m of fresh) {
            out.line(
              measurementLine(
                out,
                {
                  check: c.name,
                  outcome: m.outcome,
                  message: m.message,
                  atMs: Math.max(0, m.at - started),
                  index: m.index,
                  ...(c.count !== undefined ? { count: c.count } : {}),
                },
                width,
              ),
            );
          }
          if (fresh.length > 0) shown.set(mk, fresh.at(-1)?.index ?? last);
        }
        const verdict = `${a.verdict?.status ?? ''}|${a.verdict?.decision ?? ''}`;
        const now = {
          phase: a.phase,
          rounds: a.rounds,
          judged: judgedOf(a),
          checks: a.checks.length > 0,
          verdict,
          problem: a.problem ?? '',
        };
        if (before?.phase !== a.phase || before.rounds !== a.rounds) {
          if (a.phase === 'waiting' || a.phase === 'watching' || a.phase === 'opening')
            out.line(phaseLine(out, a, s.at));
        }
        if ((before?.verdict ?? '|') !== verdict || (before?.problem ?? '') !== now.problem) {
          if (a.verdict?.decision !== undefined || a.phase === 'failed' || a.phase === 'closed') {
            for (const line of verdictLines(out, a)) out.line(line);
            if (a.checks.length > 0) for (const line of checkTable(out, checkRows(a.checks), '      ')) out.line(line);
          }
        }
        seen.set(key, now);
      }
    },

    /** The last words of a watch that ended. */
    end(s: StatusSnapshot): void {
      out.line();
      const word = s.outcome === 'pass' ? out.style(['bold', 'green'], 'passed') : out.style(['bold', 'red'], 'failed');
      out.line(
        `${describeTarget(s.target)} ${word}${s.deployments.map((d) => `: ${shortId(d.id)} ${d.status ?? ''}`).join(',')}`,
      );
    },
  };
}
