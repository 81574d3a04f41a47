import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { readBuildTargets } from './build-targets.ts';
import { type DurableProgress, type LocalDurable, localDurable, startDurableInvokeStandIn } from './durable-local.ts';
import { localFunction, readTemplate } from './template.ts';

/**
 * `npm run invoke` and durable executions (issue 13), beside cli/invoke.ts:
 * - `npm run invoke -- DurableAnalysisFunction start.json` runs the durable function in this process on the
 *   SDK's LocalDurableTestRunner with skipped time, printing each step and durable wait to stderr and the
 *   execution's result (JSON) to stdout. start.json is what an entry function sends it:
 *   `{"v":1,"trigger":"codedeploy-hook","event":{"DeploymentId":"d-...","LifecycleEventHookExecutionId":"..."}}`.
 * - for an entry function that starts durable executions (GREENLIGHT_DURABLE_FUNCTION in the template),
 *   Lambda's Invoke API for durable starts is answered on 127.0.0.1 (unless the shell sets
 *   AWS_ENDPOINT_URL_LAMBDA or GREENLIGHT_DURABLE_FUNCTION), and after the function returns, the execution
 *   it started runs here the same way, to its verdict.
 */

/** The template's durable function. */
export const durableLogicalId = 'DurableAnalysisFunction';

/** Runs `invoke` (cli/invoke.ts's command) with durable executions followed locally. Returns the exit code. */
export async function invokeWithDurable(
  argv: readonly string[],
  invoke: (argv: readonly string[]) => Promise<number>,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: false,
    options: {
      'env-vars': { type: 'string' },
      'parameter-overrides': { type: 'string', multiple: true },
      template: { type: 'string', default: 'template.yaml' },
    },
  });
  const [logicalId, eventPath] = positionals;
  if (typeof logicalId !== 'string' || typeof values.template !== 'string') return invoke(argv);
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const parameters = Object.fromEntries(
    ((values['parameter-overrides'] as string[] | undefined) ?? []).map((pair) => {
      const i = pair.indexOf('=');
      return [pair.slice(0, i), pair.slice(i + 1)];
    }),
  );
  let template: Awaited<ReturnType<typeof readTemplate>>;
  try {
    template = await readTemplate(values.template);
  } catch {
    return invoke(argv);
  }
  if (!template.Resources[durableLogicalId]) return invoke(argv);
  const durableFn = localFunction(template, durableLogicalId, {
    parameters,
    region,
    stackName: 'greenlight-local',
    builds: await readBuildTargets(dirname(values.template)),
  });
  const envFile = typeof values['env-vars'] === 'string' ? await readEnvVars(values['env-vars']) : {};
  const fromShell = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && /^(AWS_|GREENLIGHT_|POWERTOOLS_)/.test(k)),
  ) as Record<string, string>;
  const local = localDurable({
    environment: {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...durableFn.environment,
      ...fromShell,
      ...(envFile.Parameters ?? {}),
      ...(envFile[durableLogicalId] ?? {}),
      AWS_LAMBDA_FUNCTION_NAME: durableFn.functionName,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_SAM_LOCAL: 'true',
    },
    onProgress: printProgress,
  });
  const aliasArn = `arn:aws:lambda:${region}:123456789012:function:${durableFn.functionName}:live`;

  if (logicalId === durableLogicalId && argv.includes('--local')) {
    // --local builds the deployment an entry function's event names; a start payload is what an entry
    // function sends once it has confirmed that deployment, so it is run through the entry function.
    console.error(
      `invoke: --local runs the entry functions against greenlight's fakes; ${durableLogicalId} runs what they start. Run the entry function (for a CodeDeploy hook: npm run invoke -- --local CodeDeployHookFunction events/codedeploy-hook/<event>.json --plan <a plan longer than the invocation>), or this start payload without --local, with AWS_ENDPOINT_URL_<SERVICE> pointing at your own fakes (docs/durable.md).`,
    );
    return 2;
  }
  if (logicalId === durableLogicalId) {
    let payload: unknown;
    try {
      payload = JSON.parse(await readFile(String(eventPath), 'utf8'));
    } catch (error) {
      console.error(`invoke: cannot use event ${eventPath}: ${(error as NodeJS.ErrnoException).code ?? error}`);
      return 2;
    }
    console.error(
      `invoking ${durableLogicalId} (${durableFn.functionName}) with ${eventPath}: a durable execution on LocalDurableTestRunner, time skipped`,
    );
    await local.start({ functionArn: aliasArn, name: `local-${Date.now()}`, payload });
    return report(local, true);
  }

  const entry = template.Resources[logicalId]?.Properties?.Environment as
    | { Variables?: Record<string, unknown> }
    | undefined;
  const starts = entry?.Variables?.GREENLIGHT_DURABLE_FUNCTION !== undefined;
  if (!starts || fromShell.AWS_ENDPOINT_URL_LAMBDA || fromShell.GREENLIGHT_DURABLE_FUNCTION) return invoke(argv);
  const standIn = await startDurableInvokeStandIn(local);
  process.env.AWS_ENDPOINT_URL_LAMBDA = standIn.url;
  process.env.GREENLIGHT_DURABLE_FUNCTION = aliasArn;
  console.error(
    `durable starts: Lambda Invoke stand-in at ${standIn.url}; executions run here on LocalDurableTestRunner`,
  );
  try {
    const code = await invoke(argv);
    const followed = await report(local, false);
    return code !== 0 ? code : followed;
  } finally {
    delete process.env.AWS_ENDPOINT_URL_LAMBDA;
    delete process.env.GREENLIGHT_DURABLE_FUNCTION;
    await standIn.close();
  }
}

/** Runs what was started; the execution's result goes to stdout (the durable function's own invoke) or stderr. */
async function report(local: LocalDurable, toStdout: boolean): Promise<number> {
  // The function logs to stdout, as in Lambda; here stdout carries the response only.
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  let ran: Awaited<ReturnType<LocalDurable['settle']>>;
  try {
    ran = await local.settle();
  } finally {
    process.stdout.write = write;
  }
  let code = 0;
  for (const e of ran) {
    const summary = { execution: e.name, status: e.status, result: e.result, ...(e.error ? { error: e.error } : {}) };
    if (toStdout) console.log(JSON.stringify(summary, null, 2));
    else console.error(`durable execution ${JSON.stringify(summary)}`);
    if (e.status !== 'SUCCEEDED') code = 1;
  }
  return code;
}

function printProgress(e: DurableProgress): void {
  const at = (ms: number) => `+${(ms / 60_000).toFixed(1)} min`;
  if (e.kind === 'start') console.error(`durable execution ${e.execution} starts`);
  if (e.kind === 'step') console.error(`  ${at(e.atMs)}  step ${e.name}`);
  if (e.kind === 'wait') console.error(`  ${at(e.atMs)}  waiting ${e.seconds} s (durable wait, no compute)`);
  if (e.kind === 'end') console.error(`durable execution ${e.status.toLowerCase()} at ${at(e.atMs)} (time skipped)`);
}

async function readEnvVars(path: string): Promise<Record<string, Record<string, string>>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, Record<string, string>>;
  } catch {
    // cli/invoke.ts reports an unreadable file with its exit code.
    return {};
  }
}
