// npm run bench: what greenlight costs on top of the AWS SDK clients each function needs.
// Per function, side by side with a baseline bundle that only imports and constructs the same SDK clients
// (and imports the same SDK commands):
// bundle size (deployed, and loaded at module init: the functions are split into index.mjs and chunks as
// npm run build and sam build build them), module init (median of fresh processes; next to it, the same
// code in one file, as deployed before code splitting), peak memory of one invocation; then the verdict
// overhead (invocation to delivered verdict, less the plan's own waiting, 10 HTTP checks against local
// servers) and the time to a Failed verdict when green fails its first measurement. Everything runs on
// loopback: the CodeDeploy, ECS, Proton and EventBridge fakes from local/, probes to local servers.
//   npm run bench [-- --runs 15 --invocations 21]
//   npm run bench -- --init-only [--runs 31]   bundle size and module init only, printed, results.md left as is
//                                              (the fleet section is not run either)
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { type CodeDeployFake, ecsDeployment, startCodeDeployFake } from '../local/fakes/codedeploy.ts';
import { type EcsFake, lifecycleHookEvent, startEcsFake } from '../local/fakes/ecs.ts';
import { type JsonFake, startJsonFake } from '../local/fakes/json-server.ts';
import { type ProtonFake, startProtonFake } from '../local/fakes/proton.ts';
import { esbuildOptions, functionNames, loadedAtImport, splitOptions } from '../scripts/build.ts';
import type { ChildJob, ChildResult } from './child.ts';
import { durableBenchSection } from './durable.ts';
import { fleetMarkdown, runFleet, withFleetSection } from './fleet.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    invocations: { type: 'string', default: '21' },
    only: { type: 'string', multiple: true },
    'fleet-only': { type: 'boolean', default: false },
    'fleet-levels': { type: 'string', default: '1,50,100,150,200' },
    'fleet-scale': { type: 'string', default: '2' },
    'init-only': { type: 'boolean', default: false },
  },
});
const initRuns = Math.max(11, Number(args.runs));
const invocations = Math.max(5, Number(args.invocations));
const failInvocations = 5;
/** Bundle size and module init only (to repeat them on a loaded machine): printed, results.md is not written. */
const initOnly = args['init-only'] === true;
const root = resolve(import.meta.dirname, '..');
const targets = {
  bundleKb: 150,
  initMs: 15,
  overheadMs: 5,
  rssMb: 96,
} as const;
/** The template's MemorySize; peak memory is also taken at Lambda's smallest size. */
const templateMemoryMb = 256;
const smallestMemoryMb = 128;

/** The V8 flags the Lambda Node.js runtime starts node with for a memory size (its bootstrap script). */
function lambdaNodeFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [
    '--expose-gc',
    '--max-http-header-size=81920',
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
  ];
}

// ---------- bundles ----------

/** A build as it is deployed: index.mjs and the chunks it imports (scripts/build.ts's options). */
interface Bundle {
  /** index.mjs, the entry. */
  readonly path: string;
  /** Every file: what is deployed. */
  readonly bytes: number;
  /** index.mjs and the chunks it reaches through static imports: what module init reads and evaluates. */
  readonly initBytes: number;
  readonly files: number;
  /** The deployment package: each file deflated (level 6, as SAM CLI's zip), with zip's headers. */
  readonly zipBytes: number;
  readonly metafile: Metafile;
  /** The metafile's name for index.mjs. */
  readonly entry: string;
}

interface FunctionBundles {
  readonly name: string;
  readonly greenlight: Bundle;
  readonly baseline: Bundle;
  /** The same code built into one file, without code splitting: what SAM's esbuild build deployed before. */
  readonly oneFile: { readonly path: string; readonly bytes: number };
  readonly clients: readonly string[];
}

/** Each function's one-file bundle (KiB) in the 2026-11-21 run, before issues 11 to 15 (docs/performance.md). */
const before20261121Kb: Record<string, number> = {
  'codedeploy-hook': 838,
  'codedeploy-wait-gate': 854,
  'ecs-lifecycle-hook': 805,
  'ecs-pause-gate': 808,
  'proton-pipeline-guard': 799,
};

