import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blockAfter } from '../docs/docs.ts';
import { greenlight } from './run-cli.ts';

describe('greenlight validate on the docs/checks.md examples of issue 15', () => {
  it('accepts the prometheus, datadog, JSON range and judge examples as written', async () => {
    const prometheus = blockAfter('docs/checks.md', '## `prometheus`');
    const datadog = blockAfter('docs/checks.md', '## `datadog`');
    const judge = blockAfter('docs/checks.md', 'With `judge`, a statistical test');
    const ranges = blockAfter('docs/checks.md', '## Ranges on JSON fields');
    const plan = `version: 1
secrets:
  ddApiKey: { ssm: /greenlight/datadog-api-key }
  ddAppKey: { ssm: /greenlight/datadog-app-key }
hooks:
  AfterAllowTestTraffic: [green-error-rate, green-errors-dd, green-vs-blue-judged, green-latency]
checks:
${prometheus}${datadog}${judge}  green-latency:
    type: http
    url: "{{testListenerUrl}}/stats"
${ranges}`;
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-providers-'));
    const file = join(dir, 'plan.yaml');
    await writeFile(file, plan);

    const r = await greenlight(['validate', file]);

    expect(r.stdout + r.stderr).not.toMatch(/not a valid plan/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/green-error-rate\s+prometheus/);
    expect(r.stdout).toMatch(/green-errors-dd\s+datadog/);
    expect(r.stdout).toMatch(/green-vs-blue-judged\s+compare/);
  }, 60_000);

  it('names a typo in a judge setting and a plaintext Datadog key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-providers-'));
    const file = join(dir, 'plan.yaml');
    await writeFile(
      file,
      `version: 1
hooks:
  AfterAllowTestTraffic: [judged, dd]
checks:
  judged:
    type: compare
    judge: { alpah: 0.05 }
  dd:
    type: datadog
    query: avg:system.cpu.user{*}
    apiKey: 0123456789abcdef
    applicationKey: "{{secret:x}}"
    threshold: 90
`,
    );

    const r = await greenlight(['validate', file]);

    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/checks\.judged\.judge\.alpah: unknown field/);
    expect(out).toMatch(/checks\.dd\.apiKey: expected a \{\{secret:name\}\} reference/);
    expect(out).not.toContain('0123456789abcdef');
  }, 60_000);
});
