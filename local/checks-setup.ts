import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { FakeAwsError } from './fakes/json-server.ts';

/** Seeds moto_server with the resources the check kinds read. For tests and local rehearsals only. */
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

export interface GreenTaskSet {
  readonly cluster: string;
  readonly service: string;
  readonly taskSetId: string;
  readonly taskArns: readonly string[];
}

/** A cluster, a CodeDeploy-controlled service and a task set with `tasks` running Fargate tasks. */
export async function createEcsTaskSet(
  motoUrl: string,
  options: { cluster: string; service: string; tasks: number },
): Promise<GreenTaskSet> {
  const ecs = new ECSClient({ endpoint: motoUrl, region, credentials, maxAttempts: 1 });
  await ecs.send(new CreateClusterCommand({ clusterName: options.cluster }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: options.service,
      containerDefinitions: [{ name: 'web', image: 'nginx', memory: 128, essential: true }],
    }),
  );
  await ecs.send(
    new CreateServiceCommand({
      cluster: options.cluster,
      serviceName: options.service,
      taskDefinition: options.service,
      desiredCount: options.tasks,
      deploymentController: { type: 'CODE_DEPLOY' },
    }),
  );
  // No `scale`: moto 5.2.1 answers CreateTaskSet with a scale with an internal error.
  const set = await ecs.send(
    new CreateTaskSetCommand({ cluster: options.cluster, service: options.service, taskDefinition: options.service }),
  );
  const taskSetId = set.taskSet?.id;
  if (!taskSetId) throw new Error('moto_server did not create the task set');
  // A task set's tasks carry its id in startedBy, as ECS starts them.
  const run = await ecs.send(
    new RunTaskCommand({
      cluster: options.cluster,
      taskDefinition: options.service,
      count: options.tasks,
      startedBy: taskSetId,
      launchType: 'FARGATE',
    }),
  );
  const taskArns = (run.tasks ?? []).map((t) => t.taskArn as string);
  return { cluster: options.cluster, service: options.service, taskSetId, taskArns };
}

/** Runs `count` Fargate tasks of `taskDefinition` outside any task set (blue tasks, for instance). */
export async function runEcsTasks(
  motoUrl: string,
  cluster: string,
  taskDefinition: string,
  count: number,
): Promise<void> {
  const ecs = new ECSClient({ endpoint: motoUrl, region, credentials, maxAttempts: 1 });
  await ecs.send(new RunTaskCommand({ cluster, taskDefinition, count, launchType: 'FARGATE' }));
}

/**
 * moto_server moves a task one lifecycle state on (RUNNING, DEACTIVATING, STOPPING, ...) each time it is
 * read; this keeps tasks where RunTask and StopTask put them, as ECS does while nothing happens.
 */
export async function holdEcsTaskStates(motoUrl: string): Promise<void> {
  const res = await fetch(`${motoUrl}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    body: JSON.stringify({ model_name: 'ecs::task', transition: { progression: 'manual', times: 1_000_000 } }),
  });
  if (!res.ok) throw new Error(`moto_server refused the state transition: ${res.status}`);
}

export async function stopEcsTask(motoUrl: string, cluster: string, taskArn: string): Promise<void> {
  const ecs = new ECSClient({ endpoint: motoUrl, region, credentials, maxAttempts: 1 });
  await ecs.send(new StopTaskCommand({ cluster, task: taskArn, reason: 'stopped by the test' }));
}

export async function registerTargets(
  motoUrl: string,
  targetGroupArn: string,
  targets: readonly { id: string; port?: number }[],
): Promise<void> {
  const elb = new ElasticLoadBalancingV2Client({ endpoint: motoUrl, region, credentials, maxAttempts: 1 });
  await elb.send(
    new RegisterTargetsCommand({
      TargetGroupArn: targetGroupArn,
      Targets: targets.map((t) => (t.port === undefined ? { Id: t.id } : { Id: t.id, Port: t.port })),
    }),
  );
}

/** A metric alarm on a metric nobody publishes, set to `state`. */
export async function putAlarm(motoUrl: string, name: string, state: StateValue): Promise<void> {
  const cw = new CloudWatchClient({ endpoint: motoUrl, region, credentials, maxAttempts: 1 });
  await cw.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'Greenlight/Test',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  await cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: 'set by the test' }));
}

export async function putMetric(
  motoUrl: string,
  metric: { namespace: string; name: string; dimensions?: Record<string, string>; values: readonly number[] },
): Promise<void> {
  const cw = new CloudWatchClient({ endpoint: motoUrl, region, credentials, maxAttempts: 1 });
  // A little in the past, as CloudWatch data always is by the time it is read: moto_server drops the
  // milliseconds of EndTime, so a datapoint from this very second would fall outside a query ending now.
  const now = new Date(Date.now() - 10_000);
  await cw.send(
    new PutMetricDataCommand({
      Namespace: metric.namespace,
      MetricData: metric.values.map((Value) => ({
        MetricName: metric.name,
        Value,
        Timestamp: now,
        Dimensions: Object.entries(metric.dimensions ?? {}).map(([Name, V]) => ({ Name, Value: V })),
      })),
    }),
  );
}

/** moto's Docker-less Lambda: every invocation succeeds; queued results are returned in order. */
export async function useSimpleLambda(motoUrl: string, results: readonly string[] = []): Promise<void> {
  const config = await fetch(`${motoUrl}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  if (!config.ok) throw new Error(`moto_server refused the Lambda config: ${config.status}`);
  if (results.length === 0) return;
  const queued = await fetch(`${motoUrl}/moto-api/static/lambda-simple/response`, {
    method: 'POST',
    body: JSON.stringify({ results, region }),
  });
  if (!queued.ok) throw new Error(`moto_server refused the Lambda results: ${queued.status}`);
}

/**
 * A JSON-fake operation answered by moto_server. The fake's `failNext` only applies to operations it
 * answers itself, so an operation that a test both reads from moto and injects faults into goes through here.
 */
export function viaMoto(
  motoUrl: string,
  target: string,
  options: { service: string; jsonVersion: '1.0' | '1.1' },
): (input: Record<string, unknown>) => Promise<unknown> {
  return async (input) => {
    const res = await fetch(motoUrl, {
      method: 'POST',
      headers: {
        'x-amz-target': target,
        'content-type': `application/x-amz-json-${options.jsonVersion}`,
        authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/${options.service}/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify(input),
    });
    const text = await res.text();
    const out = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) {
      const type = String(out.__type ?? 'InternalFailure');
      throw new FakeAwsError(
        type.slice(type.lastIndexOf('#') + 1),
        String(out.message ?? out.Message ?? type),
        res.status,
      );
    }
    return out;
  };
}
