import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import type { Observation } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import type { DeploymentContext } from '../../lib/spec/placeholders.ts';

/**
 * Runs one measurement of a check the way a trigger does: the plan is parsed (defaults and
 * placeholders included), filled from `context` and created with `deps` (the real wiring in
 * end-to-end tests).
 */
export async function measureOnce(
  check: Record<string, unknown>,
  context: DeploymentContext,
  deps: CheckDeps,
  timeoutMs = 15_000,
): Promise<Observation> {
  // The end-to-end check tests probe servers on 127.0.0.1, which a plan must allow explicitly.
  const plan = parsePlan({
    version: 1,
    allow: { addresses: ['loopback'] },
    hooks: { '*': ['subject'] },
    checks: { subject: check },
  });
  const subject = plan.checks.subject;
  if (!subject) throw new Error('the plan lost its check');
  const [run] = buildRuns([subject], context, deps);
  if (!run) throw new Error('no run built');
  return run.measure(AbortSignal.timeout(timeoutMs));
}

/** The problems a plan with this one check is rejected for (empty when it is accepted). */
export function planProblems(check: Record<string, unknown>): string[] {
  try {
    parsePlan({ version: 1, hooks: { '*': ['subject'] }, checks: { subject: check } });
    return [];
  } catch (error) {
    return [...((error as { issues?: string[] }).issues ?? [String(error)])];
  }
}
