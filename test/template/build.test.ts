import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBuildTargets } from '../../local/build-targets.ts';
import { ecsDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { startEcsFake } from '../../local/fakes/ecs.ts';
import { readTemplate, type Template } from '../../local/template.ts';
import {
  BuildError,
  type Built,
  bundle,
  durableSdkPackage,
  functionNames,
  loadedAtImport,
} from '../../scripts/build.ts';
import { startHttpTarget } from '../support/http-target.ts';

/**
 * `sam build` and `npm run build` produce the same thing (issue 12). Every function has
 * `BuildMethod: makefile`: SAM CLI's makefile build (aws-lambda-builders, workflows/custom_make) copies
 * the function's CodeUri (here the project) to a scratch folder, leaving out .git and .aws-sam, and runs
 * `make --makefile <CodeUri>/Makefile build-<LogicalId>` there with ARTIFACTS_DIR set to the folder it
 * then zips (`sam build --build-in-source`: in the project itself). sam is not installed here, so this
 * does what it does: a scratch copy of the project (node_modules linked, where SAM copies it: the same
 * files), make run as SAM runs it, and the result compared file by file with `npm run build`, itself run
 * in a copy of its own so that the test leaves the work tree's dist/ alone.
 */

const root = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

let template: Template;
/** LogicalId to function folder, from the Makefile. */
let builds: ReadonlyMap<string, string>;
let functionIds: string[];
let scratch: string;
/** The npm run build copy of the project and the sam build copy, and SAM's ARTIFACTS_DIR per LogicalId. */
let npmCopy: string;
let samCopy: string;
const artifacts = (id: string) => join(scratch, 'artifacts', id);
/** What npm run build printed: a line per function. */
let npmOutput: string;
/** codedeploy-hook's build in memory (in the sam copy), with esbuild's metafile. */
let hookBuild: Built;

/** The project as SAM CLI's CopySourceAction copies it (without .git and .aws-sam), build outputs left out. */
async function copyProject(to: string): Promise<void> {
  const skipped = new Set(['.git', '.aws-sam', 'node_modules', 'dist', 'coverage'].map((n) => join(root, n)));
  await cp(root, to, { recursive: true, filter: (source) => !skipped.has(source) });
  await symlink(join(root, 'node_modules'), join(to, 'node_modules'));
}

/** Every file under `dir`, relative to it, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

beforeAll(async () => {
  template = await readTemplate(join(root, 'template.yaml'));
  builds = await readBuildTargets(root);
  functionIds = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
    .map(([id]) => id)
    .sort();
  scratch = await mkdtemp(join(tmpdir(), 'greenlight-sam-build-'));
  npmCopy = join(scratch, 'npm');
  samCopy = join(scratch, 'sam');
  await Promise.all([copyProject(npmCopy), copyProject(samCopy)]);
  await Promise.all([
    (async () => {
      npmOutput = (await run('npm', ['run', 'build'], { cwd: npmCopy })).stdout;
    })(),
    (async () => {
      for (const id of functionIds) {
        await run('make', ['--makefile', join(samCopy, 'Makefile'), `build-${id}`], {
          cwd: samCopy,
          env: { ...process.env, ARTIFACTS_DIR: artifacts(id) },
        });
      }
    })(),
    (async () => {
      // In the copy: chunk names hash the paths of their inputs relative to the project (node_modules is
      // inside it in a clone and in SAM's copy; in this test, the same link from both copies).
      hookBuild = await bundle('codedeploy-hook', undefined, samCopy);
    })(),
  ]);
}, 60_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('sam build and npm run build', () => {
  it('build every function resource with its Makefile target, and every target builds a function resource', async () => {
    expect([...builds.keys()].sort()).toEqual(functionIds);
    // One target per function folder, and every folder with an entry has one.
    expect([...builds.values()].sort()).toEqual(await functionNames(join(root, 'functions')));
    for (const id of functionIds) {
      // SAM's makefile build reads no BuildProperties: anything there would be silently ignored.
      expect(template.Resources[id]?.Metadata, id).toEqual({ BuildMethod: 'makefile' });
    }
  });

  it('make build-<LogicalId>, run as SAM CLI runs it, writes the same files as npm run build, byte for byte', async () => {
    for (const id of functionIds) {
      const sam = await filesUnder(artifacts(id));
      const npmDir = join(npmCopy, 'dist', builds.get(id) as string);
      const npm = await filesUnder(npmDir);

      expect(sam, id).toEqual(npm);
      expect(sam, id).toContain('index.mjs');
      expect(
        sam.filter((f) => f !== 'index.mjs').every((f) => /^chunks\/[\w-]+-[A-Z0-9]{8}\.mjs$/.test(f)),
        id,
      ).toBe(true);
      for (const file of sam) {
        const same = (await readFile(join(artifacts(id), file))).equals(await readFile(join(npmDir, file)));
        expect(same, `${id}: ${file}`).toBe(true);
      }
    }
  });

  it('refuse to build without a place to build to: make without ARTIFACTS_DIR, the script with --outdir and no single function', async () => {
    const refused = async (file: string, args: string[], env: NodeJS.ProcessEnv) =>
      run(file, args, { cwd: samCopy, env }).then(
        () => 'built',
        (error: { code?: number; stderr?: string }) => `${error.code}: ${error.stderr?.trim()}`,
      );
    const { ARTIFACTS_DIR: _unset, ...env } = process.env;
    const node = join(root, 'node_modules', '.bin', 'node');

    expect(await refused('make', ['build-CodeDeployHookFunction'], env)).toMatch(
      /^2: Makefile:\d+: \*\*\* ARTIFACTS_DIR is not set: sam build sets it; npm run build builds into dist\/\.\s+Stop\.$/,
    );
    expect(await refused(node, ['scripts/build.ts', '--outdir', join(scratch, 'out')], env)).toBe(
      '1: build: --outdir DIR builds exactly one function: node scripts/build.ts --outdir DIR <folder>',
    );
    expect(
      await refused(node, ['scripts/build.ts', '--outdir', join(scratch, 'out'), 'no-such-function'], env),
    ).toMatch(/^1: build: no function folder no-such-function \(functions: codedeploy-hook, /);
    await expect(readdir(join(scratch, 'out'))).rejects.toThrow(/ENOENT/);
  });

  it('ship no source maps, and nothing turns them on (EnableSourceMaps=false)', async () => {
    const globalOptions = (template.Globals?.Function?.Environment as { Variables?: Record<string, unknown> })
      ?.Variables?.NODE_OPTIONS;
    for (const id of functionIds) {
      const own = (template.Resources[id]?.Properties?.Environment as { Variables?: Record<string, unknown> })
        ?.Variables?.NODE_OPTIONS;
      expect(JSON.stringify(own ?? globalOptions ?? ''), id).not.toContain('--enable-source-maps');
      for (const file of await filesUnder(artifacts(id))) {
        expect(file, id).toMatch(/\.mjs$/);
        expect(await readFile(join(artifacts(id), file), 'utf8'), `${id}: ${file}`).not.toContain('sourceMappingURL');
      }
    }
  });

  it('leaves the plan to Plan or PlanParameterName: no function is told to read a plan file neither build ships', () => {
    const variables = [
      template.Globals?.Function?.Environment,
      ...functionIds.map((id) => template.Resources[id]?.Properties?.Environment),
    ].flatMap((e) => Object.keys((e as { Variables?: object } | undefined)?.Variables ?? {}));

    expect(variables).not.toContain('GREENLIGHT_PLAN_FILE');
    expect(variables).toEqual(expect.arrayContaining(['GREENLIGHT_PLAN', 'GREENLIGHT_PLAN_PARAMETER']));
  });

  it('bundle the durable execution SDK into the durable function only: the other functions load as before', async () => {
    // npm run build says it per function, from esbuild's metafile: a line `dist/<name>/  ... KiB in N files (index.mjs ...)`.
    const names = await functionNames(join(root, 'functions'));
    const lines = names.map((name) => npmOutput.split('\n').find((l) => l.startsWith(`dist/${name}/ `)));
    const withSdk = names.filter((_name, i) => lines[i]?.endsWith('(durable execution SDK)'));

    expect(lines.every((l) => l !== undefined)).toBe(true);
    expect(withSdk).toEqual(['durable-analysis']);
    expect(durableSdkPackage).toBe('@aws/durable-execution-sdk-js');
  });

  it.each([
    ['re2js', /node_modules\/re2js\//],
    ['js-yaml', /node_modules\/js-yaml\//],
  ])('ship %s in a chunk that the entry loads only through import(), never at module init', (_name, pattern) => {
    const outputs = Object.entries(hookBuild.metafile.outputs);
    const holding = outputs.filter(([, o]) => Object.keys(o.inputs).some((i) => pattern.test(i))).map(([f]) => f);
    const entry = outputs.find(([, o]) => o.entryPoint === 'functions/codedeploy-hook/index.ts')?.[0] as string;
    const atInit = loadedAtImport(hookBuild.metafile, entry);

    expect(holding).toHaveLength(1);
    expect(atInit.has(holding[0] as string)).toBe(false);
    expect(atInit.size).toBe(hookBuild.initFiles.length);
    expect(hookBuild.initBytes).toBeLessThan(hookBuild.bytes);
  });

  it('refuse to build a function whose entry would load re2js or js-yaml at module init, writing nothing (so every function built above does not)', async () => {
    const project = join(scratch, 'eager');
    await mkdir(join(project, 'functions', 'eager'), { recursive: true });
    await symlink(join(root, 'node_modules'), join(project, 'node_modules'));
    await writeFile(
      join(project, 'functions', 'eager', 'index.ts'),
      "import { load } from 'js-yaml';\nexport const handler = async (text: string) => load(text);\n",
    );

    await expect(bundle('eager', undefined, project)).rejects.toThrow(
      /^eager: index\.mjs would load js-yaml at module init \(in index\.mjs\)/,
    );
    await expect(bundle('eager', join(project, 'out'), project)).rejects.toBeInstanceOf(BuildError);
    await expect(readdir(join(project, 'out'))).rejects.toThrow(/ENOENT/);
  });
});

describe('the built codedeploy-hook, imported in a fresh Node 24 process', () => {
  /** Imports a bundle with a module hook that records every file loaded: at import, then after calling the handler. */
  const child = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    const [bundle, event, extra] = process.argv.slice(1);
    const mod = await import(bundle);
    const atImport = [...loaded];
    for (const file of JSON.parse(extra)) await import(file);
    const context = {
      functionName: 'greenlight-build-test', functionVersion: '$LATEST', memoryLimitInMB: '256',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:greenlight-build-test',
      awsRequestId: crypto.randomUUID(), logGroupName: '/aws/lambda/greenlight-build-test', logStreamName: 'test',
      getRemainingTimeInMillis: () => 60_000,
    };
    const result = event === 'none' ? null : await mod.handler(JSON.parse(event), context);
    process.stdout.write(JSON.stringify({ handler: typeof mod.handler, atImport, loaded, result }));
    process.exit(0);
  `;
  const folder = () => artifacts('CodeDeployHookFunction');
  const fileUrl = (file: string) => `file://${join(folder(), file)}`;
  const chunkHolding = (pattern: RegExp): string => {
    const [file] = Object.entries(hookBuild.metafile.outputs).find(([, o]) =>
      Object.keys(o.inputs).some((i) => pattern.test(i)),
    ) as [string, unknown];
    return file.slice(file.lastIndexOf('/chunks/') + 1);
  };

  async function importBuilt(event: unknown, extra: string[], env: Record<string, string> = {}) {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        child,
        fileUrl('index.mjs'),
        event === undefined ? 'none' : JSON.stringify(event),
        JSON.stringify(extra),
      ],
      {
        cwd: scratch,
        timeout: 20_000,
        env: {
          PATH: process.env.PATH ?? '',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
          AWS_LAMBDA_FUNCTION_NAME: 'greenlight-build-test',
          POWERTOOLS_LOG_LEVEL: 'ERROR',
          POWERTOOLS_METRICS_DISABLED: 'true',
          GREENLIGHT_PUBLISH_VERDICTS: 'false',
          ...env,
        },
      },
    );
    return JSON.parse(stdout) as { handler: string; atImport: string[]; loaded: string[]; result: unknown };
  }

  it('exports handler from index.mjs, and every chunk it ships imports (their imports resolve, the banner works)', async () => {
    const chunks = (await filesUnder(folder())).filter((f) => f !== 'index.mjs');

    const out = await importBuilt(undefined, chunks.map(fileUrl));

    expect(out.handler).toBe('function');
    expect(template.Resources.CodeDeployHookFunction?.Properties?.Handler).toBe('index.handler');
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(out.loaded, chunk).toContain(fileUrl(chunk));
  });

  it('loads neither re2js nor js-yaml at import, and loads both for a YAML plan with bodyMatches, then reports Succeeded', async () => {
    const [codedeploy, ecs, green] = await Promise.all([
      startCodeDeployFake(),
      startEcsFake(),
      startHttpTarget((_req, res) => res.end('status: UP')),
    ]);
    try {
      const deploymentId = 'd-BUILDTST1';
      codedeploy.addDeployment(ecsDeployment({ deploymentId, hook: 'AfterAllowTestTraffic' }));
      const plan = [
        'version: 1',
        'hooks:',
        '  "*": [green-body]',
        'checks:',
        '  green-body:',
        '    type: http',
        `    url: http://green.build-test.local:${green.port}/health`,
        '    expect:',
        "      bodyMatches: '^status: (UP|OK)$'",
      ].join('\n');
      const yaml = fileUrl(chunkHolding(/node_modules\/js-yaml\//));
      const re2 = fileUrl(chunkHolding(/node_modules\/re2js\//));

      const out = await importBuilt({ DeploymentId: deploymentId, LifecycleEventHookExecutionId: 'exec-1' }, [], {
        AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
        AWS_ENDPOINT_URL_ECS: ecs.url,
        GREENLIGHT_PLAN: plan,
        GREENLIGHT_RESOLVE: 'green.build-test.local=127.0.0.1',
      });

      expect(out.atImport).not.toContain(yaml);
      expect(out.atImport).not.toContain(re2);
      expect(out.loaded).toContain(yaml);
      expect(out.loaded).toContain(re2);
      expect(green.hits).toContain('/health');
      expect(codedeploy.hookStatuses.get('exec-1')).toBe('Succeeded');
    } finally {
      await Promise.all([codedeploy.close(), ecs.close(), green.close()]);
    }
  });
});
