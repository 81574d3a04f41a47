import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { readBuildTargets } from '../local/build-targets.ts';
import { type LocalStateKey, startStateKeyStandIn } from '../local/state-key.ts';
import { localFunction, readTemplate } from '../local/template.ts';
import { esbuildOptions, splitOptions } from '../scripts/build.ts';
import { type LocalDeployment, LocalSetupError, startLocalDeployment } from './local-deployment.ts';

export const invokeUsage = `usage: greenlight invoke <LogicalId> <event.json> [options]
       npm run invoke -- <LogicalId> <event.json> [options]
       npm run invoke -- --local <LogicalId> <event.json> [--green-fails] [--plan FILE]

Runs one function of template.yaml locally, as "sam local invoke" would, without Docker: the
template's handler, environment, memory and timeout; the function bundled the way sam build and
npm run build bundle it (index.mjs and its chunks); a fresh Node.js process with the variables the Lambda runtime sets and a context whose
remaining time counts down. Logs go to stderr, the function's response (JSON) to stdout.

options:
  --local                       no AWS account: start greenlight's fakes on 127.0.0.1 (moto_server when
                                installed) with the deployment, hook, service or pipeline the event names,
                                a local blue and green behind a load balancer, and a plan that fits the
                                function; run the function, then print its verdict and what it delivered
                                (PutLifecycleEventHookExecutionStatus, ContinueServiceDeployment, ...)
  --green-fails                 with --local: green answers 500 (its smoke function throws)
  --plan FILE                   with --local: this plan instead of the built-in one
  --hook NAME                   with --local, CodeDeployHookFunction: the hook, when the event's file name
                                does not say it (AfterAllowTestTraffic, lambda:BeforeAllowTraffic, ...)
  --no-moto                     with --local: the built-in ELBv2 stand-in even when moto_server is installed
  --env-vars FILE               JSON like sam's: {"<LogicalId>": {"VAR": "value"}} or {"Parameters": {...}}
  --parameter-overrides K=V     template parameters (repeatable)
  --template FILE               default template.yaml
  -h, --help

Without --local, AWS_*, GREENLIGHT_* and POWERTOOLS_* variables set in your shell override the
template's, so AWS_ENDPOINT_URL_<SERVICE> can point the function at local endpoints and
GREENLIGHT_RESOLVE can send a load balancer's DNS name to 127.0.0.1. With --local only POWERTOOLS_*
ones do: the function talks to the local fakes and nothing else.

The functions that carry state (GREENLIGHT_STATE_KEY_SECRET_ARN in the template) get a state key from
a built-in Secrets Manager stand-in on 127.0.0.1, unless your shell sets GREENLIGHT_STATE_KEY_SECRET_ARN
or AWS_ENDPOINT_URL_SECRETS_MANAGER. The stand-in's key is new for each run: a continuation from one
run does not verify in another.

exit codes: 0 the function returned (with --local: and delivered a verdict or ignored the event as it
would in AWS), 1 it threw or timed out, 2 usage error (unknown function, unreadable event, an event
--local cannot make a deployment for).`;

const runtime = fileURLToPath(new URL('../local/lambda-runtime.ts', import.meta.url));

/** How many times --local delivers the function's own continuations (ECS calling again, a queued leg). */
const maxLegs = 20;

