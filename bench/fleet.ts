// The fleet simulation of `npm run bench`: N concurrent healthy ECS native deployments, each running the
// typical plan (http, ecs-service, ecs-tasks, target-health, cloudwatch-alarms, cloudwatch-metric; count 12,
// every 5 s) against one loopback AWS that throttles as AWS does, per account, with the published token
// buckets:
//   CloudWatch DescribeAlarms 9/s, GetMetricData 50/s
//     https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html
//   ELBv2 Describe* bucket 40, refill 10/s
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html
//   ECS reads (Describe*, List*) bucket 100, refill 20/s
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/request-throttling.html
// Every deployment is its own set of SDK clients and ports (one Lambda invocation each), resolving its
// context with the ECS trigger's own resolveEcsContext and measuring with the real check kinds and the real
// analysis. A deployment whose verdict is not a pass is a false rollback: green is healthy throughout.
//
// Time is scaled by `scale`: every duration of the plan, the hook's deadline and the SDK's retry delays are
// divided by it, and every bucket refills `scale` times faster (bucket sizes unchanged), so that the
// simulation keeps AWS's ratios between demand and supply while running `scale` times faster.
//   npm run bench -- --fleet-only [--fleet-scale 2] [--fleet-levels 1,50,100,150,200] (the defaults)

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { cloudWatchAdapter } from '../lib/aws/cloudwatch.ts';
import { ecsAdapter } from '../lib/aws/ecs.ts';
import { ecsChecksAdapter } from '../lib/aws/ecs-checks.ts';
import { forwardAdapter, listenerAdapter } from '../lib/aws/elbv2.ts';
import { targetHealthAdapter } from '../lib/aws/target-health.ts';
import { buildRuns, usedPlaceholders } from '../lib/checks/build-runs.ts';
import type { CheckDeps } from '../lib/checks/kind.ts';
import { analyze } from '../lib/core/analyze.ts';
import { parsePlan } from '../lib/plan/schema.ts';
import { systemClock } from '../lib/runtime/clock.ts';
import { resolveEcsContext } from '../lib/triggers/ecs/context.ts';
import { FakeAwsError, type JsonFake, startJsonFake } from '../local/fakes/json-server.ts';
import { fleetClients } from './fleet-clients.ts';

const region = 'us-east-1';
const account = '123456789012';
const cluster = 'fleet';

/** AWS's published per-account buckets (see the header): size, and refill per second. */
export const awsLimits = {
  'CloudWatch DescribeAlarms': { size: 9, refill: 9 },
  'CloudWatch GetMetricData': { size: 50, refill: 50 },
  'ELBv2 Describe*': { size: 40, refill: 10 },
  'ECS reads': { size: 100, refill: 20 },
} as const;
type BucketName = keyof typeof awsLimits;

/** A token bucket on the wall clock, refilling `scale` times faster than AWS's. */
class TokenBucket {
  private tokens: number;
  private at = performance.now();
  private readonly size: number;
  private readonly refillPerMs: number;
  constructor(size: number, refillPerMs: number) {
    this.size = size;
    this.refillPerMs = refillPerMs;
    this.tokens = size;
  }
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.size, this.tokens + (now - this.at) * this.refillPerMs);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface FleetCounts {
  /** The 99th percentile of the loopback AWS's own event-loop delay (ms), when it runs in a worker. */
  readonly awsLagP99Ms?: number;
  /** Requests answered, by operation. */
  readonly answered: Map<string, number>;
  /** Requests refused with a throttling error, by bucket. */
  readonly throttled: Map<string, number>;
}

export interface LoopbackAws {
  readonly counts: FleetCounts;
  readonly greenPort: number;
  /** The `AWS_ENDPOINT_URL_*` variables that point the SDK at it. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Fresh buckets and counts for the next level. */
  reset(): void;
  close(): Promise<void>;
}

