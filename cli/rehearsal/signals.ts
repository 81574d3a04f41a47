import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { breaches, type Comparison } from '../../lib/checks/metric-threshold.ts';
import type { Plan, PlanCheck } from '../../lib/plan/schema.ts';
import type { LocalLoadBalancer } from '../../local/elb-setup.ts';
import { type MetricQuery, startCloudWatchFake } from '../../local/fakes/cloudwatch.ts';
import type { EcsFake, FakeTask } from '../../local/fakes/ecs.ts';
import { startJsonFake } from '../../local/fakes/json-server.ts';
import { startLambdaFake } from '../../local/fakes/lambda.ts';
import { startTargetHealthFake } from '../../local/fakes/target-health.ts';

/**
 * How the signals outside green's HTTP answers look in a scenario: target health, alarms, metrics, ECS tasks,
 * the smoke function, Prometheus and Datadog. `healthy`: every one within what the plan asks; `failing`: every
 * one past it (unhealthy targets, alarms in ALARM, metrics over their thresholds, green tasks stopped, the
 * smoke function throwing).
 */
export type SignalHealth = 'healthy' | 'failing';

/** The name the rehearsal's Prometheus and Datadog stand-in answers on (pinned to 127.0.0.1). */
export const metricsHost = 'metrics.rehearsal.local';

export interface Signals {
  /** AWS_ENDPOINT_URL_<SERVICE> for the fakes started here, and the pinned name. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** GREENLIGHT_RESOLVE entries for the names the fakes answer on. */
  readonly pinned: readonly string[];
  readonly notes: readonly string[];
  /** The plan as the functions get it: prometheus and datadog checks sent to the local stand-in. */
  readonly planText: string;
  close(): Promise<void>;
}

/** Where target health is read: moto_server behind a fake that sets target states, or the built-in stand-in. */
export type TargetHealthSource =
  | { readonly moto: string }
  | {
      readonly standIn: {
        readonly url: string;
        setTargets(arn: string, targets: readonly { id: string; port?: number; state: string }[]): void;
      };
    };

/**
 * Starts the fakes behind every AWS and provider check kind and seeds them for `health`, for the kinds the
 * plan uses. `raw` is the plan as written; its prometheus and datadog checks are pointed at a local
 * stand-in, one path per check, which answers a value on the right side of that check's threshold.
 */
