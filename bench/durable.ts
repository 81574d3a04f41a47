// Compute billed for a long bake (issue 13): a 30-minute watch of 30 measurements, one a minute, as the
// self-invocation chain ran it (the PAUSE gate and wait gate at commit 8ca4cd7) and as the durable
// execution runs it (functions/durable-analysis on LocalDurableTestRunner, time skipped, probing a real
// local HTTP green). Part of `npm run bench` (bench/run.ts); alone: `node bench/durable.ts` prints the
// section and puts it into bench/results.md in place of the previous one.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { localDurable } from '../local/durable-local.ts';
import { lambdaDeployment, startCodeDeployFake } from '../local/fakes/codedeploy.ts';

const root = resolve(import.meta.dirname, '..');
/** The bake: `count` measurements `intervalMs` apart; green answers each probe after `probeMs`. */
const bake = { count: 30, intervalMs: 60_000, probeMs: 100 } as const;
/** The gates' invocation at 8ca4cd7: the template's Timeout, less the default report reserve. */
const chainInvocationMs = 900_000 - 5_000;
const goal = 2;

export interface DurableBench {
  readonly measurements: number;
  /** The measurements' own time: each probe's duration as the check measured it, summed. */
  readonly measuringMs: number;
  readonly wallMs: number;
  readonly durable: {
    readonly billedMs: number;
    readonly runnerInvocations: number;
    readonly lambdaInvocations: number;
  };
  readonly chain: { readonly billedMs: number; readonly invocations: number };
}

/** Runs the durable bake once and models the chain for the same schedule. */
export async function runDurableBench(): Promise<DurableBench> {
  const green: Server = createServer((_req, res) => {
    setTimeout(() => res.end('ok'), bake.probeMs);
  });
  await new Promise<void>((done) => green.listen(0, '127.0.0.1', done));
  const { port } = green.address() as AddressInfo;
  const codedeploy = await startCodeDeployFake();
  codedeploy.addDeployment(lambdaDeployment({ deploymentId: 'd-BENCH0001', hook: 'AfterAllowTraffic' }));
  const durations: number[] = [];
  const local = localDurable({
    environment: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
      AWS_LAMBDA_FUNCTION_NAME: 'greenlight-bench-durable-analysis',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'true',
      GREENLIGHT_PUBLISH_VERDICTS: 'false',
      GREENLIGHT_PLAN: JSON.stringify({
        version: 1,
        allow: { addresses: ['loopback'] },
        hooks: { AfterAllowTraffic: ['bake'] },
        checks: {
          bake: {
            type: 'http',
            url: `http://127.0.0.1:${port}/health`,
            count: bake.count,
            interval: `${bake.intervalMs / 1000}s`,
            timeout: '2s',
          },
        },
      }),
    },
  });
  // The function's log lines (JSON on stdout): each measurement's duration, as the check measured it.
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (!line.includes('"measurement"')) continue;
      try {
        const record = JSON.parse(line) as { message?: string; durationMs?: number };
        if (record.message === 'measurement' && typeof record.durationMs === 'number')
          durations.push(record.durationMs);
      } catch {
        // not a log line
      }
    }
    return true;
  }) as typeof process.stdout.write;
  let ran: Awaited<ReturnType<typeof local.settle>>;
  try {
    await local.start({
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:greenlight-bench-durable-analysis:live',
      name: 'gl-bench-1',
      payload: {
        v: 1,
        trigger: 'codedeploy-hook',
        event: { DeploymentId: 'd-BENCH0001', LifecycleEventHookExecutionId: '00000000-0000-4000-8000-000000000001' },
      },
    });
    ran = await local.settle();
  } finally {
    process.stdout.write = write;
    await codedeploy.close();
    await new Promise((done) => green.close(done));
  }
  const execution = ran[0];
  const verdict = execution?.result as { analysis?: string; rounds?: number } | undefined;
  if (execution?.status !== 'SUCCEEDED' || verdict?.analysis !== 'pass' || durations.length !== bake.count) {
    throw new Error(
      `the durable bake did not run as planned: ${execution?.status} ${JSON.stringify(verdict)} ${durations.length} measurements ${execution?.error ?? ''}`,
    );
  }
  const measuringMs = durations.reduce((a, b) => a + b, 0);
  const wallMs = execution.virtualMs;
  const waits = execution.operations.filter((op) => op.startsWith('WAIT:')).length;
  return {
    measurements: durations.length,
    measuringMs,
    wallMs,
    durable: {
      billedMs: execution.invocations.reduce((a, b) => a + b, 0),
      runnerInvocations: execution.invocations.length,
      lambdaInvocations: waits + 1,
    },
    chain: chainModel(wallMs),
  };
}