async function bundle(out: string, entry: { file: string } | { contents: string }): Promise<Bundle> {
  const result = await build({
    ...esbuildOptions,
    ...splitOptions,
    absWorkingDir: root,
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents, resolveDir: root, sourcefile: 'baseline.ts', loader: 'ts' } }),
    outdir: out,
    metafile: true,
  });
  const { metafile } = result;
  const outputs = Object.entries(metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
  const entryFile = outputs.find(([file]) => resolve(root, file) === join(out, 'index.mjs'))?.[0];
  if (entryFile === undefined) throw new Error(`no index.mjs in ${out}`);
  const init = loadedAtImport(metafile, entryFile);
  let zipBytes = 22; // end of central directory
  for (const [file] of outputs) {
    const name = relative(out, resolve(root, file)).length;
    // Local file header and central directory entry, each with the name; then the deflated data.
    zipBytes += 30 + name + 46 + name + deflateRawSync(await readFile(resolve(root, file)), { level: 6 }).length;
  }
  return {
    path: join(out, 'index.mjs'),
    bytes: outputs.reduce((sum, [, o]) => sum + o.bytes, 0),
    initBytes: [...init].reduce((sum, f) => sum + (metafile.outputs[f]?.bytes ?? 0), 0),
    files: outputs.length,
    zipBytes,
    metafile,
    entry: entryFile,
  };
}

/** The SDK client packages a bundle contains, from its inputs. */
function sdkClients(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const file of Object.keys(metafile.inputs)) {
    const m = /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//.exec(file);
    if (m?.[1]) names.add(`@aws-sdk/${m[1]}`);
  }
  return [...names].sort();
}

async function clientClass(pkg: string): Promise<string> {
  const mod = (await import(pkg)) as Record<string, unknown>;
  const name = Object.keys(mod).find(
    (k) =>
      /^[A-Z]\w*Client$/.test(k) &&
      typeof mod[k] === 'function' &&
      'send' in (mod[k] as { prototype: object }).prototype,
  );
  if (!name) throw new Error(`no client class in ${pkg}`);
  return name;
}

/**
 * The SDK commands a bundle contains, by client package. The SDK's ES-module builds tree-shake, so a
 * client alone leaves out the code of the calls a function makes: the SDK floor is clients and commands.
 */
function sdkCommands(metafile: Metafile): Map<string, string[]> {
  const byPackage = new Map<string, string[]>();
  for (const file of Object.keys(metafile.inputs)) {
    const m = /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\/dist-[a-z]+\/commands\/(\w+Command)\.js$/.exec(file);
    if (!m?.[1] || !m[2]) continue;
    const pkg = `@aws-sdk/${m[1]}`;
    byPackage.set(pkg, [...(byPackage.get(pkg) ?? []), m[2]]);
  }
  return byPackage;
}

/** Only imports and constructs the same SDK clients, imports the same commands, and exports a handler that does nothing. */
async function baselineSource(
  clients: readonly string[],
  commands: ReadonlyMap<string, readonly string[]>,
): Promise<string> {
  const lines: string[] = [];
  const made: string[] = [];
  const used: string[] = [];
  for (const [i, pkg] of clients.entries()) {
    const cls = await clientClass(pkg);
    const names = commands.get(pkg) ?? [];
    const imports = [`${cls} as C${i}`, ...names.map((n, j) => `${n} as C${i}x${j}`)];
    lines.push(`import { ${imports.join(', ')} } from '${pkg}';`);
    made.push(`new C${i}({})`);
    used.push(...names.map((_n, j) => `C${i}x${j}`));
  }
  lines.push(`const clients = [${made.join(', ')}];`);
  lines.push(`const commands = [${used.join(', ')}];`);
  lines.push('export const handler = async () => clients.length + commands.length;');
  return lines.join('\n');
}

