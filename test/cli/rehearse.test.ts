import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { greenlight, run } from './run-cli.ts';

// Every scenario runs the real functions in a child process, with --fast (100ms probe intervals).
// --no-moto keeps most of them quick; one healthy run goes through moto_server when it is installed.
const rehearse = (args: readonly string[], env?: NodeJS.ProcessEnv) =>
  greenlight(['rehearse', '--fast', ...args], { timeoutMs: 60_000, ...(env ? { env } : {}) });

describe('greenlight rehearse (npm start)', () => {
  it('healthy: every hook succeeds, production moves to green, exit 0 (npm start)', async () => {
    const r = await run('npm', ['start', '--silent', '--', '--fast'], { timeoutMs: 60_000 });

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/greenlight rehearsal: healthy/);
    // Live progress: each measurement as it happens, numbered against the schedule.
    expect(r.stdout).toMatch(/green-health\s+1\/5\s+pass/);
    expect(r.stdout).toMatch(/prod-health\s+5\/5\s+pass/);
    // A verdict table per hook, in CodeDeploy's order.
    const order = ['BeforeInstall', 'AfterInstall', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AfterAllowTraffic'];
    const rows = order.map((hook) =>
      r.stdout.search(new RegExp(`^\\s+(CodeDeploy ECS blue/green)?\\s+${hook}\\s+Succeeded`, 'm')),
    );
    expect(rows.every((i) => i > 0)).toBe(true);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    // Then the ECS native stages, in ECS's order; analyses longer than an invocation resume from hookDetails.
    const stages = [
      'PRE_SCALE_UP',
      'POST_SCALE_UP',
      'TEST_TRAFFIC_SHIFT',
      'POST_TEST_TRAFFIC_SHIFT',
      'PRE_PRODUCTION_TRAFFIC_SHIFT',
      'PRODUCTION_TRAFFIC_SHIFT',
      'POST_PRODUCTION_TRAFFIC_SHIFT',
    ];
    const stageRows = stages.map((stage) =>
      r.stdout.search(new RegExp(`^\\s+(Amazon ECS native blue/green)?\\s+${stage}\\s+Succeeded`, 'm')),
    );
    expect(stageRows.every((i) => i > (rows.at(-1) ?? 0))).toBe(true);
    expect(stageRows).toEqual([...stageRows].sort((a, b) => a - b));
    expect(r.stdout).toMatch(/IN_PROGRESS callBackDelay \d+s, state in hookDetails/);
    expect(r.stdout).toMatch(
      /POST_TEST_TRAFFIC_SHIFT\n[\s\S]*?Succeeded in [\d.]+s, [2-9] invocations: ECS received SUCCEEDED/,
    );
    expect(r.stdout.match(/production listener serves: green/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/As expected for healthy/);
  }, 60_000);

  it('slow-green: fails fast on maxLatency at the first probing hook, rolls back, skips the rest, exit 0', async () => {
    const r = await rehearse(['--scenario', 'slow-green', '--no-moto']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/AfterAllowTestTraffic\n[\s\S]*?Failed in [\d.]+s: CodeDeploy received Failed/);
    expect(r.stdout).toMatch(/green-health\s+fail\s+2 of 5/);
    expect(r.stdout).toMatch(/more than maxLatency 300 ms/);
    expect(r.stdout).toMatch(/rollback\s+AfterAllowTestTraffic failed/);
    expect(r.stdout).toMatch(/skipped, the deployment failed: BeforeAllowTraffic, AfterAllowTraffic/);
    expect(r.stdout).toMatch(/production listener serves: blue/);
    expect(r.stdout).toMatch(/As expected for slow-green/);
  }, 60_000);

  it('failing-green: the first 500 fails the hook at its first measurement and stops the other checks, exit 0', async () => {
    const r = await rehearse(['--scenario', 'failing-green', '--no-moto']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/green-version\s+fail\s+1 of 1/);
    expect(r.stdout).toMatch(/green-health\s+stopped\s+[01] of 5/);
    expect(r.stdout).toMatch(/status 500, expected 200/);
    expect(r.stdout).toMatch(/BeforeAllowTraffic\s+Skipped/);
    expect(r.stdout).toMatch(/POST_TEST_TRAFFIC_SHIFT\s+Failed/);
    expect(r.stdout).toMatch(/PRE_PRODUCTION_TRAFFIC_SHIFT\s+Skipped/);
    expect(r.stdout).toMatch(/production listener serves: blue/);
    expect(r.stdout).toMatch(/As expected for failing-green/);
  }, 60_000);

  it('flaky-green: one failed probe per hook is tolerated by failureLimit 1, every hook succeeds, exit 0', async () => {
    const r = await rehearse(['--scenario', 'flaky-green', '--no-moto']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/green-health\s+2\/5\s+fail\s+GET \S+\/health: status 503, expected 200/);
    expect(r.stdout).toMatch(/green-health\s+pass\s+5 of 5\s+1\s+0\s+4 passed, 1 failed/);
    expect(r.stdout).toMatch(/AfterAllowTraffic\s+Succeeded/);
    expect(r.stdout).toMatch(/As expected for flaky-green/);
  }, 60_000);

  it('says clearly when moto_server is not installed, and still rehearses with the built-in stand-in', async () => {
    const emptyPath = await mkdtemp(join(tmpdir(), 'greenlight-no-moto-'));

    const r = await rehearse(['--scenario', 'failing-green'], { PATH: emptyPath });

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/note: moto_server was not found on PATH/);
    expect(r.stdout).toMatch(/As expected for failing-green/);
  }, 60_000);

  it('exits 1 when the rehearsal does not behave as its scenario expects: a plan that misses a failing green', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-rehearse-'));
    const lenient = join(dir, 'lenient.yaml');
    await writeFile(
      lenient,
      // Only where the test listener reaches green: before that it is still blue (a plan error by name).
      'version: 1\nhooks:\n  BeforeInstall: []\n  AfterInstall: []\n  RECONCILE_SERVICE: []\n  PRE_SCALE_UP: []\n  POST_SCALE_UP: []\n  "*": [home]\nchecks:\n  home:\n    type: http\n    url: "{{testListenerUrl}}/"\n    expect: { status: ["2xx", "5xx"] }\n',
    );

    const r = await rehearse(['--scenario', 'failing-green', '--no-moto', '--plan', lenient]);

    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Not as expected for failing-green/);
    expect(r.stdout).toMatch(/AfterAllowTestTraffic succeeded, expected failed/);
    expect(r.stdout).toMatch(/the deployment did not roll back/);
  }, 60_000);

  it('prints one JSON document with every hook verdict for CI, progress on stderr', async () => {
    const r = await rehearse(['--scenario', 'slow-green', '--no-moto', '--json']);

    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      scenario: string;
      asExpected: boolean;
      exitCode: number;
      moto: boolean;
      flows: {
        driver: string;
        rolledBack: boolean;
        productionServes: string;
        steps: { name: string; status: string; reported?: string }[];
        rollbackSteps: { name: string; status: string; reported?: string }[];
      }[];
    };
    expect(doc).toMatchObject({ scenario: 'slow-green', asExpected: true, exitCode: 0, moto: false });
    expect(doc.flows[0]?.driver).toBe('codedeploy-ecs');
    expect(doc.flows[0]?.rolledBack).toBe(true);
    expect(doc.flows[0]?.steps.map((s) => [s.name, s.status])).toEqual([
      ['BeforeInstall', 'Succeeded'],
      ['AfterInstall', 'Succeeded'],
      ['AfterAllowTestTraffic', 'Failed'],
      ['BeforeAllowTraffic', 'Skipped'],
      ['AfterAllowTraffic', 'Skipped'],
    ]);
    const ecs = doc.flows[1];
    expect(ecs?.driver).toBe('ecs-native');
    expect(ecs?.steps.find((s) => s.status === 'Failed')).toMatchObject({
      name: 'POST_TEST_TRAFFIC_SHIFT',
      reported: 'FAILED',
    });
    // While ECS rolls back it runs the traffic-shift hooks again: greenlight never blocks them.
    expect(ecs?.rollbackSteps.map((s) => [s.name, s.reported])).toEqual([
      ['TEST_TRAFFIC_SHIFT (rollback)', 'SUCCEEDED'],
      ['PRODUCTION_TRAFFIC_SHIFT (rollback)', 'SUCCEEDED'],
    ]);
    expect(ecs?.productionServes).toBe('blue');
    expect(r.stderr).toMatch(/green-health\s+2\/5\s+fail/);
  }, 60_000);

  it('exits 2 for an unknown scenario or an invalid plan, naming what is wrong', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-rehearse-'));
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'version: 1\nhooks: {}\nchecks:\n  x:\n    type: http\n    url: "{{testListenerUrl}}"\n    count: many\n',
    );

    const [unknown, invalid] = await Promise.all([
      rehearse(['--scenario', 'purple-green']),
      rehearse(['--no-moto', '--plan', bad]),
    ]);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /unknown scenario "purple-green" \(scenarios: healthy, slow-green, failing-green, flaky-green, long-bake, three-services\)/,
    );
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/checks\.x\.count: expected an integer/);
  }, 60_000);

  it('rehearses a plan with every check kind against fakes seeded healthy: every hook succeeds, exit 0', async () => {
    const r = await rehearse(['--no-moto', '--plan', 'cli/rehearsal/plan-every-kind.yaml']);

    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Every kind measured, in both deployment kinds, with the live progress view.
    const kinds = {
      'ecs-tasks': 'green-tasks',
      'ecs-service': 'green-service',
      http: 'green-health',
      'target-health': 'green-targets',
      compare: 'blue-vs-green',
      'cloudwatch-alarms': 'alarms',
      'cloudwatch-metric': 'error-rate',
      'lambda-invoke': 'smoke',
      prometheus: 'prometheus-errors',
      datadog: 'datadog-errors',
    };
    for (const check of Object.values(kinds)) {
      expect(r.stdout).toMatch(new RegExp(`\\s${check}\\s+1/\\d+\\s+pass`));
      expect(r.stdout.match(new RegExp(`\\b${check} pass \\d+/\\d+`, 'g'))?.length).toBeGreaterThanOrEqual(2);
    }
    expect(r.stdout).toMatch(/PRE_PRODUCTION_TRAFFIC_SHIFT\s+Succeeded/);
    expect(r.stdout).toMatch(/As expected for healthy/);
  }, 60_000);

  it('rehearses the same plan against failing signals: green stopped tasks fail the first probing hook, rollback, exit 0', async () => {
    const r = await rehearse([
      '--no-moto',
      '--scenario',
      'failing-green',
      '--plan',
      'cli/rehearsal/plan-every-kind.yaml',
    ]);

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/AfterInstall\n[\s\S]*?Failed in [\d.]+s: CodeDeploy received Failed/);
    // Both AfterInstall checks fail on failing signals; the first measured decides, and which one that is
    // depends on the schedule's jitter (per deployment): either is green's stopped tasks.
    expect(r.stdout).toMatch(/green-service: fail: .*1 running of 2 desired|green-tasks: fail: /);
    expect(r.stdout).toMatch(/POST_SCALE_UP\s+Failed/);
    expect(r.stdout).toMatch(/As expected for failing-green/);
  }, 60_000);

  it('with failing signals, each AWS and provider kind fails on its own (a plan of one kind per hook)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-rehearse-'));
    const every = readFileSync('cli/rehearsal/plan-every-kind.yaml', 'utf8');
    const results: Record<string, string> = {};
    for (const check of ['green-targets', 'alarms', 'error-rate', 'smoke', 'prometheus-errors', 'datadog-errors']) {
      const plan = join(dir, `${check}.yaml`);
      // The same checks, only this one mapped, at the first hook where the test listener reaches green.
      await writeFile(
        plan,
        every
          .replace(
            /^hooks:[\s\S]*?^checks:/m,
            `hooks:\n  BeforeInstall: []\n  AfterInstall: []\n  "*": [${check}]\nchecks:`,
          )
          .replace(/^ {2}RECONCILE_SERVICE[\s\S]*?(?=^checks:)/m, ''),
      );
      const r = await rehearse([
        '--no-moto',
        '--flow',
        'codedeploy-ecs',
        '--scenario',
        'failing-green',
        '--plan',
        plan,
      ]);
      // A fail (the signal is past what the check asks), not an error (could not measure).
      const failed = /AfterAllowTestTraffic\s+Failed/.test(r.stdout) && r.stdout.includes(`${check}: fail:`);
      results[check] = `${r.code} ${failed ? 'failed' : 'not a fail'}`;
    }

    expect(results).toEqual({
      'green-targets': '0 failed',
      alarms: '0 failed',
      'error-rate': '0 failed',
      smoke: '0 failed',
      'prometheus-errors': '0 failed',
      'datadog-errors': '0 failed',
    });
  }, 120_000);

  it('explains every scenario and the exit codes with --help', async () => {
    const r = await greenlight(['rehearse', '--help']);

    expect(r.code).toBe(0);
    for (const s of ['healthy', 'slow-green', 'failing-green', 'flaky-green']) expect(r.stdout).toContain(`  ${s}`);
    expect(r.stdout).toMatch(/exit codes: 0 the rehearsal behaved as its scenario expects/);
  });
});
