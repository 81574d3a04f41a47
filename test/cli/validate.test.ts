import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { greenlight } from './run-cli.ts';

const good = `
version: 1
hooks:
  AfterAllowTestTraffic: [green-health]
  BeforeInstall: []
checks:
  green-health:
    type: http
    url: "{{testListenerUrl}}/health"
    headers: { x-api-key: "never-shown" }
    count: 5
    interval: 2s
    failureLimit: 1
  unused:
    type: http
    url: "https://example.com/"
`;

let dir: string;
let goodFile: string;
let badFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'greenlight-validate-'));
  goodFile = join(dir, 'good.yaml');
  badFile = join(dir, 'bad.yaml');
  await writeFile(goodFile, good);
  await writeFile(
    badFile,
    good
      .replace('status', 'x')
      .replace('count: 5', 'count: five')
      .replace('AfterAllowTestTraffic', 'AfterAlowTestTraffic'),
  );
});

describe('greenlight validate', () => {
  it('accepts a valid plan with exit 0 and shows its hooks and schedules, not its header values', async () => {
    const r = await greenlight(['validate', goodFile]);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/is a valid plan: 2 checks, 2 hook entries/);
    expect(r.stdout).toMatch(/AfterAllowTestTraffic\s+green-health/);
    expect(r.stdout).toMatch(/green-health\s+http\s+5 × every 2s, timeout 5s\s+26s\s+failureLimit 1/);
    expect(r.stdout).toMatch(/unused is not listed under any hook/);
    expect(r.stdout).not.toContain('never-shown');
  });

  it('rejects an invalid plan with exit 1, naming every field at fault', async () => {
    const r = await greenlight(['validate', badFile]);

    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/is not a valid plan \(2 problems\)/);
    expect(r.stdout).toMatch(/checks\.green-health\.count: expected an integer 1-10000, got "five"/);
    expect(r.stdout).toMatch(/hooks\.AfterAlowTestTraffic: unknown hook or stage/);
  });

  it('prints one JSON document for CI, valid or not', async () => {
    const ok = await greenlight(['validate', goodFile, '--json']);
    const bad = await greenlight(['validate', badFile, '--json']);

    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, exitCode: 0, hooks: { BeforeInstall: [] } });
    const doc = JSON.parse(bad.stdout) as { valid: boolean; issues: string[] };
    expect(doc.valid).toBe(false);
    expect(doc.issues).toContainEqual(expect.stringMatching(/^checks\.green-health\.count:/));
    expect(bad.code).toBe(1);
  });

  it.each<[string, string, RegExp]>([
    [
      'count 0 on a check',
      good.replace('count: 5', 'count: 0'),
      /checks\.green-health\.count: must be at least 1, got 0/,
    ],
    [
      'count 0 in defaults',
      good.replace('hooks:', 'defaults: { count: 0 }\nhooks:').replace('    count: 5\n', ''),
      /defaults\.count: must be at least 1, got 0/,
    ],
    [
      'a check name taken from Object.prototype, with no checks',
      'version: 1\nhooks:\n  "*": [toString]\n',
      /hooks\.\*\[0\]: unknown check "toString" \(plan has: no checks\)/,
    ],
    [
      'a hook mapped under its name and its SAM alias',
      good.replace('  BeforeInstall: []', '  BeforeAllowTraffic: [green-health]\n  PreTraffic: [unused]'),
      /hooks\.PreTraffic: PreTraffic is SAM's name for BeforeAllowTraffic, which the plan also maps/,
    ],
    [
      'a 60-minute bake on a CodeDeploy hook',
      good.replace('count: 5', 'count: 61').replace('interval: 2s', 'interval: 1m'),
      /hooks\.AfterAllowTestTraffic: the schedule can take up to 60\.2 min \(green-health\), longer than the 59 min codedeploy-hook allows/,
    ],
  ])('issue 11: refuses %s with exit 1, naming the field', async (_name, text, issue) => {
    // Arrange
    const file = join(dir, `issue11-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text);

    // Act
    const r = await greenlight(['validate', file]);

    // Assert
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(issue);
  });

  it('notes when the "*" entry cannot fit a trigger whose hooks fall back to it, in minutes', async () => {
    // Arrange: fine for the ECS functions, too long for the CodeDeploy hook
    const file = join(dir, 'long-fallback.yaml');
    await writeFile(
      file,
      'version: 1\nhooks:\n  "*": [bake]\nchecks:\n  bake:\n    type: http\n    url: "{{testListenerUrl}}/"\n    count: 61\n    interval: 1m\n',
    );

    // Act
    const r = await greenlight(['validate', file, '--json']);

    // Assert
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { notes: string[] };
    expect(doc.notes).toEqual([
      expect.stringMatching(
        /^hooks\.\*: the schedule can take up to 60\.2 min .*longer than the 59 min codedeploy-hook allows.*\(for BeforeInstall, .*PostTraffic under codedeploy-hook, which would fail\)$/,
      ),
      expect.stringMatching(/14 min proton-pipeline-guard allows.*\(for ProtonPipeline under proton-pipeline-guard/),
    ]);
  });

  it('exits 2 when the file cannot be read or is not given', async () => {
    const missing = await greenlight(['validate', join(dir, 'nope.yaml')]);
    const none = await greenlight(['validate']);

    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.yaml: ENOENT/);
    expect(none.code).toBe(2);
  });

  it('explains itself with --help', async () => {
    const r = await greenlight(['validate', '--help']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: greenlight validate PLAN/);
  });
});