export async function startSignals(o: {
  readonly plan: Plan;
  readonly raw: Record<string, unknown>;
  readonly health: SignalHealth;
  readonly lb: LocalLoadBalancer;
  readonly targets: TargetHealthSource;
}): Promise<Signals> {
  const closers: (() => Promise<void>)[] = [];
  const endpoints: Record<string, string> = {};
  const notes: string[] = [];
  const pinned: string[] = [];
  const checks = Object.entries(o.plan.checks);
  const uses = (kind: string) => checks.some(([, c]) => c.type === kind);
  const ok = o.health === 'healthy';
  try {
    if (uses('target-health')) {
      const state = ok ? 'healthy' : 'unhealthy';
      const green = [
        { id: '10.0.1.10', port: 8080, state },
        { id: '10.0.2.10', port: 8080, state },
      ];
      const blue = [
        { id: '10.0.1.20', port: 8080, state: 'healthy' },
        { id: '10.0.2.20', port: 8080, state: 'healthy' },
      ];
      if ('moto' in o.targets) {
        const fake = await startTargetHealthFake(o.targets.moto);
        closers.push(() => fake.close());
        fake.setTargets(o.lb.greenTargetGroupArn, green);
        fake.setTargets(o.lb.blueTargetGroupArn, blue);
        endpoints.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = fake.url;
        notes.push(`target health       ${fake.url}  (green targets ${state}, in front of moto_server)`);
      } else {
        o.targets.standIn.setTargets(o.lb.greenTargetGroupArn, green);
        o.targets.standIn.setTargets(o.lb.blueTargetGroupArn, blue);
        notes.push(`target health       ${o.targets.standIn.url}  (green targets ${state})`);
      }
    }
    if (uses('cloudwatch-alarms') || uses('cloudwatch-metric')) {
      const metricChecks = checks.filter(([, c]) => c.type === 'cloudwatch-metric');
      const cloudwatch = await startCloudWatchFake({
        alarmState: ok ? 'OK' : 'ALARM',
        valueAt: (query, all) => {
          const check = metricChecks.find(([, c]) => matchesMetricCheck(c, query, all))?.[1];
          const t = check ? threshold(check) : undefined;
          return t ? valueFor(t, ok) : ok ? 0 : 1e9;
        },
      });
      closers.push(() => cloudwatch.close());
      endpoints.AWS_ENDPOINT_URL_CLOUDWATCH = cloudwatch.url;
      notes.push(
        `CloudWatch          ${cloudwatch.url}  (alarms ${ok ? 'OK' : 'in ALARM'}, metrics ${ok ? 'within' : 'past'} each check's threshold)`,
      );
    }
    if (uses('lambda-invoke')) {
      const lambda = await startLambdaFake();
      closers.push(() => lambda.close());
      for (const [, c] of checks) {
        const name = c.type === 'lambda-invoke' ? (c.spec as { functionName?: string }).functionName : undefined;
        if (!name || name.includes('{{')) continue;
        lambda.define(name, () =>
          ok
            ? { payload: '{"ok":true,"status":"ok","version":"green"}' }
            : {
                functionError: 'Unhandled',
                payload: '{"errorType":"Error","errorMessage":"green cannot reach its database"}',
              },
        );
      }
      endpoints.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
      notes.push(`Lambda Invoke       ${lambda.url}  (smoke functions ${ok ? 'answer {"ok":true}' : 'throw'})`);
    }
    // Plans' {{secret:...}} come from SSM: any parameter reads as a placeholder secret here.
    if (Object.keys(o.plan.secrets ?? {}).length > 0 || uses('datadog')) {
      const ssm = await startJsonFake({
        operations: {
          GetParameter: (input) => ({
            Parameter: {
              Name: String(input.Name),
              Type: 'SecureString',
              Value: 'rehearsal-secret',
              Version: 1,
              ARN: `arn:aws:ssm:us-east-1:123456789012:parameter/${String(input.Name).replace(/^\//, '')}`,
            },
          }),
        },
      });
      closers.push(() => ssm.close());
      endpoints.AWS_ENDPOINT_URL_SSM = ssm.url;
      notes.push(`SSM                 ${ssm.url}  (every secret the plan names reads as a placeholder)`);
    }
    let planText = JSON.stringify(o.raw);
    if (uses('prometheus') || uses('datadog')) {
      const providers = checks.filter(([, c]) => c.type === 'prometheus' || c.type === 'datadog');
      const server = await startProviderStandIn((name) => {
        const check = o.plan.checks[name];
        const t = check ? threshold(check) : undefined;
        return t ? valueFor(t, ok) : ok ? 0 : 1e9;
      });
      closers.push(() => close(server));
      const port = (server.address() as AddressInfo).port;
      const raw = structuredClone(o.raw) as { checks?: Record<string, Record<string, unknown>> };
      for (const [name] of providers) {
        const check = raw.checks?.[name];
        if (!check) continue;
        delete check.site;
        check.url = `http://${metricsHost}:${port}/${encodeURIComponent(name)}`;
      }
      planText = JSON.stringify(raw);
      pinned.push(`${metricsHost}=127.0.0.1`);
      notes.push(
        `Prometheus, Datadog http://${metricsHost}:${port}  (stand-in: the plan's ${providers.map(([n]) => n).join(', ')} query it; values ${ok ? 'within' : 'past'} each threshold)`,
      );
    }
    return {
      endpoints,
      pinned,
      notes,
      planText,
      async close() {
        for (const c of closers.reverse()) await c().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    throw error;
  }
}

/** Green's tasks as ECS shows them: two running and healthy, or one stopped because its container exited. */
export function greenTasks(
  health: SignalHealth,
  o: { cluster: string; taskDefinitionArn: string; startedBy?: string; serviceName?: string },
): FakeTask[] {
  const arn = (n: number) => `arn:aws:ecs:us-east-1:123456789012:task/${o.cluster}/${'0'.repeat(31)}${n}`;
  const base = {
    taskDefinitionArn: o.taskDefinitionArn,
    ...(o.startedBy ? { startedBy: o.startedBy } : {}),
    ...(o.serviceName ? { serviceName: o.serviceName } : {}),
  };
  const running = (n: number): FakeTask => ({
    ...base,
    taskArn: arn(n),
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    healthStatus: 'HEALTHY',
    containers: [{ name: 'web', lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }],
  });
  if (health === 'healthy') return [running(1), running(2)];
  return [
    running(1),
    {
      ...base,
      taskArn: arn(2),
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      healthStatus: 'UNHEALTHY',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      stoppedAt: Date.now() - 5_000,
      containers: [{ name: 'web', lastStatus: 'STOPPED', exitCode: 1, healthStatus: 'UNHEALTHY' }],
    },
  ];
}

/** Seeds a CodeDeploy green task set and its tasks, or an ECS native target revision's tasks and counts. */
export function seedEcs(
  ecs: EcsFake,
  health: SignalHealth,
  green:
    | { readonly taskSet: string; readonly cluster: string; readonly service: string }
    | {
        readonly serviceDeploymentArn: string;
        readonly cluster: string;
        readonly service: string;
        readonly taskDefinitionArn: string;
      },
): void {
  const ok = health === 'healthy';
  if ('taskSet' in green) {
    ecs.addTaskSet(green.cluster, green.service, { id: green.taskSet, desired: 2, running: ok ? 2 : 1, pending: 0 });
    ecs.addTasks(
      green.cluster,
      greenTasks(health, { cluster: green.cluster, taskDefinitionArn: `${green.service}:2`, startedBy: green.taskSet }),
    );
    return;
  }
  ecs.addTasks(
    green.cluster,
    greenTasks(health, {
      cluster: green.cluster,
      taskDefinitionArn: green.taskDefinitionArn,
      serviceName: green.service,
    }),
  );
  const target = ecs.serviceDeployment(green.serviceDeploymentArn)?.targetServiceRevision as
    | Record<string, unknown>
    | undefined;
  if (target && !ok) {
    target.runningTaskCount = 1;
    target.pendingTaskCount = 0;
  }
}

function threshold(check: PlanCheck): { comparison: Comparison; threshold: number } | undefined {
  const spec = check.spec as { comparison?: Comparison; threshold?: number };
  return spec.comparison !== undefined && typeof spec.threshold === 'number'
    ? { comparison: spec.comparison, threshold: spec.threshold }
    : undefined;
}

/** A value that does not breach the threshold (healthy) or does (failing). */
function valueFor(t: { comparison: Comparison; threshold: number }, ok: boolean): number {
  const x = t.threshold;
  const step = Math.max(1, Math.abs(x));
  const candidates = [0, x - step, x + step, x, x / 2, x * 2];
  return candidates.find((v) => breaches(v, t.comparison, x) !== ok) ?? (ok ? 0 : x + step);
}

/** Whether a GetMetricData request is this cloudwatch-metric check's: its metric ids and names. */
function matchesMetricCheck(check: PlanCheck, query: MetricQuery, all: readonly MetricQuery[]): boolean {
  const spec = check.spec as { metrics?: Record<string, { name?: string }>; expression?: string };
  const metrics = Object.entries(spec.metrics ?? {});
  const ids = new Set(all.map((q) => q.Id));
  if (!metrics.every(([id]) => ids.has(id))) return false;
  const byName = new Map(all.map((q) => [q.Id, q.MetricStat?.Metric?.MetricName] as const));
  return metrics.every(([id, m]) => m.name === undefined || m.name.includes('{{') || byName.get(id) === m.name)
    ? query.ReturnData !== false
    : false;
}

/**
 * Prometheus (`/<check>/api/v1/query`, `/query_range`) and Datadog (`/<check>/api/v1/query` with DD-API-KEY)
 * as their HTTP APIs answer, one value per check from `valueAt(checkName)`.
 */
async function startProviderStandIn(valueAt: (check: string) => number): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const [, check = '', ...rest] = url.pathname.split('/');
    const path = `/${rest.join('/')}`;
    const value = valueAt(decodeURIComponent(check));
    const now = Date.now();
    const send = (body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.headers['dd-api-key'] !== undefined && path === '/api/v1/query') {
      const from = Number(url.searchParams.get('from')) * 1000 || now - 60_000;
      send({
        status: 'ok',
        res_type: 'time_series',
        series: [{ metric: check, scope: '*', pointlist: [[Math.max(from, now - 30_000), value]], length: 1 }],
      });
    } else if (path === '/api/v1/query') {
      send({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [now / 1000, String(value)] }] },
      });
    } else if (path === '/api/v1/query_range') {
      send({
        status: 'success',
        data: { resultType: 'matrix', result: [{ metric: {}, values: [[now / 1000 - 30, String(value)]] }] },
      });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
