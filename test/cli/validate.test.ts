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
    expect(r.stdout).toMatch(/green-health\s+http\s+5 × every 2s, timeout 5s\s+25s\s+failureLimit 1/);
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
