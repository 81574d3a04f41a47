import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { PatternEngineNotLoadedError, usesPatterns } from '../../lib/checks/body-expect.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { entryPoint, esbuildOptions, functionNames } from '../../scripts/build.ts';
import { greenlight } from '../cli/run-cli.ts';

/**
 * re2js (the RE2 engine behind `bodyMatches`) is imported only when a plan uses `bodyMatches`, so the
 * cold start of every other plan skips its ~150 KiB and ~25 ms of evaluation (issue 12). The test suite
 * loads it up front (test/support/load-pattern-engine.ts); these tests prove, in fresh processes that
 * skip that setup file, that every production path loads it itself and refuses the same patterns.
 */

const root = resolve(import.meta.dirname, '../..');
const at = (p: string) => JSON.stringify(join(root, p));
const lookahead = 'ok(?=!)';
const planWith = (expect: Record<string, unknown>) => ({
  version: 1,
  hooks: { '*': ['c'] },
  checks: { c: { type: 'http', url: 'https://green.example/health', expect } },
});

/** The message the suite's (preloaded) parse gives for a pattern: what the fresh processes must give too. */
function problemsInProcess(raw: unknown): string[] {
  try {
    parsePlan(raw);
    return [];
  } catch (error) {
    return [...((error as { issues?: string[] }).issues ?? [String(error)])];
  }
}

/**
 * Runs `body` as an ES module in a fresh Node.js process (no vitest, no setup file) that records every
 * module specifier it resolves in `resolved`, and returns what the script prints as JSON.
 */
function fresh(body: string): Record<string, unknown> {
  const script = `
    import { registerHooks } from 'node:module';
    const resolved = [];
    registerHooks({ resolve(specifier, context, next) { resolved.push(specifier); return next(specifier, context); } });
    const problems = async (f) => { try { await f(); return []; } catch (e) { return e.issues ?? [e.name + ': ' + e.message]; } };
    ${body}
  `;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(out.stderr).toBe('');
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

const refusedInProcess = () => problemsInProcess(planWith({ bodyMatches: lookahead }));

describe('the RE2 engine is loaded by the production plan readers, and only for plans with bodyMatches', () => {
  const refused = refusedInProcess();

  it('the suite refuses a lookahead with the RE2 message (the message the fresh processes must match)', () => {
    expect(refused).toEqual([
      expect.stringMatching(
        /^checks\.c\.expect\.bodyMatches: invalid regular expression \(RE2 syntax; backreferences and lookaround are not supported/,
      ),
    ]);
  });

  it('loadPlan (the functions): a plan without bodyMatches never loads re2js; one with it loads it and is checked', () => {
    const out = fresh(`
      const { loadPlan } = await import(${at('lib/plan/load.ts')});
      const readers = { readFile: async () => { throw new Error('unused'); }, readParameter: async () => { throw new Error('unused'); } };
      const plain = ${JSON.stringify(JSON.stringify(planWith({ bodyContains: 'UP' })))};
      const plainChecks = Object.keys((await loadPlan({ inline: plain }, readers)).checks);
      const afterPlain = resolved.includes('re2js');
      const bad = await problems(() => loadPlan({ inline: ${JSON.stringify(JSON.stringify(planWith({ bodyMatches: lookahead })))} }, readers));
      const good = await problems(() => loadPlan({ inline: ${JSON.stringify(JSON.stringify(planWith({ bodyMatches: '"status":\\s*"UP"' })))} }, readers));
      console.log(JSON.stringify({ plainChecks, afterPlain, afterBodyMatches: resolved.includes('re2js'), bad, good }));
    `);

    expect(out).toEqual({ plainChecks: ['c'], afterPlain: false, afterBodyMatches: true, bad: refused, good: [] });
  });

  it('parsePlanText (the CLI and the rehearsal), from YAML: loads re2js and refuses the pattern with the same message', () => {
    const yaml = `version: 1\nhooks:\n  "*": [c]\nchecks:\n  c:\n    type: http\n    url: https://green.example/health\n    expect:\n      bodyMatches: '${lookahead}'\n`;
    const out = fresh(`
      const { parsePlanText } = await import(${at('lib/plan/schema.ts')});
      const before = resolved.includes('re2js');
      const bad = await problems(() => parsePlanText(${JSON.stringify(yaml)}, 'plan.yaml'));
      console.log(JSON.stringify({ before, bad }));
    `);

    expect(out).toEqual({ before: false, bad: refused });
  });

  it('parsePlanValue (a plan object in ECS hookDetails): loads re2js and refuses the pattern with the same message', () => {
    const out = fresh(`
      const { parsePlanValue } = await import(${at('lib/plan/schema.ts')});
      const bad = await problems(() => parsePlanValue(${JSON.stringify(planWith({ bodyMatches: lookahead }))}));
      console.log(JSON.stringify({ bad }));
    `);

    expect(out).toEqual({ bad: refused });
  });

  it('a synchronous parse without the engine is an internal error, never a plan problem nor a pass', () => {
    const out = fresh(`
      const { parsePlan } = await import(${at('lib/plan/schema.ts')});
      const bad = await problems(() => parsePlan(${JSON.stringify(planWith({ bodyMatches: 'UP' }))}));
      console.log(JSON.stringify({ bad }));
    `);

    expect(out).toEqual({ bad: [`PatternEngineNotLoadedError: ${new PatternEngineNotLoadedError().message}`] });
  });

  it('greenlight validate refuses the pattern with the same message, in its own process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-re2-'));
    const file = join(dir, 'plan.json');
    await writeFile(file, JSON.stringify(planWith({ bodyMatches: lookahead })));

    const r = await greenlight(['validate', file]);

    expect(r.code).toBe(1);
    expect(r.stdout).toContain(refused[0]);
  });

  it('production code reads plans only through the readers that load the engine (no parsePlan outside its module)', async () => {
    const callers: string[] = [];
    for (const dir of ['lib', 'functions', 'cli']) {
      for (const file of await readdir(join(root, dir), { recursive: true })) {
        if (!file.endsWith('.ts') || join(dir, file) === join('lib', 'plan', 'schema.ts')) continue;
        const source = await readFile(join(root, dir, file), 'utf8');
        if (/\bparsePlan\s*\(/.test(source)) callers.push(join(dir, file));
      }
    }

    expect(callers).toEqual([]);
  });

  it('finds bodyMatches at any depth and in arrays, without recursing', () => {
    let deep: unknown = { bodyMatches: 'x' };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;

    expect(usesPatterns(deep)).toBe(true);
    expect(usesPatterns(cyclic)).toBe(false);
    expect(usesPatterns({ checks: { c: { expect: { bodyContains: 'bodyMatches' } } } })).toBe(false);
    expect(usesPatterns('bodyMatches')).toBe(false);
  });
});