/** The loopback AWS as the fleet drives it: in a worker thread (bench/fleet-worker.ts), or in-process. */
export interface FleetAws {
  reset(): Promise<void>;
  counts(): Promise<FleetCounts>;
  close(): Promise<void>;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** `svc-12` from any ARN or name that carries it. */
function serviceOf(text: unknown): string {
  return /svc-\d+/.exec(String(text))?.[0] ?? 'svc-0';
}

const arn = {
  revision: (svc: string) => `arn:aws:ecs:${region}:${account}:service-revision/${cluster}/${svc}/9000000000000000001`,
  deployment: (svc: string) =>
    `arn:aws:ecs:${region}:${account}:service-deployment/${cluster}/${svc}/dep${svc.slice(4)}`,
  service: (svc: string) => `arn:aws:ecs:${region}:${account}:service/${cluster}/${svc}`,
  taskDefinition: (svc: string) => `arn:aws:ecs:${region}:${account}:task-definition/${svc}:2`,
  task: (svc: string, i: number) => `arn:aws:ecs:${region}:${account}:task/${cluster}/${svc}t${i}`,
  lb: (svc: string) => `arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/app/${svc}/50dc6c495c0c9188`,
  listener: (svc: string, kind: 'prod' | 'test') =>
    `arn:aws:elasticloadbalancing:${region}:${account}:listener/app/${svc}/50dc6c495c0c9188/${kind === 'prod' ? 'f2f7dc8efc522ab2' : 'a1b2c3d4e5f6a7b8'}`,
  rule: (svc: string, kind: 'prod' | 'test') =>
    `arn:aws:elasticloadbalancing:${region}:${account}:listener-rule/app/${svc}/50dc6c495c0c9188/${kind === 'prod' ? 'f2f7dc8efc522ab2' : 'a1b2c3d4e5f6a7b8'}/9683b2d02a6cabee`,
  targetGroup: (svc: string, color: 'blue' | 'green') =>
    `arn:aws:elasticloadbalancing:${region}:${account}:targetgroup/${svc}-${color}/${color === 'blue' ? '73e2d6bc24d8a067' : '83e2d6bc24d8a068'}`,
};

export async function startLoopbackAws(scale: number): Promise<LoopbackAws> {
  // AWS's own intervals (health checks, alarm periods) scale with the plan, keeping their ratios to it.
  const seconds = (s: number) => Math.max(1, Math.round(s / scale));
  let buckets = new Map<BucketName, TokenBucket>();
  const counts: FleetCounts = { answered: new Map(), throttled: new Map() };
  const reset = () => {
    buckets = new Map(
      Object.entries(awsLimits).map(([name, l]) => [
        name as BucketName,
        new TokenBucket(l.size, (l.refill * scale) / 1000),
      ]),
    );
    counts.answered.clear();
    counts.throttled.clear();
  };
  reset();
  const admit = (bucket: BucketName, operation: string): boolean => {
    if ((buckets.get(bucket) as TokenBucket).take()) {
      bump(counts.answered, operation);
      return true;
    }
    bump(counts.throttled, bucket);
    return false;
  };
  const json =
    (bucket: BucketName, operation: string, answer: (input: Record<string, unknown>) => unknown) =>
    (input: Record<string, unknown>) => {
      if (!admit(bucket, operation)) throw new FakeAwsError('ThrottlingException', 'Rate exceeded');
      return answer(input);
    };

  // The green every test listener reaches.
  const green = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  green.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => green.listen(0, '127.0.0.1', resolve));
  const greenPort = (green.address() as AddressInfo).port;

