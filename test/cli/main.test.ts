import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bin, greenlight, run } from './run-cli.ts';

/** A node older than 24 on this machine (the system's), if there is one. */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    const probe = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (probe.status === 0 && Number(probe.stdout.split('.')[0]) < 24) return candidate;
  }
  return undefined;
}

describe('greenlight (the package bin)', () => {
  it('lists its commands with --help', async () => {
    const r = await greenlight(['--help']);

    expect(r.code).toBe(0);
    for (const command of ['rehearse', 'check', 'validate', 'invoke']) expect(r.stdout).toContain(`  ${command}`);
  });

  it('has --help for every command', async () => {
    const runs = await Promise.all(['rehearse', 'check', 'validate', 'invoke'].map((c) => greenlight([c, '--help'])));

    for (const [i, c] of ['rehearse', 'check', 'validate', 'invoke'].entries()) {
      expect(runs[i]?.code).toBe(0);
      expect(runs[i]?.stdout).toContain(`usage: greenlight ${c}`);
    }
  });

  it('exits 2 for an unknown command or option, and without a command', async () => {
    const unknown = await greenlight(['deploy']);
    const badOption = await greenlight(['validate', '--colour']);
    const nothing = await greenlight([]);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "deploy"/);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/Unknown option '--colour'/);
    expect(nothing.code).toBe(2);
  });

  it('runs on the project Node.js 24 when started by an older node', async () => {
    const node = olderNode() ?? process.execPath;

    const r = await run(node, [bin, 'validate', '--help']);

    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: greenlight validate');
  });
});