/**
 * The self-invocation chain at 8ca4cd7, modelled from its code rather than run for 30 real minutes: a gate
 * invocation measures, then sleeps until the next measurement inside the invocation (lib/core/analyze.ts:
 * `await clock.sleep(wait)` while the next measurement fits before `suspendAt`), for as long as its time
 * lasts (the function's 900 s less the 5 s report reserve); then it invokes itself asynchronously with the
 * state (lib/aws/lambda-async.ts, InvocationType Event) and the new invocation sleeps until the next
 * measurement is due. Lambda bills each invocation from start to return: the chain is billed for the whole
 * bake, sleeps included. Each leg's own start-up (init, state verification) would add to this: not counted,
 * so the figure is a lower bound.
 */
function chainModel(wallMs: number): { billedMs: number; invocations: number } {
  return { billedMs: wallMs, invocations: Math.ceil(wallMs / chainInvocationMs) };
}

/** The section of bench/results.md, in markdown lines. */
export async function durableBenchSection(): Promise<string[]> {
  const r = await runDurableBench();
  const s = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 0);
  const ratio = (ms: number) => `${(ms / r.measuringMs).toFixed(1)}x`;
  const met = (ms: number) => (ms <= goal * r.measuringMs ? 'yes' : 'no');
  return [
    begin,
    `## Long bakes: compute billed, self-invocation chain against durable execution (goal: billed within ${goal}x the measurements' own time)`,
    '',
    `A 30-minute AfterAllowTraffic bake: ${r.measurements} measurements, one every ${bake.intervalMs / 1000} s, of a local HTTP green that answers each probe after ${bake.probeMs} ms. Measurements' own time: the probes' durations as the check measured them, summed. Billed: handler active time (Lambda bills each invocation from start to return).`,
    '',
    "- Durable execution: measured. functions/durable-analysis ran on the durable SDK's LocalDurableTestRunner (local/durable-local.ts), waits skipped, probing the real local green; billed is the sum of the active (real) time of every invocation the runner made (replays included). In Lambda every durable wait ends the invocation (the SDK ends it 20 ms after all that is left is waiting) and the next one replays from the checkpoints, so Lambda makes one invocation per wait plus one; the runner here completes a skipped wait within those 20 ms and goes on in the same invocation, so Lambda adds its own per-invocation start to these figures.",
    `- Self-invocation chain (PAUSE gate and wait gate at 8ca4cd7): modelled from the code, not run for 30 real minutes: each invocation sleeps between measurements until its ${chainInvocationMs / 1000} s are spent, then invokes itself and the next one sleeps on; billed is the whole wall time (a lower bound: each link's start-up is not counted).`,
    '',
    "| | wall time (s) | measurements' own time (s) | invocations | billed (s) | billed / measurements' time | goal met |",
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| self-invocation chain (8ca4cd7, modelled) | ${s(r.wallMs)} | ${s(r.measuringMs)} | ${r.chain.invocations} | ${s(r.chain.billedMs)} | ${ratio(r.chain.billedMs)} | ${met(r.chain.billedMs)} |`,
    `| durable execution (measured) | ${s(r.wallMs)} | ${s(r.measuringMs)} | ${r.durable.lambdaInvocations} in Lambda (${r.durable.runnerInvocations} here) | ${s(r.durable.billedMs)} | ${ratio(r.durable.billedMs)} | ${met(r.durable.billedMs)} |`,
    end,
    '',
  ];
}

const begin = '<!-- durable: written by bench/durable.ts -->';
const end = '<!-- /durable -->';

if (import.meta.main) {
  const section = (await durableBenchSection()).join('\n');
  process.stderr.write(`${section}\n`);
  const path = join(root, 'bench', 'results.md');
  const current = await readFile(path, 'utf8').catch(() => '# greenlight benchmark results\n');
  const a = current.indexOf(begin);
  const b = current.indexOf(end);
  await writeFile(
    path,
    a >= 0 && b > a
      ? `${current.slice(0, a)}${section}${current.slice(b + end.length)}`
      : `${current.trimEnd()}\n\n${section}\n`,
  );
  process.stderr.write('written to bench/results.md\n');
}