  const now = () => Date.now() / 1000;
  const ecs: JsonFake = await startJsonFake({
    operations: {
      DescribeServiceDeployments: json('ECS reads', 'ECS DescribeServiceDeployments', (input) => ({
        serviceDeployments: ((input.serviceDeploymentArns as string[]) ?? []).map((a) => {
          const svc = serviceOf(a);
          return {
            serviceDeploymentArn: a,
            serviceArn: arn.service(svc),
            clusterArn: `arn:aws:ecs:${region}:${account}:cluster/${cluster}`,
            status: 'IN_PROGRESS',
            lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
            targetServiceRevision: {
              arn: arn.revision(svc),
              requestedTaskCount: 2,
              runningTaskCount: 2,
              pendingTaskCount: 0,
            },
          };
        }),
        failures: [],
      })),
      ListServiceDeployments: json('ECS reads', 'ECS ListServiceDeployments', (input) => {
        const svc = serviceOf(input.service);
        return {
          serviceDeployments: [
            {
              serviceDeploymentArn: arn.deployment(svc),
              targetServiceRevisionArn: arn.revision(svc),
              status: 'IN_PROGRESS',
            },
          ],
        };
      }),
      DescribeServiceRevisions: json('ECS reads', 'ECS DescribeServiceRevisions', (input) => ({
        serviceRevisions: ((input.serviceRevisionArns as string[]) ?? []).map((a) => {
          const svc = serviceOf(a);
          return {
            serviceRevisionArn: a,
            taskDefinition: arn.taskDefinition(svc),
            createdAt: now() - 600,
            loadBalancers: [
              {
                targetGroupArn: arn.targetGroup(svc, 'blue'),
                containerName: 'app',
                containerPort: 8080,
                advancedConfiguration: {
                  alternateTargetGroupArn: arn.targetGroup(svc, 'green'),
                  productionListenerRule: arn.rule(svc, 'prod'),
                  testListenerRule: arn.rule(svc, 'test'),
                  roleArn: `arn:aws:iam::${account}:role/ecs-lb`,
                },
              },
            ],
          };
        }),
        failures: [],
      })),
      DescribeTaskDefinition: json('ECS reads', 'ECS DescribeTaskDefinition', (input) => ({
        taskDefinition: {
          taskDefinitionArn: arn.taskDefinition(serviceOf(input.taskDefinition)),
          containerDefinitions: [{ name: 'app', healthCheck: { command: ['CMD', 'true'], interval: seconds(30) } }],
        },
      })),
      ListTasks: json('ECS reads', 'ECS ListTasks', (input) => {
        const svc = serviceOf(input.serviceName ?? input.startedBy);
        return { taskArns: input.desiredStatus === 'STOPPED' ? [] : [arn.task(svc, 1), arn.task(svc, 2)] };
      }),
      DescribeTasks: json('ECS reads', 'ECS DescribeTasks', (input) => ({
        tasks: ((input.tasks as string[]) ?? []).map((t) => ({
          taskArn: t,
          lastStatus: 'RUNNING',
          desiredStatus: 'RUNNING',
          healthStatus: 'HEALTHY',
          taskDefinitionArn: arn.taskDefinition(serviceOf(t)),
          startedBy: 'ecs-svc/1',
          containers: [{ name: 'app', lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }],
        })),
        failures: [],
      })),
    },
  });

  const cloudwatch: JsonFake = await startJsonFake({
    operations: {
      DescribeAlarms: json('CloudWatch DescribeAlarms', 'CloudWatch DescribeAlarms', (input) => {
        const svc = serviceOf(input.AlarmNamePrefix ?? (input.AlarmNames as string[] | undefined)?.[0]);
        return {
          MetricAlarms: ['5xx', 'latency'].map((n) => ({
            AlarmName: `${svc}-${n}`,
            StateValue: 'OK',
            StateReason: 'Threshold Crossed: no datapoints were breaching',
            Period: seconds(60),
            EvaluationPeriods: 3,
          })),
          CompositeAlarms: [],
        };
      }),
      GetMetricData: json('CloudWatch GetMetricData', 'CloudWatch GetMetricData', (input) => ({
        MetricDataResults: ((input.MetricDataQueries as { Id: string; ReturnData?: boolean }[]) ?? [])
          .filter((q) => q.ReturnData !== false)
          .map((q) => ({ Id: q.Id, StatusCode: 'Complete', Values: [0], Timestamps: [Math.floor(now() / 60) * 60] })),
        Messages: [],
      })),
    },
  });

