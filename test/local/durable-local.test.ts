import { describe, expect, it, vi } from 'vitest';
import { durableStartAdapter } from '../../lib/aws/durable-start.ts';
import { lambdaClient } from '../../lib/aws/lambda.ts';
import { type DurableProgress, localDurable, startDurableInvokeStandIn } from '../../local/durable-local.ts';

/**
 * The local durable start port (local/durable-local.ts): runs a durable handler on the SDK's
 * LocalDurableTestRunner with skipped time, and answers Lambda's Invoke API for durable starts on loopback,
 * so that the real adapter (lib/aws/durable-start.ts) starts executions on it.
 */

const bake = async (_event: unknown, ctx: import('@aws/durable-execution-sdk-js').DurableContext) => {
  const first = await ctx.step('measure-0', async () => Date.now());
  await ctx.wait('wait-0', { seconds: 600 });
  const second = await ctx.step('measure-1', async () => Date.now());
  await ctx.wait('wait-1', { seconds: 60 });
  const third = await ctx.step('measure-2', async () => Date.now());
  return { after10min: second - first, after11min: third - first };
};

describe('localDurable', () => {
  it('runs an execution once per name, moves the clock to the end of each durable wait, and reports each step and wait once', async () => {
    const seen: DurableProgress[] = [];
    const local = localDurable({ handler: bake, onProgress: (e) => seen.push(e) });

    expect(await local.start({ functionArn: 'arn:fn:live', name: 'gl-x-1', payload: { v: 1 } })).toBe('started');
    // As Lambda: the same name and payload find the execution started (nothing new runs) ...
    expect(await local.start({ functionArn: 'arn:fn:live', name: 'gl-x-1', payload: { v: 1 } })).toBe('started');
    // ... another payload under the name is refused.
    expect(await local.start({ functionArn: 'arn:fn:live', name: 'gl-x-1', payload: { v: 2 } })).toBe(
      'already-started',
    );
    const before = Date.now();
    const [execution, ...more] = await local.settle();

    expect(more).toEqual([]);
    expect(execution?.status).toBe('SUCCEEDED');
    const result = execution?.result as { after10min: number; after11min: number };
    expect(result.after10min).toBeGreaterThanOrEqual(600_000);
    expect(result.after10min).toBeLessThan(610_000);
    expect(result.after11min - result.after10min).toBeGreaterThanOrEqual(60_000);
    expect(result.after11min - result.after10min).toBeLessThan(70_000);
    expect(execution?.operations).toEqual([
      'STEP:measure-0',
      'WAIT:wait-0',
      'STEP:measure-1',
      'WAIT:wait-1',
      'STEP:measure-2',
    ]);
    expect(seen.filter((e) => e.kind === 'step').map((e) => e.kind === 'step' && e.name)).toEqual([
      'measure-0',
      'measure-1',
      'measure-2',
    ]);
    expect(seen.filter((e) => e.kind === 'wait').map((e) => e.kind === 'wait' && e.seconds)).toEqual([600, 60]);
    // Eleven minutes of waits took seconds, and the process's clock is back to real time.
    expect(execution?.realMs).toBeLessThan(15_000);
    expect(Date.now() - before).toBeLessThan(60_000);
    expect(await local.settle()).toEqual([]);
  }, 30_000);

  it('refuses an execution name Lambda would refuse', async () => {
    const local = localDurable({ handler: bake });

    await expect(local.start({ functionArn: 'arn:fn:live', name: 'has space', payload: {} })).rejects.toThrow(
      /invalid DurableExecutionName/,
    );
  });
});

describe('startDurableInvokeStandIn, through the real adapter (lib/aws/durable-start.ts)', () => {
  it('queues a durable start (202), answers a duplicate as Lambda does, and runs the execution once on settle', async () => {
    const local = localDurable({ handler: bake });
    const standIn = await startDurableInvokeStandIn(local);
    try {
      vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', standIn.url);
      vi.stubEnv('AWS_REGION', 'us-east-1');
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
      const port = durableStartAdapter(lambdaClient);
      const request = {
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:greenlight-durable-analysis:live',
        name: 'gl-codedeploy-hook-0123456789abcdef0123456789abcdef01234567',
        payload: { v: 1, trigger: 'codedeploy-hook', event: { DeploymentId: 'd-1' } },
      };

      expect(await port.start(request)).toBe('started');
      // Lambda answers the same name with the same payload as it did the first time (202): idempotent.
      expect(await port.start(request)).toBe('started');
      // The same name with another payload: Lambda's DurableExecutionAlreadyStartedException.
      expect(await port.start({ ...request, payload: { v: 1, trigger: 'codedeploy-hook', event: {} } })).toBe(
        'already-started',
      );
      const ran = await local.settle();
      expect(ran.map((e) => [e.name, e.functionArn, e.status])).toEqual([
        [request.name, request.functionArn, 'SUCCEEDED'],
      ]);
      expect(ran[0]?.payload).toEqual(request.payload);
    } finally {
      await standIn.close();
    }
  }, 30_000);
});
