import { describe, expect, it } from 'vitest';
import { greenlight, run } from './run-cli.ts';

/**
 * `npm start -- --scenario long-bake`: a 30-minute watch after AllowTraffic runs through the real CodeDeploy
 * hook function and the real durable analysis function (LocalDurableTestRunner, skipped time), in seconds.
 */
describe('greenlight rehearse --scenario long-bake (durable executions, time skipped)', () => {
  it('hands the 30-minute CodeDeploy bake and the 2-hour PAUSE bake each to one durable execution, shows each durable wait as it happens, and decides both, in seconds', async () => {
    const r = await run('npm', ['start', '--silent', '--', '--scenario', 'long-bake'], { timeoutMs: 90_000 });

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/started a durable execution on DurableAnalysisFunction:live/);
    expect(r.stdout.match(/durable execution gl-codedeploy-hook-[0-9a-f]{40} starts/g)).toHaveLength(1);
    // Each measurement, then a durable wait, in order, minute by minute.
    const waits = r.stdout.match(/waiting 60 s \(durable wait, no compute\) — minute \d+ of 30/g) ?? [];
    expect(waits).toHaveLength(29);
    expect(waits.map((w) => Number(/minute (\d+)/.exec(w)?.[1]))).toEqual(Array.from({ length: 29 }, (_, i) => i + 1));
    const first = r.stdout.indexOf('prod-bake     1/30  pass');
    const firstWait = r.stdout.indexOf('minute 1 of 30');
    const second = r.stdout.indexOf('prod-bake     2/30  pass');
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(firstWait);
    expect(firstWait).toBeLessThan(second);
    expect(r.stdout).toMatch(/prod-bake\s+30\/30\s+pass/);
    expect(r.stdout).toMatch(/Succeeded after 17\d\d\.\ds of bake in [\d.]+s: CodeDeploy received Succeeded/);
    // Then a 2-hour bake on an ECS PAUSE hook: one execution of the PAUSE gate, a measurement every 5 minutes.
    expect(r.stdout).toMatch(/EcsPauseGateFunction returned: "analysis-started"/);
    expect(r.stdout.match(/durable execution gl-ecs-pause-gate-[0-9a-f]{40} starts/g)).toHaveLength(1);
    expect(r.stdout.match(/waiting 300 s \(durable wait, no compute\) — minute \d+ of 120/g)).toHaveLength(24);
    expect(r.stdout).toMatch(/pause-bake\s+25\/25\s+pass/);
    expect(r.stdout).toMatch(/Succeeded after 720\d\.\ds of bake: ECS received CONTINUE/);
    expect(r.stdout).toMatch(/As expected for long-bake/);
    // Thirty minutes of bake in far less real time (the machine may be loaded: a wide bound).
    expect(r.ms).toBeLessThan(80_000);
  }, 90_000);

  it('is listed in the rehearsal help with what it shows', async () => {
    const r = await greenlight(['rehearse', '--help']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /long-bake\s+A 30-minute watch of green after AllowTraffic .* and a 2-hour bake on an ECS PAUSE hook/,
    );
  });
});
