import { parseArgs } from 'node:util';
import { codeDeployAdapter, deploymentGroupsDenied } from '../lib/aws/codedeploy.ts';
import { durableReadAdapter } from '../lib/aws/durable-read.ts';
import { ecsServiceDeploymentsAdapter } from '../lib/aws/service-deployments.ts';
import { parseDuration } from '../lib/spec/fields.ts';
import { newStatusCache, readStatus, type StatusSources, type StatusTarget } from '../lib/status/snapshot.ts';
import { createOutput } from './render.ts';
import { snapshotLines, watchView } from './status-view.ts';

export const statusUsage = `usage: greenlight status (--deployment ID | --cluster NAME --service NAME | --function NAME) [options]

Shows where greenlight is with a deployment: which hook is being judged and by which plan key, each
check's measurements so far and what is left, the time to the hook's deadline, and the verdict once
there is one. Reads what AWS already records, read-only: the deployment's lifecycle (CodeDeploy
GetDeployment and GetDeploymentTarget, ECS DescribeServiceDeployments) and the steps of the durable
executions greenlight runs long analyses in (Lambda GetDurableExecutionHistory). Credentials and
region come from the usual AWS settings (AWS_PROFILE, AWS_REGION, ...).

what to look at (one):
  --deployment ID          a CodeDeploy deployment (d-XXXXXXXXX)
  --cluster NAME --service NAME
                           an ECS service: its newest native deployment, and the CodeDeploy
                           deployments greenlight's durable executions are judging for it
  --function NAME          a Lambda function deployed by CodeDeploy (SAM DeploymentPreference)

options:
  --durable-function NAME  greenlight's durable analysis function, name or ARN (the stack's output
                           DurableAnalysisFunctionArn; default GREENLIGHT_DURABLE_FUNCTION). Without
                           it, only the lifecycle is shown.
  --watch                  follow it live until the deployment ends, printing what changes
  --interval DURATION      how often --watch reads (default 5s; at least 100ms)
  --timeout DURATION       stop watching after this long (exit 1)
  --json                   JSON on stdout: one document; with --watch one document per line (JSON
                           Lines) each time something changes. The shape is in docs/cli.md.
  -h, --help

exit codes: 0 nothing has failed (with --watch: the deployment ended and passed), 1 a verdict
failed or the deployment failed or stopped (or --timeout ran out), 2 usage error or the target
could not be read, 130 interrupted.`;

/** Reads in a row that may fail during a watch before it gives up: AWS answers again after a throttle. */
const watchErrorLimit = 5;
/** How long one read of the deployment may take, throttled reads' retries included. */
const readTimeoutMs = 20_000;