  const elbOperations: Record<string, (form: URLSearchParams) => string> = {
    DescribeTargetGroups: (form) => {
      const name = form.get('Names.member.1') ?? form.get('TargetGroupArns.member.1') ?? '';
      const svc = serviceOf(name);
      const color = name.includes('blue') ? 'blue' : 'green';
      return `<TargetGroups><member><TargetGroupArn>${arn.targetGroup(svc, color)}</TargetGroupArn><TargetGroupName>${svc}-${color}</TargetGroupName><HealthCheckIntervalSeconds>${seconds(30)}</HealthCheckIntervalSeconds></member></TargetGroups>`;
    },
    DescribeTargetHealth: () =>
      ['10.0.1.10', '10.0.2.10']
        .map(
          (ip) =>
            `<member><Target><Id>${ip}</Id><Port>8080</Port></Target><TargetHealth><State>healthy</State></TargetHealth></member>`,
        )
        .join('')
        .replace(/^/, '<TargetHealthDescriptions>')
        .concat('</TargetHealthDescriptions>'),
    DescribeListeners: (form) => {
      const listener = form.get('ListenerArns.member.1') ?? '';
      const svc = serviceOf(listener);
      return `<Listeners><member><ListenerArn>${listener}</ListenerArn><LoadBalancerArn>${arn.lb(svc)}</LoadBalancerArn><Port>${greenPort}</Port><Protocol>HTTP</Protocol></member></Listeners>`;
    },
    DescribeLoadBalancers: (form) => {
      const lb = form.get('LoadBalancerArns.member.1') ?? '';
      return `<LoadBalancers><member><LoadBalancerArn>${lb}</LoadBalancerArn><DNSName>127.0.0.1</DNSName><Type>application</Type></member></LoadBalancers>`;
    },
    DescribeRules: (form) => {
      const rule = form.get('RuleArns.member.1') ?? '';
      const svc = serviceOf(rule);
      // Before production traffic shifts, production goes to blue and test to green.
      const [blue, green] = rule.includes('f2f7dc8efc522ab2/9683') ? [100, 0] : [0, 100];
      return `<Rules><member><RuleArn>${rule}</RuleArn><Actions><member><Type>forward</Type><ForwardConfig><TargetGroups><member><TargetGroupArn>${arn.targetGroup(svc, 'blue')}</TargetGroupArn><Weight>${blue}</Weight></member><member><TargetGroupArn>${arn.targetGroup(svc, 'green')}</TargetGroupArn><Weight>${green}</Weight></member></TargetGroups></ForwardConfig></member></Actions></member></Rules>`;
    },
  };
  const elb = createServer((req, res) => void answerQuery(req, res, elbOperations, admit));
  elb.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => elb.listen(0, '127.0.0.1', resolve));

  const endpoints = {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'fleet',
    AWS_SECRET_ACCESS_KEY: 'fleet',
    AWS_ENDPOINT_URL_ECS: ecs.url,
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: `http://127.0.0.1:${(elb.address() as AddressInfo).port}`,
  };
  Object.assign(process.env, endpoints);

  return {
    counts,
    greenPort,
    endpoints,
    reset,
    async close() {
      await Promise.all([ecs.close(), cloudwatch.close(), closeServer(elb), closeServer(green)]);
    },
  };
}