/** `greenlight invoke` and `npm run invoke`. Returns the exit code. */
export async function invokeCommand(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`invoke: ${(error as Error).message}\n\n${invokeUsage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(invokeUsage);
    return 0;
  }
  const [logicalId, eventPath, ...extra] = positionals;
  if (!logicalId || !eventPath || extra.length > 0) {
    console.error(invokeUsage);
    return 2;
  }
  const local = values.local === true;
  const localOnly = (['green-fails', 'plan', 'hook', 'no-moto'] as const).filter((k) => values[k] !== undefined);
  if (!local && localOnly.length > 0) {
    console.error(`invoke: --${localOnly[0]} needs --local`);
    return 2;
  }
  let event: unknown;
  try {
    event = JSON.parse(await readFile(eventPath, 'utf8'));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    console.error(`invoke: cannot use event ${eventPath}: ${e.code ?? e.message}`);
    return 2;
  }
  const parameters: Record<string, string> = {};
  for (const pair of values['parameter-overrides'] ?? []) {
    const i = pair.indexOf('=');
    if (i <= 0) {
      console.error(`invoke: --parameter-overrides expects Name=Value, got ${JSON.stringify(pair)}`);
      return 2;
    }
    parameters[pair.slice(0, i)] = pair.slice(i + 1);
  }
  let region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  let fn: ReturnType<typeof localFunction>;
  try {
    fn = localFunction(await readTemplate(values.template), logicalId, {
      parameters,
      region,
      stackName: 'greenlight-local',
      // The Makefile sam build runs sits next to the template (CodeUri: .).
      builds: await readBuildTargets(dirname(values.template)),
    });
  } catch (error) {
    console.error(`invoke: ${(error as Error).message}`);
    return 2;
  }

  let overrides: Record<string, string> = {};
  if (values['env-vars']) {
    try {
      const file = JSON.parse(await readFile(values['env-vars'], 'utf8')) as Record<string, Record<string, string>>;
      overrides = { ...(file.Parameters ?? {}), ...(file[logicalId] ?? {}) };
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      console.error(`invoke: cannot use --env-vars ${values['env-vars']}: ${e.code ?? e.message}`);
      return 2;
    }
  }
  // With --local, the shell's AWS settings (a profile, real endpoints) and plan never reach the function.
  const passed = local ? /^POWERTOOLS_/ : /^(AWS_|GREENLIGHT_|POWERTOOLS_)/;
  const fromShell = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && passed.test(k)),
  ) as Record<string, string>;

  const outdir = await mkdtemp(join(tmpdir(), 'greenlight-invoke-'));
  let stateKey: (LocalStateKey & { fake: { close(): Promise<void> } }) | undefined;
  let deployment: LocalDeployment | undefined;
  try {
    if (local) {
      try {
        deployment = await startLocalDeployment({
          entryPoint: fn.entryPoint,
          event,
          eventPath,
          greenFails: values['green-fails'] === true,
          moto: values['no-moto'] !== true,
          ...(values.plan !== undefined ? { planFile: values.plan } : {}),
          ...(values.hook !== undefined ? { hook: values.hook } : {}),
        });
      } catch (error) {
        if (!(error instanceof LocalSetupError)) throw error;
        console.error(`invoke: --local: ${error.message}`);
        return 2;
      }
      region = deployment.region;
      console.error(`local (loopback only, no AWS account):\n${deployment.notes.map((n) => `  ${n}`).join('\n')}`);
    }
    const wantsKey = fn.environment.GREENLIGHT_STATE_KEY_SECRET_ARN !== undefined;
    const shellKey =
      fromShell.GREENLIGHT_STATE_KEY_SECRET_ARN ??
      overrides.GREENLIGHT_STATE_KEY_SECRET_ARN ??
      fromShell.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    if (wantsKey && shellKey === undefined) {
      stateKey = await startStateKeyStandIn();
      console.error(`state key: Secrets Manager stand-in at ${stateKey.endpoint}`);
    }
    await build({ ...esbuildOptions, ...splitOptions, entryPoints: [fn.entryPoint], outdir, logLevel: 'error' });
    const [file, exportName] = splitHandler(fn.handler);
    const bundle = join(outdir, `${file}.mjs`);

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...fn.environment,
      ...(stateKey
        ? {
            GREENLIGHT_STATE_KEY_SECRET_ARN: stateKey.secretArn,
            AWS_ENDPOINT_URL_SECRETS_MANAGER: stateKey.endpoint,
          }
        : {}),
      ...fromShell,
      ...(deployment?.environment ?? {}),
      ...overrides,
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: 'local',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_SAM_LOCAL: 'true',
      LAMBDA_TASK_ROOT: outdir,
      LAMBDA_RUNTIME_DIR: outdir,
      _HANDLER: fn.handler,
    };
    if (env.NODE_OPTIONS?.includes('--enable-source-maps') === false) delete env.NODE_OPTIONS;

    const invokeOnce = async (eventFile: string): Promise<Outcome> => {
      const timeoutMs = fn.timeoutSeconds * 1000;
      const child = fork(runtime, [bundle, exportName, resolve(eventFile), String(timeoutMs)], {
        env,
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        execArgv: [`--max-old-space-size=${Math.max(64, fn.memoryMb - 32)}`],
      });
      // Function logs belong on stderr, as with sam local invoke; the response alone goes to stdout.
      child.stdout?.pipe(process.stderr);
      console.error(`invoking ${logicalId} (${fn.functionName}) with ${eventFile}, timeout ${fn.timeoutSeconds}s`);
      return new Promise<Outcome>((done) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          done('timeout');
        }, timeoutMs + 500);
        child.on('message', (m) => {
          clearTimeout(timer);
          done(m as Outcome);
        });
        child.on('exit', () => {
          clearTimeout(timer);
          done('crashed');
        });
      });
    };

    let eventFile = eventPath;
    let outcome = await invokeOnce(eventFile);
    for (let leg = 2; deployment && typeof outcome === 'object' && outcome.ok && leg <= maxLegs; leg++) {
      // What the caller does next: ECS calls again after IN_PROGRESS; a gate's continuation of itself runs.
      const next = await deployment.next(outcome.result);
      if (next === undefined) break;
      eventFile = join(outdir, `event-${leg}.json`);
      await writeFile(eventFile, JSON.stringify(next));
      console.error(`local: the caller invokes the function again (invocation ${leg})`);
      outcome = await invokeOnce(eventFile);
    }
    if (outcome === 'timeout') {
      console.error(`Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`);
      return 1;
    }
    if (outcome === 'crashed') {
      console.error('the function process exited without a response');
      return 1;
    }
    if (!outcome.ok) {
      console.log(JSON.stringify({ errorType: outcome.errorType, errorMessage: outcome.errorMessage }));
      if (deployment) summary(deployment, `the function threw ${outcome.errorType}: ${outcome.errorMessage}`);
      return 1;
    }
    console.log(JSON.stringify(outcome.result, null, 2));
    if (deployment) summary(deployment, deployment.verdict(outcome.result), outcome.result);
    return 0;
  } finally {
    await deployment?.close();
    await stateKey?.fake.close();
    await rm(outdir, { recursive: true, force: true });
  }
}

type Outcome = { ok: boolean; result?: unknown; errorType?: string; errorMessage?: string } | 'timeout' | 'crashed';

/** --local's last words, on stderr after the function's logs: the verdict and what reached the fakes. */
function summary(deployment: LocalDeployment, verdict: string, result?: unknown): void {
  const delivered = deployment.delivered();
  const status = (result as { hookStatus?: unknown } | null | undefined)?.hookStatus;
  // An ECS lifecycle hook answers by its return value: ECS reads hookStatus from the response.
  const returned =
    deployment.kind === 'ecs-lifecycle-hook' && status !== undefined
      ? [`returned to ECS: hookStatus ${String(status)} (the response above)`]
      : [];
  const lines = [...delivered, ...returned];
  console.error(
    `\nlocal verdict: ${verdict}\ndelivered:\n${(lines.length > 0 ? lines : ['nothing (no call that decides a deployment)']).map((l) => `  ${l}`).join('\n')}`,
  );
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      local: { type: 'boolean' },
      'green-fails': { type: 'boolean' },
      plan: { type: 'string' },
      hook: { type: 'string' },
      'no-moto': { type: 'boolean' },
      'env-vars': { type: 'string' },
      'parameter-overrides': { type: 'string', multiple: true },
      template: { type: 'string', default: 'template.yaml' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function splitHandler(handler: string): [string, string] {
  const i = handler.lastIndexOf('.');
  return [handler.slice(0, i), handler.slice(i + 1)];
}
