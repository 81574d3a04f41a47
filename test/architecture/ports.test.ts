import { describe, expect, it } from 'vitest';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { WiredCheckDeps } from '../../lib/checks/registry.ts';
import { analyze } from '../../lib/core/analyze.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';

/** A port that would answer, for the type-level cases below: never called. */
const unused = <T>(): T => ({}) as T;

describe('a check kind names its AWS port beside its code (CheckKind<Spec, Port>)', () => {
  it('the composition root cannot leave out a port a kind names: a missing port is a compile error', () => {
    const complete: WiredCheckDeps = {
      clock: systemClock,
      ecs: unused(),
      targetHealth: unused(),
      cloudwatch: unused(),
      lambda: unused(),
      sigv4: unused(),
      secrets: unused(),
    };
    const { ecs: _ecs, ...withoutEcs } = complete;
    // @ts-expect-error: ecs-service and ecs-tasks name the ECS port; wiring without it does not compile.
    const missing: WiredCheckDeps = withoutEcs;
    // tsc (which checks this file) is the assertion; at run time the object simply lacks the port.
    expect('ecs' in missing).toBe(false);
  });

  it('a port a test leaves out fails that check as an error, never a pass', async () => {
    // Prepare: an ecs-service check built with no ECS port (as a test that wires only HTTP would).
    const plan = parsePlan({
      version: 1,
      hooks: { '*': ['tasks'] },
      checks: { tasks: { type: 'ecs-service' } },
    });
    const runs = buildRuns(
      Object.values(plan.checks),
      { cluster: 'c', service: 's', greenTaskSet: 'ecs-svc/1' },
      { clock: systemClock },
    );

    // Act
    const analysis = await analyze({ checks: runs, clock: systemClock, signal: AbortSignal.timeout(5_000) });

    // Assess
    if (analysis.kind !== 'verdict') throw new Error(`expected a verdict, got ${analysis.kind}`);
    expect(analysis.verdict.status).not.toBe('pass');
    expect(analysis.verdict.checks[0]?.status).toBe('error');
  });
});
