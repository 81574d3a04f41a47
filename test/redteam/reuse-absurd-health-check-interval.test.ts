import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecsChecksAdapter } from '../../lib/aws/ecs-checks.ts';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import type { Clock, Observation } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { type EcsFake, type FakeTask, startEcsFake } from '../../local/fakes/ecs.ts';

// Red team (issue 14 read reuse): ecs-tasks took the container health check interval from DescribeTaskDefinition
// as `Math.max(5, Math.min(...intervals))`. An interval that is not a number (a string ECS never sends, or a
// missing value that JSON made null/NaN) gave a NaN floor, and `now - at >= NaN` is never true: the first
// description of the tasks stood for the whole hook, so a task that turned UNHEALTHY was never seen. A huge
// interval did the same. Only a number ECS accepts (5-300 s) may bound the reuse.

const base = 'arn:aws:ecs:us-east-1:123456789012';
const cluster = 'rt4-absurd';
const taskSet = 'ecs-svc/9234567890123456789';
let ecs: EcsFake;
let client: ECSClient;
let now = 1_800_000_000_000;
const clock: Clock = { now: () => now, sleep: async () => {} };

beforeAll(async () => {
  ecs = await startEcsFake();
  client = new ECSClient({
    region: 'us-east-1',
    endpoint: ecs.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client?.destroy();
  await ecs?.close();
});

describe('ecs-tasks with an absurd container health check interval', () => {
  it.each([
    ['a string', 'abc', 1],
    ['a huge number', 1e9, 400],
  ])(
    '(%s) still describes the tasks once past 300 s, and sees one that turned UNHEALTHY',
    async (_what, interval, i) => {
      const taskDefinition = `${base}:task-definition/absurd:${i}`;
      ecs.addTaskDefinition({
        taskDefinitionArn: taskDefinition,
        containerDefinitions: [{ name: 'c0', healthCheck: { command: ['CMD', 'true'], interval } }],
      });
      const task = (health: string): FakeTask => ({
        taskArn: `${base}:task/${cluster}/absurd${i}`,
        taskDefinitionArn: taskDefinition,
        startedBy: `${taskSet}${i}`,
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        healthStatus: health,
        containers: [{ name: 'c0', lastStatus: 'RUNNING', healthStatus: health }],
      });
      ecs.addTasks(cluster, [task('HEALTHY')]);
      const plan = parsePlan({
        version: 1,
        hooks: { '*': ['tasks'] },
        checks: { tasks: { type: 'ecs-tasks', cluster, service: 'orders', taskSet: `${taskSet}${i}` } },
      });
      const [run] = buildRuns(Object.values(plan.checks), {}, {
        clock,
        ecs: ecsChecksAdapter(() => client),
      } as CheckDeps);
      if (!run) throw new Error('no run');
      const seen: Observation[] = [];
      seen.push(await run.measure(AbortSignal.timeout(5_000)));
      ecs.addTasks(cluster, [task('UNHEALTHY')]);
      now += 301_000;
      seen.push(await run.measure(AbortSignal.timeout(5_000)));
      expect(seen.map((o) => o.outcome)).toEqual(['pass', 'fail']);
    },
  );
});
