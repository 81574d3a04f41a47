import { randomBytes } from 'node:crypto';
import { checksForHook, type Plan } from '../../lib/plan/schema.ts';
import { checkTable, formatSeconds, type Output, styled } from '../render.ts';
import type { StepResult } from './types.ts';

/** Shared by the drivers: how a flow's steps and the deployment's own events look in the terminal. */

export function flowHeader(out: Output, title: string, detail: string): void {
  out.line();
  out.line(`${out.style('bold', title)}  ${out.style('dim', detail)}`);
}

/** Something the deployment service does itself between hooks (shift traffic, roll back). */
export function deploymentEvent(out: Output, name: string, text: string): void {
  out.line(`  ${out.style('cyan', '·')} ${out.style('cyan', name.padEnd(22))} ${text}`);
}

export function stepHeader(out: Output, name: string, hasChecks: boolean): void {
  out.line(`  ${out.style('bold', '▸')} ${out.style('bold', name)}`);
  if (!hasChecks) out.line(`    ${out.style('dim', 'no checks: the plan lists none for this step')}`);
}

export function stepResult(out: Output, step: StepResult, receiver: string): void {
  const reported = step.reported === undefined ? 'nothing' : styled(out, step.reported);
  const calls = step.invocations > 1 ? `, ${step.invocations} invocations` : '';
  out.line(
    `    ${styled(out, step.status)} in ${formatSeconds(step.durationMs)}${calls}: ${receiver} received ${reported}`,
  );
  if (step.checks.length > 0) {
    for (const line of checkTable(out, step.checks, '      ')) out.line(line);
  }
  if (step.status === 'Failed') {
    for (const reason of step.reasons) out.line(`      ${out.style('red', '✗')} ${reason}`);
  }
}

export function skippedSteps(out: Output, names: readonly string[]): void {
  if (names.length === 0) return;
  out.line(`  ${out.style('dim', `skipped, the deployment failed: ${names.join(', ')}`)}`);
}

export function skipped(name: string): StepResult {
  return { name, status: 'Skipped', reasons: [], checks: [], measurements: [], durationMs: 0, invocations: 0 };
}

/** A deployment id of CodeDeploy's form (d- and nine characters), different on every run. */
export function codeDeployId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return `d-${[...randomBytes(9)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/** Whether the plan gives this hook or stage any checks (a plan without an entry fails the step, it does not skip it). */
export function planHasChecks(plan: Plan, step: string): boolean {
  try {
    return checksForHook(plan, step).checks.length > 0;
  } catch {
    return false;
  }
}