describe('in the deployed bundles, what only some plans need is evaluated only when they need it', () => {
  const bundles = new Map<string, Metafile>();

  beforeAll(async () => {
    for (const name of await functionNames(join(root, 'functions'))) {
      const result = await build({
        ...esbuildOptions,
        absWorkingDir: root,
        entryPoints: [entryPoint(name)],
        outdir: join(tmpdir(), 'greenlight-lazy', name),
        metafile: true,
        write: false,
        logLevel: 'silent',
      });
      bundles.set(name, result.metafile);
    }
  }, 120_000);

  /** The inputs an entry reaches through static imports: what the bundle evaluates at module init. */
  function staticallyReached(metafile: Metafile, entry: string): Set<string> {
    const seen = new Set<string>();
    const stack = [entry];
    while (stack.length > 0) {
      const file = stack.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const i of metafile.inputs[file]?.imports ?? []) {
        if (i.kind !== 'dynamic-import' && !i.external) stack.push(i.path);
      }
    }
    return seen;
  }

  it('a plan with bodyMatches is read and checked by bundled code (re2js imported from within the one file)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-re2-bundle-'));
    const entry = `
      import { loadPlan } from ${at('lib/plan/load.ts')};
      const readers = { readFile: async () => '', readParameter: async () => '' };
      const problems = async (inline) => { try { await loadPlan({ inline }, readers); return []; } catch (e) { return e.issues ?? [String(e)]; } };
      console.log(JSON.stringify({
        bad: await problems(${JSON.stringify(JSON.stringify(planWith({ bodyMatches: lookahead })))}),
        good: await problems(${JSON.stringify(JSON.stringify(planWith({ bodyMatches: '^UP$' })))}),
      }));
    `;
    await build({
      ...esbuildOptions,
      absWorkingDir: root,
      stdin: { contents: entry, resolveDir: root, sourcefile: 'entry.ts', loader: 'ts' },
      outdir: dir,
      entryNames: 'index',
      logLevel: 'silent',
    });
    expect((await readdir(dir)).filter((f) => f.endsWith('.mjs'))).toEqual(['index.mjs']);

    const out = spawnSync(process.execPath, [join(dir, 'index.mjs')], { encoding: 'utf8', timeout: 20_000 });

    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ bad: refusedInProcess(), good: [] });
  });

  it.each([
    ['re2js', /node_modules\/re2js\//],
    ['js-yaml', /node_modules\/js-yaml\//],
  ])('%s is bundled but reached only through a dynamic import, from every function', (_name, pattern) => {
    expect(bundles.size).toBeGreaterThan(0);
    for (const [name, metafile] of bundles) {
      const inputs = Object.keys(metafile.inputs);
      expect(
        inputs.some((f) => pattern.test(f)),
        `${name} bundles it`,
      ).toBe(true);
      const eager = [...staticallyReached(metafile, entryPoint(name))].filter((f) => pattern.test(f));
      expect(eager, `${name} evaluates it at module init`).toEqual([]);
    }
  });
});