/** `greenlight status`. Returns the exit code. */
export async function statusCommand(argv: readonly string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (error) {
    process.stderr.write(`status: ${(error as Error).message}\n\n${statusUsage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${statusUsage}\n`);
    return 0;
  }
  const usage = (text: string): number => {
    process.stderr.write(`status: ${text}\n\n${statusUsage}\n`);
    return 2;
  };
  const targets: StatusTarget[] = [];
  if (values.deployment !== undefined) targets.push({ kind: 'deployment', deploymentId: values.deployment });
  if (values.cluster !== undefined || values.service !== undefined) {
    if (values.cluster === undefined || values.service === undefined)
      return usage('--cluster and --service go together');
    targets.push({ kind: 'service', cluster: values.cluster, service: values.service });
  }
  if (values.function !== undefined) targets.push({ kind: 'function', functionName: values.function });
  if (targets.length !== 1) return usage('give one of --deployment, --cluster with --service, or --function');
  const target = targets[0] as StatusTarget;
  const intervalMs = values.interval === undefined ? 5_000 : parseDuration(values.interval);
  if (intervalMs === undefined || intervalMs < 100)
    return usage(`--interval ${JSON.stringify(values.interval)}: a duration of at least 100ms (e.g. 5s)`);
  const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout);
  if (values.timeout !== undefined && (timeoutMs === undefined || timeoutMs <= 0)) {
    return usage(`--timeout ${JSON.stringify(values.timeout)}: a duration (e.g. 30m)`);
  }

  const durableFunction = values['durable-function'] ?? process.env.GREENLIGHT_DURABLE_FUNCTION;
  const sources: StatusSources = {
    codedeploy: codeDeployAdapter(),
    ...(durableFunction ? { durable: { port: durableReadAdapter(), functionName: durableFunction } } : {}),
    ...(target.kind === 'service' ? { ecs: ecsServiceDeploymentsAdapter() } : {}),
  };
  const json = values.json === true;
  const out = createOutput({ json });
  const cache = newStatusCache();
  const stop = new AbortController();
  // Each read is bounded: a throttled AWS read otherwise retries for up to 15 minutes (lib/aws/retry.ts), and
  // neither --timeout nor an interrupt could end it.
  const read = () =>
    readStatus(target, sources, Date.now(), cache, AbortSignal.any([stop.signal, AbortSignal.timeout(readTimeoutMs)]));

  if (!values.watch) {
    try {
      const snapshot = await read();
      for (const line of snapshotLines(out, snapshot)) out.line(line);
      out.document(snapshot);
      return snapshot.outcome === 'fail' ? 1 : 0;
    } catch (error) {
      out.problem(`status: could not read ${describe(target)}: ${readable(error)}`);
      return 2;
    }
  }

  const view = watchView(out);
  const interrupted = (): void => stop.abort();
  process.once('SIGINT', interrupted);
  const ends = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  let failures = 0;
  let last = '';
  try {
    for (;;) {
      let snapshot: Awaited<ReturnType<typeof read>> | undefined;
      try {
        snapshot = await read();
        failures = 0;
      } catch (error) {
        failures++;
        // The target itself must be readable once; after that a failed read is retried a few times.
        if (last === '' || failures >= watchErrorLimit) {
          out.problem(`status: could not read ${describe(target)}: ${readable(error)}`);
          return 2;
        }
        out.problem(
          `status: a read failed (${failures} of ${watchErrorLimit} in a row), trying again: ${readable(error)}`,
        );
      }
      if (snapshot) {
        view.update(snapshot);
        const { at: _at, ...comparable } = snapshot;
        const text = JSON.stringify(comparable);
        if (json && text !== last) process.stdout.write(`${JSON.stringify(snapshot)}\n`);
        last = text;
        if (snapshot.done) {
          view.end(snapshot);
          return snapshot.outcome === 'fail' ? 1 : 0;
        }
      }
      if (Date.now() + intervalMs > ends) {
        out.problem(`status: --timeout ${values.timeout} ran out before the deployment ended`);
        return 1;
      }
      await sleep(intervalMs, stop.signal);
      if (stop.signal.aborted) {
        out.problem('status: interrupted');
        return 130;
      }
    }
  } finally {
    process.removeListener('SIGINT', interrupted);
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: false,
    options: {
      deployment: { type: 'string' },
      cluster: { type: 'string' },
      service: { type: 'string' },
      function: { type: 'string' },
      'durable-function': { type: 'string' },
      watch: { type: 'boolean', short: 'w' },
      interval: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function describe(target: StatusTarget): string {
  if (target.kind === 'deployment') return `deployment ${target.deploymentId}`;
  if (target.kind === 'service') return `service ${target.cluster}/${target.service}`;
  return `function ${target.functionName}`;
}

/** The error in words, with the read-only policy to point at when access was denied. */
function readable(error: unknown): string {
  const e = error as Error;
  const message = `${e?.name ?? 'Error'}: ${(e?.message ?? String(error)).replace(` (${deploymentGroupsDenied})`, '')}`;
  return /AccessDenied|not authorized/i.test(message)
    ? `${message} (the read-only policy status needs is in docs/operations.md, "Watching a deployment")`
    : message;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', done);
      resolve();
    }, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
  });
}
