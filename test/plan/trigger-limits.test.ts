import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../lib/plan/schema.ts';
import { minutes, scheduleProblem, triggerLimits, triggersOf } from '../../lib/plan/trigger-limits.ts';

describe('trigger limits (issue 11)', () => {
  it('gives every hook or stage at least one trigger, and "*" every trigger', () => {
    expect(triggersOf('AfterAllowTestTraffic')).toEqual(['codedeploy-hook']);
    expect(triggersOf('PreTraffic')).toEqual(['codedeploy-hook']);
    expect(triggersOf('POST_TEST_TRAFFIC_SHIFT')).toEqual(['ecs-lifecycle-hook', 'ecs-pause-gate']);
    expect(triggersOf('ReadyWait')).toEqual(['codedeploy-wait-gate']);
    expect(triggersOf('*')).toEqual(Object.keys(triggerLimits));
  });

  it("holds the limits: CodeDeploy's hour for its hook (less a minute), 24 h for carried analyses", () => {
    expect(minutes(triggerLimits['codedeploy-hook'].maxScheduleMs)).toBe('59 min');
    expect(minutes(triggerLimits['proton-pipeline-guard'].maxScheduleMs)).toBe('14 min');
    expect(minutes(triggerLimits['ecs-lifecycle-hook'].maxScheduleMs)).toBe('1440 min');
  });

  it('says figures in minutes, rounded up to a tenth', () => {
    expect([minutes(60_000), minutes(3_605_000), minutes(4_000), minutes(0)]).toEqual([
      '1 min',
      '60.1 min',
      '0.1 min',
      '0 min',
    ]);
  });

  it('is silent when the schedule fits, and names the check that does not', () => {
    const fits = { name: 'quick', policy: { ...defaultPolicy, count: 3 } };
    const long = { name: 'bake', policy: { ...defaultPolicy, count: 61, intervalMs: 60_000 } };

    expect(scheduleProblem('codedeploy-hook', 'AfterAllowTestTraffic', [fits])).toBeUndefined();
    expect(scheduleProblem('codedeploy-hook', 'AfterAllowTestTraffic', [fits, long])).toMatch(
      /^hooks\.AfterAllowTestTraffic: the schedule can take up to 60\.2 min \(bake\), longer than the 59 min codedeploy-hook allows/,
    );
    expect(scheduleProblem('ecs-lifecycle-hook', 'POST_TEST_TRAFFIC_SHIFT', [fits, long])).toBeUndefined();
  });
});