async function answerQuery(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Record<string, (form: URLSearchParams) => string>,
  admit: (bucket: BucketName, operation: string) => boolean,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const action = form.get('Action') ?? '';
  const ns = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
  const send = (status: number, xml: string) => {
    res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
  };
  const operation = operations[action];
  if (!operation) {
    send(
      400,
      `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${action}</Message></Error><RequestId>f</RequestId></ErrorResponse>`,
    );
    return;
  }
  if (!admit('ELBv2 Describe*', `ELBv2 ${action}`)) {
    send(
      400,
      `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>f</RequestId></ErrorResponse>`,
    );
    return;
  }
  send(
    200,
    `<${action}Response xmlns="${ns}"><${action}Result>${operation(form)}</${action}Result><ResponseMetadata><RequestId>f</RequestId></ResponseMetadata></${action}Response>`,
  );
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The typical plan, every duration divided by `scale`. */
export function typicalPlan(scale: number): unknown {
  const d = (ms: number) => `${Math.max(1, Math.round(ms / scale))}ms`;
  const every = { count: 12, interval: d(5_000), timeout: d(5_000) };
  return {
    version: 1,
    allow: { addresses: ['loopback'] },
    hooks: { POST_TEST_TRAFFIC_SHIFT: ['http', 'service', 'tasks', 'targets', 'alarms', 'errors'] },
    checks: {
      http: { type: 'http', url: '{{testListenerUrl}}/health', ...every },
      service: { type: 'ecs-service', ...every },
      tasks: { type: 'ecs-tasks', ...every },
      targets: { type: 'target-health', ...every },
      alarms: { type: 'cloudwatch-alarms', alarmPrefix: '{{service}}-', ...every },
      errors: {
        type: 'cloudwatch-metric',
        metrics: {
          errors: {
            namespace: 'AWS/ApplicationELB',
            name: 'HTTPCode_Target_5XX_Count',
            dimensions: { TargetGroup: '{{greenTargetGroupArn}}' },
            stat: 'Sum',
          },
        },
        window: '1m',
        threshold: 10,
        noData: 'pass',
        ...every,
      },
    },
  };
}

export interface LevelResult {
  readonly deployments: number;
  readonly passed: number;
  readonly falseRollbacks: number;
  /** The reasons of the first few false rollbacks. */
  readonly reasons: readonly string[];
  /** Requests AWS answered, per hook. */
  readonly readsPerHook: number;
  /** Requests AWS refused as throttled, per hook. */
  readonly throttledPerHook: number;
  /** Wall time of the level, scaled back to AWS time (seconds). */
  readonly hookSecondsMax: number;
  /**
   * The 99th percentile of the deployments' event-loop delay (ms, unscaled). The deployments share one
   * process here, unlike Lambda's one sandbox each: when this nears a probe's timeout, the machine, not AWS,
   * is deciding, and the level must be run at a smaller scale.
   */
  readonly eventLoopLagP99Ms: number;
  /** The same for the loopback AWS (its worker thread). */
  readonly awsLagP99Ms: number;
  readonly answered: Readonly<Record<string, number>>;
}

export interface FleetOptions {
  readonly levels: readonly number[];
  readonly scale: number;
  /** The hook's analysis deadline, unscaled (ms). Default 14 minutes: a 15-minute Lambda less its report reserve. */
  readonly deadlineMs?: number;
  /** Stop at the first level with a false rollback. Default true. */
  readonly stopAtFirst?: boolean;
  readonly log?: (line: string) => void;
}

/** Runs the levels in turn, each with fresh buckets. */
export async function runFleet(options: FleetOptions): Promise<LevelResult[]> {
  const aws = await startFleetAws(options.scale);
  const results: LevelResult[] = [];
  try {
    for (const n of options.levels) {
      await aws.reset();
      const result = await runLevel(n, options, aws);
      results.push(result);
      options.log?.(
        `fleet: ${n} deployments: ${result.falseRollbacks} false rollbacks, ${result.readsPerHook.toFixed(1)} reads and ${result.throttledPerHook.toFixed(1)} throttled per hook, event-loop delay p99 ${result.eventLoopLagP99Ms.toFixed(0)} ms (loopback AWS ${result.awsLagP99Ms.toFixed(0)} ms), ${result.hookSecondsMax.toFixed(0)} s (AWS time)${result.reasons[0] ? `; first: ${result.reasons[0]}` : ''}`,
      );
      options.log?.(
        `fleet: ${n} deployments: answered per hook: ${Object.entries(result.answered)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
      if (result.falseRollbacks > 0 && options.stopAtFirst !== false) break;
    }
  } finally {
    await aws.close();
  }
  return results;
}

/**
 * The loopback AWS and green in a worker thread, so that their own work (HTTP, XML, token buckets) does not
 * delay the deployments' event loop; the SDK is pointed at it through `AWS_ENDPOINT_URL_*`.
 */
async function startFleetAws(scale: number): Promise<FleetAws> {
  const worker = new Worker(new URL('./fleet-worker.ts', import.meta.url), { workerData: { scale } });
  let seq = 0;
  const pending = new Map<number, (value: unknown) => void>();
  worker.on('message', (m: { id: number; value: unknown }) => {
    pending.get(m.id)?.(m.value);
    pending.delete(m.id);
  });
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  const ask = <T>(kind: string): Promise<T> => {
    const id = ++seq;
    const answer = new Promise<T>((resolve) => pending.set(id, resolve as (value: unknown) => void));
    worker.postMessage({ id, kind });
    return Promise.race([answer, failed]);
  };
  Object.assign(process.env, await ask<Record<string, string>>('endpoints'));
  return {
    reset: () => ask('reset'),
    async counts() {
      const c = await ask<{ answered: [string, number][]; throttled: [string, number][]; lagP99Ms: number }>('counts');
      return { answered: new Map(c.answered), throttled: new Map(c.throttled), awsLagP99Ms: c.lagP99Ms };
    },
    async close() {
      await ask('close');
      await worker.terminate();
    },
  };
}

async function runLevel(n: number, options: FleetOptions, aws: FleetAws): Promise<LevelResult> {
  const plan = parsePlan(typicalPlan(options.scale));
  const names = plan.hooks.POST_TEST_TRAFFIC_SHIFT ?? [];
  const checks = names.map((name) => plan.checks[name]).filter((c) => c !== undefined);
  const needed = usedPlaceholders(checks);
  const deadlineMs = (options.deadlineMs ?? 14 * 60_000) / options.scale;
  const started = performance.now();
  const one = async (i: number): Promise<string | undefined> => {
    const svc = `svc-${i}`;
    const clients = fleetClients(options.scale);
    const signal = AbortSignal.timeout(deadlineMs);
    const deadlineAt = Date.now() + deadlineMs;
    try {
      const context = await resolveEcsContext(
        {
          ecs: ecsAdapter(() => clients.ecs),
          listeners: listenerAdapter(() => clients.elb),
          forwards: forwardAdapter(() => clients.elb),
        },
        {
          stage: 'POST_TEST_TRAFFIC_SHIFT',
          serviceArn: arn.service(svc),
          serviceDeploymentArn: arn.deployment(svc),
          targetServiceRevisionArn: arn.revision(svc),
          region,
        },
        needed,
        signal,
      );
      const deps: CheckDeps = {
        clock: systemClock,
        ecs: ecsChecksAdapter(() => clients.ecs),
        targetHealth: targetHealthAdapter(() => clients.elb),
        cloudwatch: cloudWatchAdapter(() => clients.cloudwatch),
      };
      const runs = buildRuns(checks, context, deps);
      // As the ECS lifecycle hook's legs run it: the analysis deadline lets throttled measurements be taken again.
      const analysis = await analyze({
        checks: runs,
        clock: systemClock,
        signal,
        deadlineAt: deadlineAt - 1,
        ...fleetAnalyzeOptions(svc),
      });
      if (analysis.kind !== 'verdict') return 'suspended';
      return analysis.verdict.status === 'pass' ? undefined : analysis.verdict.reasons.join('; ');
    } catch (error) {
      return `context: ${(error as Error).message}`;
    } finally {
      clients.destroy();
    }
  };
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const outcomes = await Promise.all(Array.from({ length: n }, (_, i) => one(i + 1)));
  lag.disable();
  const counts = await aws.counts();
  const reasons = outcomes.filter((o): o is string => o !== undefined);
  const answered = [...counts.answered.values()].reduce((a, b) => a + b, 0);
  const throttled = [...counts.throttled.values()].reduce((a, b) => a + b, 0);
  return {
    deployments: n,
    passed: n - reasons.length,
    falseRollbacks: reasons.length,
    reasons: reasons.slice(0, 3),
    readsPerHook: answered / n,
    throttledPerHook: throttled / n,
    hookSecondsMax: ((performance.now() - started) * options.scale) / 1000,
    eventLoopLagP99Ms: lag.percentile(99) / 1e6,
    awsLagP99Ms: counts.awsLagP99Ms ?? 0,
    answered: Object.fromEntries([...counts.answered.entries()].map(([k, v]) => [k, Math.round((v / n) * 10) / 10])),
  };
}

/** Analysis options a deployment gets: the hook's own jitter seed. */
function fleetAnalyzeOptions(hook: string): { jitterSeed: string } {
  return { jitterSeed: `${arn.deployment(hook)}/POST_TEST_TRAFFIC_SHIFT` };
}

const begin = '<!-- fleet: written by bench/fleet.ts -->';
const end = '<!-- /fleet -->';

/** The fleet section of bench/results.md. */
export function fleetMarkdown(results: readonly LevelResult[], options: FleetOptions): string {
  const clean = results.filter((r) => r.falseRollbacks === 0).map((r) => r.deployments);
  const first = results.find((r) => r.falseRollbacks > 0);
  const unthrottled = results[0];
  const rows = results.map((r) =>
    [
      String(r.deployments),
      `${r.falseRollbacks}`,
      r.readsPerHook.toFixed(1),
      r.throttledPerHook.toFixed(1),
      r.hookSecondsMax.toFixed(0),
      `${r.eventLoopLagP99Ms.toFixed(0)} / ${r.awsLagP99Ms.toFixed(0)}`,
      r.reasons[0] ? r.reasons[0].slice(0, 160).replace(/\|/g, '/') : '',
    ].join(' | '),
  );
  return [
    begin,
    '## Fleet: concurrent healthy deployments under AWS throttling',
    '',
    `\`npm run bench\` (or \`npm run bench -- --fleet-only\`): N concurrent healthy ECS native deployments at POST_TEST_TRAFFIC_SHIFT, each resolving its context (resolveEcsContext) and running the typical plan (http, ecs-service, ecs-tasks, target-health, cloudwatch-alarms, cloudwatch-metric; count 12, every 5 s, timeout 5 s) through the real SDK clients, ports, check kinds and analysis, against one loopback AWS that applies AWS's published per-account token buckets: CloudWatch DescribeAlarms 9/s and GetMetricData 50/s (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html), ELBv2 Describe* bucket 40 refill 10/s (docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html), ECS reads bucket 100 refill 20/s (docs.aws.amazon.com/AmazonECS/latest/developerguide/request-throttling.html). Time scaled by ${options.scale}: plan durations, AWS's own intervals (target group and container health checks, alarm period), the 14-minute analysis deadline and retry delays divided by ${options.scale}, buckets refilling ${options.scale}x faster (sizes unchanged). The loopback AWS and green run in a worker thread; every deployment shares the main thread (on Lambda each has its own), so both event loops' delay is shown. A verdict that is not a pass is a false rollback.`,
    '',
    `Concurrent healthy deployments before the first false rollback: **${clean.length > 0 ? Math.max(...clean) : 0}**${first ? ` (first false rollback at ${first.deployments})` : ' (none at any level run)'} (goal 200). AWS reads per hook${unthrottled ? ` at ${unthrottled.deployments} deployments: **${unthrottled.readsPerHook.toFixed(1)}**` : ''}.`,
    '',
    '| deployments | false rollbacks | AWS reads answered per hook | throttled per hook | longest hook, s (AWS time; deadline 840) | event-loop delay p99, ms: deployments / loopback AWS | first reason |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r} |`),
    end,
  ].join('\n');
}

/** Puts the fleet section into `markdown`, replacing an earlier one. */
export function withFleetSection(markdown: string, section: string): string {
  const a = markdown.indexOf(begin);
  const b = markdown.indexOf(end);
  if (a >= 0 && b > a) return `${markdown.slice(0, a)}${section}${markdown.slice(b + end.length)}`;
  return `${markdown.trimEnd()}\n\n${section}\n`;
}