async function buildAll(dir: string, names: readonly string[]): Promise<FunctionBundles[]> {
  // Plain JavaScript for the child: type stripping would load its own compiler into the process measured.
  await build({
    entryPoints: [join(root, 'bench', 'child.ts')],
    outfile: join(dir, 'child.mjs'),
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'warning',
  });
  const out: FunctionBundles[] = [];
  for (const name of names) {
    const entry = join(root, 'functions', name, 'index.ts');
    const greenlight = await bundle(join(dir, name, 'greenlight'), { file: entry });
    const clients = sdkClients(greenlight.metafile);
    const baseline = await bundle(join(dir, name, 'baseline'), {
      contents: await baselineSource(clients, sdkCommands(greenlight.metafile)),
    });
    const onePath = join(dir, name, 'one', 'index.mjs');
    const one = await build({ ...esbuildOptions, entryPoints: [entry], outfile: onePath, metafile: true });
    const oneFile = { path: onePath, bytes: Object.values(one.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0) };
    out.push({ name, greenlight, baseline, oneFile, clients });
  }
  return out;
}

const sdkPackage = /node_modules\/(@aws-sdk|@smithy|@aws-crypto|tslib|fast-xml-parser|strnum|bowser|uuid)(\/|$)/;

/** Every input of a bundle with the bytes it has in the output, and whether module init loads that output. */
function inputsOf(b: Bundle): Map<string, { bytes: number; atInit: boolean }> {
  const init = loadedAtImport(b.metafile, b.entry);
  const out = new Map<string, { bytes: number; atInit: boolean }>();
  for (const [file, o] of Object.entries(b.metafile.outputs)) {
    for (const [input, i] of Object.entries(o.inputs)) {
      const seen = out.get(input);
      out.set(input, {
        bytes: (seen?.bytes ?? 0) + i.bytesInOutput,
        atInit: (seen?.atInit ?? false) || init.has(file),
      });
    }
  }
  return out;
}

/**
 * What greenlight adds, by source: its own code, non-SDK packages, and any SDK code beyond the baseline;
 * each with the bytes of it in chunks loaded only on demand (through a dynamic import).
 */
function additions(b: FunctionBundles): [string, number, number][] {
  const groups = new Map<string, [number, number]>();
  const add = (key: string, n: number, lazy: number) => {
    const g = groups.get(key) ?? [0, 0];
    groups.set(key, [g[0] + n, g[1] + lazy]);
  };
  const sdkBytes = (bundle: Bundle, onlyLazy: boolean) =>
    [...inputsOf(bundle)]
      .filter(([file, i]) => sdkPackage.test(file) && (!onlyLazy || !i.atInit))
      .reduce((s, [, i]) => s + i.bytes, 0);
  for (const [file, info] of inputsOf(b.greenlight)) {
    if (sdkPackage.test(file)) continue;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
    add(pkg ?? `greenlight ${file.split('/').slice(0, 2).join('/')}`, info.bytes, info.atInit ? 0 : info.bytes);
  }
  add(
    'AWS SDK beyond the baseline',
    sdkBytes(b.greenlight, false) - sdkBytes(b.baseline, false),
    sdkBytes(b.greenlight, true) - sdkBytes(b.baseline, true),
  );
  return [...groups].map(([k, [n, l]]): [string, number, number] => [k, n, l]).sort((x, y) => y[1] - x[1]);
}

// ---------- processes ----------

