import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { greenlight } from './run-cli.ts';

let dir: string;

async function file(path: string, text: string): Promise<void> {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), text);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'greenlight-library-'));
  await file(
    'shared/web-standard.yaml',
    'version: 1\nchecks:\n  version:\n    type: http\n    url: "{{testListenerUrl}}/version"\n    expect: { bodyContains: "{{var.expectedVersion}}" }\n',
  );
  await file(
    'codedeploy/AppECS-web/DgpECS-web.yaml',
    'version: 1\ninclude: [web-standard]\nvariables: { expectedVersion: "1.4.2" }\nhooks:\n  AfterAllowTestTraffic: [version]\n',
  );
  await file(
    'ecs/prod/api.yaml',
    'version: 1\ninclude: [web-standard]\nhooks:\n  POST_TEST_TRAFFIC_SHIFT: [version]\n',
  );
  await file('fallback.yaml', 'version: 1\nhooks:\n  BeforeInstall: []\n');
});

describe('greenlight validate --library', () => {
  it('checks every plan of a directory library with its shared sets, naming the plan and field at fault', async () => {
    const r = await greenlight(['validate', '--library', dir]);

    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✓ codedeploy\/AppECS-web\/DgpECS-web/);
    expect(r.stdout).toMatch(/✗ ecs\/prod\/api \(1 problem\)/);
    expect(r.stdout).toContain(
      "checks.version.expect.bodyContains: unknown variable {{var.expectedVersion}} (the plan's variables: none)",
    );
    expect(r.stdout).toMatch(/✗ fallback \(1 problem\):\n.*no deployment's route leads here/);
  });

  it('--route tells which plan a deployment gets: the routed parameter', async () => {
    const r = await greenlight(['validate', '--library', dir, '--route', 'codedeploy/AppECS-web/DgpECS-web', '--json']);

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      plan: join(dir, 'codedeploy/AppECS-web/DgpECS-web.yaml'),
      fallback: false,
    });
  });

  it('--route says the fallback is used, or that there is no plan (exit 1)', async () => {
    const fallback = await greenlight([
      'validate',
      '--library',
      dir,
      '--route',
      'lambda/orders',
      '--fallback',
      join(dir, 'fallback.yaml'),
    ]);
    const none = await greenlight(['validate', '--library', dir, '--route', 'lambda/orders']);

    expect(fallback.code).toBe(0);
    expect(fallback.stdout).toMatch(/✓ fallback plan: .*fallback\.yaml\n {2}looked for: .*lambda\/orders\.yaml/);
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/no plan for this deployment: looked for .*lambda\/orders\.yaml/);
  });

  it('refuses a route that is none of codedeploy/, ecs/, lambda/ with exit 2', async () => {
    const r = await greenlight(['validate', '--library', dir, '--route', 'ecs/only-cluster']);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--route ecs\/only-cluster: expected codedeploy/);
  });
});
