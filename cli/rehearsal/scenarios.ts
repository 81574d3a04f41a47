import { checksForHook, type Plan } from '../../lib/plan/schema.ts';
import type { Output } from '../render.ts';
import { type GreenBehaviour, slowGreenMs } from './demo-service.ts';
import { longBakeExpected, longBakeShows, rehearseLongBake } from './long-bake.ts';
import type { SignalHealth } from './signals.ts';
import { threeServices } from './three-services.ts';
import type { FlowResult, StepResult } from './types.ts';

/**
 * A rehearsal scenario. A new one is one entry in `scenarios` below: how green answers HTTP (`green`, see
 * demo-service.ts), how the other signals look (`signals`: target health, alarms, metrics, ECS tasks, the
 * smoke function, Prometheus and Datadog; see signals.ts), what it shows, and `check`, which says why a
 * flow did not end as the scenario expects. `--scenario <name>` and `--help` pick it up from the list.
 */
export interface Scenario {
  readonly name: string;
  readonly green: GreenBehaviour;
  readonly signals: SignalHealth;
  /** What the scenario shows, in one or two sentences. */
  readonly shows: string;
  /** What a correct rehearsal ends in, for the summary line. */
  readonly expected: string;
  /** Why this flow did not behave as the scenario expects; empty when it did. */
  check(flow: FlowResult, plan: Plan): string[];
  /** A scenario that runs its own flow instead of the drivers' (long-bake); returns the exit code. */
  readonly rehearse?: (out: Output, options: { readonly verbose: boolean }) => Promise<number>;
}

export const scenarios: readonly Scenario[] = [
  {
    name: 'healthy',
    green: 'healthy',
    signals: 'healthy',
    shows: 'Green is healthy: every hook passes and production traffic moves to green.',
    expected: 'every hook succeeds and production serves green',
    check: (flow) => [...allSucceeded(flow), ...serving(flow, 'green')],
  },
  {
    name: 'slow-green',
    green: 'slow',
    signals: 'healthy',
    shows: `Green answers /health in ${slowGreenMs} ms, over the plan's maxLatency of 300ms. failureLimit 1 tolerates the first slow probe; the second fails the check, the hook fails before its schedule ends (fail fast), and the deployment rolls back to blue.`,
    expected: 'the first probing hook fails fast on latency and the deployment rolls back to blue',
    check: (flow, plan) => {
      const problems = failedAtFirstProbe(flow, plan);
      const step = firstProbing(flow, plan);
      if (step?.status === 'Failed') {
        if (!step.reasons.some((r) => r.includes('maxLatency')))
          problems.push(`${step.name} did not fail on maxLatency`);
        const decided = step.checks.filter((c) => c.status === 'fail');
        if (!decided.some((c) => c.count !== undefined && c.taken < c.count)) {
          problems.push(`${step.name} did not stop before its schedule ended`);
        }
      }
      return [...problems, ...serving(flow, 'blue')];
    },
  },
  {
    name: 'failing-green',
    green: 'failing',
    signals: 'failing',
    shows:
      'Green answers 500. The first probe fails the hook at once: the other checks are stopped, the remaining hooks never run, and the deployment rolls back to blue.',
    expected: 'the first probing hook fails at its first measurement and the deployment rolls back to blue',
    check: (flow, plan) => {
      const problems = failedAtFirstProbe(flow, plan);
      const step = firstProbing(flow, plan);
      if (step?.status === 'Failed' && !step.checks.some((c) => c.status === 'fail' && c.taken === 1)) {
        problems.push(`${step.name} was not decided at the first measurement`);
      }
      return [...problems, ...serving(flow, 'blue')];
    },
  },
  {
    name: 'flaky-green',
    green: 'flaky',
    signals: 'healthy',
    shows:
      'Green fails one /health probe in every hook (503). failureLimit 1 tolerates one failed probe in five, so every hook passes and production moves to green; a second failure in the same hook would have failed it.',
    expected: 'every hook succeeds, with failed probes tolerated within failureLimit',
    check: (flow) => {
      const problems = [...allSucceeded(flow), ...serving(flow, 'green')];
      const tolerated = flow.steps.flatMap((s) => s.measurements).filter((m) => m.outcome === 'fail');
      if (tolerated.length === 0) problems.push('no failed probe was seen, so no failure limit was exercised');
      return problems;
    },
  },
  // Its own flow: cli/rehearsal/long-bake.ts (durable executions, time skipped).
  {
    name: 'long-bake',
    green: 'healthy',
    signals: 'healthy',
    shows: longBakeShows,
    expected: longBakeExpected,
    check: () => [],
    rehearse: rehearseLongBake,
  },
  threeServices,
];

export function findScenario(name: string): Scenario | undefined {
  return scenarios.find((s) => s.name === name);
}

function allSucceeded(flow: FlowResult): string[] {
  return flow.steps.filter((s) => s.status !== 'Succeeded').map((s) => `${s.name} ${s.status.toLowerCase()}`);
}

/** The first hook or stage for which the plan has checks: the first that probes green. */
function firstProbing(flow: FlowResult, plan: Plan): StepResult | undefined {
  return flow.steps.find((s) => {
    try {
      return checksForHook(plan, s.name).checks.length > 0;
    } catch {
      return false;
    }
  });
}

function failedAtFirstProbe(flow: FlowResult, plan: Plan): string[] {
  const step = firstProbing(flow, plan);
  if (!step) return ['the plan probes no hook'];
  const problems: string[] = [];
  const index = flow.steps.indexOf(step);
  for (const earlier of flow.steps.slice(0, index)) {
    if (earlier.status !== 'Succeeded') problems.push(`${earlier.name} ${earlier.status.toLowerCase()}`);
  }
  if (step.status !== 'Failed') problems.push(`${step.name} ${step.status.toLowerCase()}, expected failed`);
  for (const later of flow.steps.slice(index + 1)) {
    if (later.status !== 'Skipped') problems.push(`${later.name} ran after the deployment failed`);
  }
  if (!flow.rolledBack) problems.push('the deployment did not roll back');
  for (const s of flow.rollbackSteps) {
    if (s.status !== 'Succeeded') problems.push(`${s.name} blocked the rollback (${s.status.toLowerCase()})`);
  }
  return problems;
}

function serving(flow: FlowResult, version: 'blue' | 'green'): string[] {
  return flow.productionServes === version ? [] : [`production serves ${flow.productionServes}, expected ${version}`];
}