function run(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

const initScript = `
const started = performance.now();
const cpu = process.cpuUsage();
const mod = await import(process.argv[1]);
const importMs = performance.now() - started;
const used = process.cpuUsage(cpu);
const cpuMs = (used.user + used.system) / 1000;
if (typeof mod.handler !== 'function') throw new Error('no handler');
process.stdout.write(JSON.stringify({ importMs, cpuMs }));
`;

type InitVariant = 'greenlight' | 'baseline' | 'oneFile';
type InitTimes = { importMs: number[]; cpuMs: number[]; wallMs: number[] };

/**
 * Module init: a fresh process imports the bundle. greenlight (split, as deployed), its baseline and the
 * same code in one file (as deployed before code splitting) take turns, in a rotating order, so that drift
 * on the machine hits all three.
 */
async function measureInit(b: FunctionBundles): Promise<Record<InitVariant, InitTimes>> {
  const out: Record<InitVariant, InitTimes> = {
    greenlight: { importMs: [], cpuMs: [], wallMs: [] },
    baseline: { importMs: [], cpuMs: [], wallMs: [] },
    oneFile: { importMs: [], cpuMs: [], wallMs: [] },
  };
  const paths: Record<InitVariant, string> = {
    greenlight: b.greenlight.path,
    baseline: b.baseline.path,
    oneFile: b.oneFile.path,
  };
  const variants: InitVariant[] = ['greenlight', 'baseline', 'oneFile'];
  const env = lambdaEnv(b.name);
  for (let i = 0; i < initRuns + 1; i++) {
    for (const which of [...variants.slice(i % 3), ...variants.slice(0, i % 3)]) {
      const r = await run(
        [...lambdaNodeFlags(templateMemoryMb), '--input-type=module', '-e', initScript, `file://${paths[which]}`],
        env,
      );
      if (r.code !== 0) throw new Error(`importing ${paths[which]} failed: ${r.stderr}`);
      // The first round warms the file cache; it is not counted.
      if (i === 0) continue;
      const measured = JSON.parse(r.stdout) as { importMs: number; cpuMs: number };
      out[which].importMs.push(measured.importMs);
      out[which].cpuMs.push(measured.cpuMs);
      out[which].wallMs.push(r.wallMs);
    }
  }
  return out;
}

// ---------- the local world the functions run against ----------

interface World {
  readonly codedeploy: CodeDeployFake;
  readonly ecs: EcsFake;
  readonly proton: ProtonFake;
  readonly events: JsonFake;
  /** Ten healthy servers, one per check. */
  readonly green: readonly Server[];
  /** Answers 500 to everything. */
  readonly red: Server;
  close(): Promise<void>;
}

const greenHost = 'green.bench.local';
const redHost = 'red.bench.local';

async function listen(status: number): Promise<Server> {
  const server = createServer((_req, res) => {
    res.statusCode = status;
    res.end(status === 200 ? 'ok' : 'unavailable');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return server;
}

const port = (s: Server) => (s.address() as AddressInfo).port;

async function startWorld(): Promise<World> {
  const [codedeploy, ecs, proton, events, red, ...green] = await Promise.all([
    startCodeDeployFake(),
    startEcsFake(),
    startProtonFake(),
    startJsonFake({ operations: { PutEvents: () => ({ FailedEntryCount: 0, Entries: [{ EventId: 'bench' }] }) } }),
    listen(500),
    ...Array.from({ length: 10 }, () => listen(200)),
  ]);
  return {
    codedeploy,
    ecs,
    proton,
    events,
    green,
    red,
    close: async () => {
      for (const s of [red, ...green]) s.closeAllConnections();
      await Promise.all([
        codedeploy.close(),
        ecs.close(),
        proton.close(),
        events.close(),
        ...[red, ...green].map((s) => new Promise((done) => s.close(done))),
      ]);
    },
  };
}

let world: World;

function lambdaEnv(name: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_OPTIONS: '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    // Anything not pointed at a fake goes to a closed loopback port.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_LAMBDA_FUNCTION_NAME: `greenlight-bench-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    POWERTOOLS_SERVICE_NAME: 'greenlight',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_NAMESPACE: 'Greenlight',
    GREENLIGHT_PUBLISH_VERDICTS: 'true',
    ...extra,
  };
}

/** The plan: 10 HTTP checks, each against its own local server; with `failFirst`, the first one's green answers 500. */
function plan(checks: number, count: number, intervalMs: number, failFirst = false): string {
  const entries = Object.fromEntries(
    Array.from({ length: checks }, (_, i) => [
      `probe-${i}`,
      {
        type: 'http',
        url:
          failFirst && i === 0
            ? `http://${redHost}:${port(world.red)}/health`
            : `http://${greenHost}:${port(world.green[i] as Server)}/health`,
        count,
        interval: `${intervalMs}ms`,
      },
    ]),
  );
  return JSON.stringify({ version: 1, hooks: { '*': Object.keys(entries) }, checks: entries });
}

let seq = 0;

/** Per function: fresh events (one per invocation, each for its own deployment or hook) and how it delivers. */
const scenarios: Record<string, (verdict: 'pass' | 'fail', n: number) => { events: unknown[]; deliveredBy: string }> = {
  'codedeploy-hook': (_verdict, n) => ({
    deliveredBy: 'PutLifecycleEventHookExecutionStatus',
    events: Array.from({ length: n }, () => {
      const deploymentId = `d-B${String(++seq).padStart(8, '0')}`;
      world.codedeploy.addDeployment(ecsDeployment({ deploymentId, hook: 'AfterAllowTestTraffic' }));
      return { DeploymentId: deploymentId, LifecycleEventHookExecutionId: `exec-${deploymentId}` };
    }),
  }),
  'ecs-lifecycle-hook': (_verdict, n) => ({
    deliveredBy: 'return',
    events: Array.from({ length: n }, () =>
      lifecycleHookEvent(world.ecs.addNativeDeployment({ service: `bench-${++seq}` }), 'POST_TEST_TRAFFIC_SHIFT'),
    ),
  }),
  'ecs-pause-gate': (_verdict, n) => ({
    deliveredBy: 'ContinueServiceDeployment',
    events: Array.from({ length: n }, () => {
      const d = world.ecs.addNativeDeployment({ service: `bench-${++seq}` });
      return world.ecs.addPauseHook(d.serviceDeploymentArn, { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' }).event;
    }),
  }),
  'codedeploy-wait-gate': (verdict, n) => ({
    deliveredBy: verdict === 'pass' ? 'ContinueDeployment' : 'StopDeployment',
    events: Array.from({ length: n }, () => {
      const deploymentId = `d-W${String(++seq).padStart(8, '0')}`;
      world.codedeploy.addDeployment(ecsDeployment({ deploymentId, readyWaitMinutes: 60, status: 'Ready' }));
      return {
        source: 'aws.codedeploy',
        'detail-type': 'CodeDeploy Deployment State-change Notification',
        time: new Date().toISOString(),
        detail: { deploymentId, state: 'READY' },
      };
    }),
  }),
  'proton-pipeline-guard': (verdict, n) => ({
    deliveredBy: verdict === 'pass' ? 'return' : 'CancelServicePipelineDeployment',
    events: Array.from({ length: n }, () => {
      const name = `bench${++seq}`;
      world.proton.addService(name, { deploymentStatus: 'IN_PROGRESS', deploymentId: `dep-${seq}` }, 'CANCELLED');
      return {
        source: 'aws.proton',
        'detail-type': 'AWS Proton Service Pipeline Status Change',
        detail: { serviceName: name, status: 'IN_PROGRESS' },
      };
    }),
  }),
};

async function invokeChild(
  dir: string,
  b: FunctionBundles,
  which: 'greenlight' | 'baseline',
  job: Omit<ChildJob, 'functionName' | 'timeoutMs'>,
  planText: string,
  memoryMb = templateMemoryMb,
): Promise<ChildResult> {
  const tag = `${b.name}-${which}-${++seq}`;
  const jobPath = join(dir, `${tag}.job.json`);
  const resultPath = join(dir, `${tag}.result.json`);
  await writeFile(
    jobPath,
    JSON.stringify({ ...job, functionName: `greenlight-bench-${b.name}`, timeoutMs: 900_000 } satisfies ChildJob),
  );
  const env = lambdaEnv(b.name, {
    AWS_ENDPOINT_URL_CODEDEPLOY: world.codedeploy.url,
    AWS_ENDPOINT_URL_ECS: world.ecs.url,
    AWS_ENDPOINT_URL_PROTON: world.proton.url,
    AWS_ENDPOINT_URL_EVENTBRIDGE: world.events.url,
    GREENLIGHT_PLAN: planText,
    GREENLIGHT_RESOLVE: `${greenHost}=127.0.0.1,${redHost}=127.0.0.1`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    // As the template deploys them: no NODE_OPTIONS (the bundles carry no source maps to enable).
    NODE_OPTIONS: '',
  });
  const r = await run(
    [...lambdaNodeFlags(memoryMb), join(dir, 'child.mjs'), b[which].path, jobPath, resultPath],
    env,
    300_000,
  );
  if (r.code !== 0) throw new Error(`${tag} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(await readFile(resultPath, 'utf8')) as ChildResult;
}

// ---------- statistics and output ----------

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: readonly number[], q: number) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
};
const median = (xs: readonly number[]) => {
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const ms = (x: number) => x.toFixed(1);
const mark = (ok: boolean) => (ok ? 'yes' : '**NO**');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const names = (await functionNames(join(root, 'functions'))).filter(
    (n) => !args.only?.length || args.only.includes(n),
  );
  const dir = await mkdtemp(join(tmpdir(), 'greenlight-bench-'));
  // Other work on the machine stretches every elapsed time: the load is recorded with the results.
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const report: string[] = [];
  const say = (text = '') => {
    report.push(text);
    process.stdout.write(`${text}\n`);
  };
  try {
    process.stderr.write(`building ${names.length} functions and their baselines...\n`);
    const bundles = await buildAll(dir, names);
    world = await startWorld();

    say('## Bundle size, module init, peak memory: greenlight next to its SDK-only baseline');
    say();
    say(
      `Baseline: a bundle that only imports and constructs the SDK clients the function's bundle contains and imports the SDK commands it sends (the SDK's ES-module builds leave out the code of commands a bundle does not import), built with the same esbuild options (scripts/build.ts: minified ESM, SDK bundled, split into index.mjs and chunks). Module init: median of ${initRuns} fresh processes importing the bundle, started as Lambda's Node.js runtime starts node for the template's ${templateMemoryMb} MB (default NODE_OPTIONS: none); import time measured inside the process, both elapsed and CPU time (user and system, all of the process's threads: on a loaded machine the elapsed time measures the scheduler as much as the import, the CPU time does not), process wall time from spawn to exit. Peak memory: \`process.resourceUsage().maxRSS\` of a fresh process after one invocation (greenlight: 10 HTTP checks, verdict delivered to the local fake, verdict event published; baseline: construct the clients, call a no-op handler).`,
    );
    say();
    const sizeRows: string[][] = [];
    const initRows: string[][] = [];
    const memRows: string[][] = [];
    for (const b of bundles) {
      process.stderr.write(`${b.name}: module init x${initRuns}${initOnly ? '' : ', peak memory'}...\n`);
      const init = await measureInit(b);
      const gInit = median(init.greenlight.importMs);
      const bInit = median(init.baseline.importMs);
      const gCpu = median(init.greenlight.cpuMs);
      const bCpu = median(init.baseline.cpuMs);
      const oneCpu = median(init.oneFile.cpuMs);
      if (!initOnly) {
        const job = scenarios[b.name]?.('pass', 1) ?? { events: [], deliveredBy: 'return' };
        const g = await invokeChild(dir, b, 'greenlight', job, plan(10, 1, 100), smallestMemoryMb);
        if (!/SUCCEEDED|Succeeded|passed|continued|decided|CONTINUE/.test(g.invocations[0]?.outcome ?? '')) {
          throw new Error(`${b.name}: the memory run did not pass: ${g.invocations[0]?.outcome}`);
        }
        const base = await invokeChild(
          dir,
          b,
          'baseline',
          { events: [{}], deliveredBy: 'return' },
          '',
          smallestMemoryMb,
        );
        const peak = { greenlight: g.maxRssKb / 1024, baseline: base.maxRssKb / 1024 };
        memRows.push([
          b.name,
          peak.greenlight.toFixed(1),
          peak.baseline.toFixed(1),
          mark(peak.greenlight < targets.rssMb),
        ]);
      }
      const delta = b.greenlight.bytes - b.baseline.bytes;
      const was = before20261121Kb[b.name];
      sizeRows.push([
        b.name,
        `${kb(b.greenlight.bytes)} / ${kb(b.baseline.bytes)} (${kb(delta)})`,
        mark(delta < targets.bundleKb * 1024),
        `${kb(b.greenlight.initBytes)} / ${kb(b.baseline.initBytes)} (${kb(b.greenlight.initBytes - b.baseline.initBytes)})`,
        String(b.greenlight.files),
        kb(b.greenlight.zipBytes),
        kb(b.oneFile.bytes),
        was === undefined ? '(no function then)' : String(was),
        b.clients.map((c) => c.replace('@aws-sdk/client-', '')).join(', '),
      ]);
      initRows.push([
        b.name,
        ms(gInit),
        ms(bInit),
        ms(gInit - bInit),
        ms(gCpu),
        ms(bCpu),
        ms(gCpu - bCpu),
        mark(gInit - bInit < targets.initMs && gCpu - bCpu < targets.initMs),
        ms(median(init.greenlight.wallMs)),
        ms(median(init.baseline.wallMs)),
        `${ms(median(init.oneFile.importMs))} / ${ms(oneCpu)}`,
        ms(gCpu - oneCpu),
      ]);
    }
    say(`### Bundle size (KiB; target: greenlight adds under ${targets.bundleKb} KiB)`);
    say();
    say(
      "Each function is built as `npm run build` and `sam build` (through the Makefile) build it: index.mjs and the ES-module chunks it imports (esbuild code splitting). Deployed: every file, what the target is judged on. Loaded at module init: index.mjs and the chunks it reaches through static imports, all that a cold start reads and evaluates; the other chunks are loaded by a dynamic import only when a plan or an invocation needs them (re2js for `bodyMatches`, js-yaml for YAML plans, the SSM client for Parameter Store, the EventBridge client after a verdict, the SDK's credential providers other than the environment's). Zip: the deployment package, each file deflated at level 6 as SAM CLI zips it, headers included. One file: the same code built without splitting, as SAM's esbuild build did until this change (all of it read at module init). 2026-11-21: that one file then, before issues 11 to 15.",
    );
    say();
    say(
      table(
        [
          'function',
          'deployed: greenlight / baseline (added)',
          'target met',
          'loaded at module init: greenlight / baseline (added)',
          'files',
          'zip',
          'one file, as before',
          'one file, 2026-11-21',
          'SDK clients',
        ],
        sizeRows,
      ),
    );
    say();
    const first = bundles[0];
    if (first) {
      say(`What greenlight adds to ${first.name}, by source (KiB of minified output):`);
      say();
      say(
        table(
          ['source', 'KiB', 'of which in chunks loaded only on demand'],
          additions(first).map(([k, v, lazy]) => [k, kb(v), kb(lazy)]),
        ),
      );
      say();
    }
    say(`### Module init (ms; target: greenlight adds under ${targets.initMs} ms)`);
    say();
    say(
      table(
        [
          'function',
          'import, greenlight',
          'import, baseline',
          'added',
          'import CPU, greenlight',
          'import CPU, baseline',
          'added CPU',
          'target met (both added)',
          'process, greenlight',
          'process, baseline',
          'import / CPU, one file as before',
          'CPU, split against one file',
        ],
        initRows,
      ),
    );
    say();
    if (initOnly) return;
    say(
      `### Peak memory of one invocation (MiB; target: under ${targets.rssMb} MiB, to fit a ${smallestMemoryMb} MB Lambda)`,
    );
    say();
    say(
      `Run with the V8 limits Lambda's Node.js runtime sets for ${smallestMemoryMb} MB, as the template deploys the functions (no NODE_OPTIONS; the bundles carry no source maps).`,
    );
    say();
    say(table(['function', 'greenlight', 'baseline', 'target met'], memRows));
    say();

    say('## Verdict overhead and time to a Failed verdict');
    say();
    say(
      `Through each function's real handler (bundled), in a fresh process, against the local fakes. Overhead: from invoking the handler to the delivered verdict (the answer to the function's report call, or the return for hooks answered by value), less the plan's own waiting; median and p90 of ${invocations} invocations after the first (cold) one, which is shown apart. Plans: 10 HTTP checks (or 1), each against its own local server, count 1; and 10 checks with count 3, interval 100 ms (200 ms of waiting subtracted). Time to Failed: the first of 10 checks gets 500 from green; count 20, interval 1 s, a 19 s schedule; ${failInvocations} warm invocations after a cold one.`,
    );
    say();
    const overheadRows: string[][] = [];
    const failRows: string[][] = [];
    for (const b of bundles) {
      process.stderr.write(`${b.name}: verdict overhead, time to Failed...\n`);
      const scenario = scenarios[b.name];
      if (!scenario) continue;
      const runPlan = async (checks: number, count: number, intervalMs: number) => {
        const job = scenario('pass', invocations + 1);
        const r = await invokeChild(dir, b, 'greenlight', job, plan(checks, count, intervalMs));
        const bad = r.invocations.find((i) => Number.isNaN(i.deliveredMs));
        if (bad) throw new Error(`${b.name}: no delivery seen: ${bad.outcome}`);
        const waiting = (count - 1) * intervalMs;
        const warm = r.invocations.slice(1).map((i) => i.deliveredMs - waiting);
        return { cold: (r.invocations[0]?.deliveredMs ?? Number.NaN) - waiting, warm };
      };
      const ten = await runPlan(10, 1, 100);
      const one = await runPlan(1, 1, 100);
      const waits = await runPlan(10, 3, 100);
      overheadRows.push([
        b.name,
        `${ms(median(ten.warm))} / ${ms(quantile(ten.warm, 0.9))}`,
        mark(median(ten.warm) < targets.overheadMs),
        `${ms(median(one.warm))} / ${ms(quantile(one.warm, 0.9))}`,
        `${ms(median(waits.warm))} / ${ms(quantile(waits.warm, 0.9))}`,
        ms(ten.cold),
      ]);
      const failJob = scenario('fail', failInvocations + 1);
      const failed = await invokeChild(
        dir,
        b,
        'greenlight',
        { ...failJob, probeHost: `${redHost}:${port(world.red)}` },
        plan(10, 20, 1_000, true),
      );
      // The first invocation is cold (shown apart); the rest are warm.
      const warmFailed = failed.invocations.slice(1);
      const after = warmFailed.map((i) => i.deliveredMs - (i.firstMeasurementMs ?? Number.NaN));
      const outcomes = failed.invocations.map((i) => i.outcome);
      if (outcomes.some((o) => !/FAILED|Failed|ROLLBACK|stopping|cancelled|"fail"/.test(o))) {
        throw new Error(`${b.name}: the failing green did not fail: ${outcomes.join(' | ')}`);
      }
      const cold = failed.invocations[0];
      failRows.push([
        b.name,
        ms(median(warmFailed.map((i) => i.deliveredMs))),
        `${ms(median(after))} / ${ms(Math.max(...after))}`,
        cold ? `${ms(cold.deliveredMs)} / ${ms(cold.deliveredMs - (cold.firstMeasurementMs ?? Number.NaN))}` : '',
        '1000',
        '19000',
        mark(Math.max(...after, cold ? cold.deliveredMs - (cold.firstMeasurementMs ?? 0) : 0) < 1_000),
      ]);
    }
    say(`### Verdict overhead (ms, median / p90; target: median under ${targets.overheadMs} ms with 10 checks)`);
    say();
    say(
      table(
        [
          'function',
          '10 checks, count 1',
          'target met',
          '1 check, count 1',
          '10 checks, count 3 every 100 ms, less 200 ms',
          'first (cold) invocation, 10 checks',
        ],
        overheadRows,
      ),
    );
    say();
    say('### Time to a Failed verdict (ms; target: decided within one interval of the first failed measurement)');
    say();
    say(
      table(
        [
          'function',
          'invocation to delivered Failed (median)',
          'first failed measurement to delivered (median / max)',
          'first (cold) invocation: to delivered / after the failed measurement',
          'interval',
          'schedule',
          'target met',
        ],
        failRows,
      ),
    );
    say();
    // Long bakes, chain against durable execution (issue 13): bench/durable.ts.
    for (const line of await durableBenchSection()) say(line);
    const header = [
      '# greenlight benchmark results',
      '',
      `Produced by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${process.platform}/${process.arch}. Numbers vary with the machine; the comparisons are side by side in the same run. Load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at the end${loadAtStart > cpus().length ? ': a loaded machine, elapsed times are stretched by the scheduler (module init: see the CPU columns)' : ''}.`,
      '',
    ];
    await writeFile(join(root, 'bench', 'results.md'), `${[...header, ...report].join('\n')}`);
    process.stderr.write('written to bench/results.md\n');
  } finally {
    await world?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (!args['fleet-only']) await main();
// --init-only prints and writes nothing: the fleet, which writes its section of results.md, is left out.
if (!initOnly) await fleet();

/** The fleet simulation (bench/fleet.ts), written into its own section of bench/results.md. */
async function fleet(): Promise<void> {
  const options = {
    levels: [
      1,
      ...(args['fleet-levels'] ?? '')
        .split(',')
        .map(Number)
        .filter((n) => n > 1),
    ],
    scale: Math.max(1, Number(args['fleet-scale'])),
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  const results = await runFleet(options);
  const path = join(root, 'bench', 'results.md');
  const before = await readFile(path, 'utf8').catch(() => '# greenlight benchmark results\n');
  await writeFile(path, withFleetSection(before, fleetMarkdown(results, options)));
  process.stderr.write('fleet section written to bench/results.md\n');
}
