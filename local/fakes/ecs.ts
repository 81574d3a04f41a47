import { randomBytes } from 'node:crypto';
import { FakeAwsError, type JsonFake, startJsonFake } from './json-server.ts';

/**
 * The Amazon ECS APIs of native (blue/green, linear, canary) deployments that moto_server lacks or answers
 * without what greenlight reads: DescribeServices with `loadBalancers[].advancedConfiguration`,
 * DescribeServiceRevisions, DescribeServiceDeployments with `lifecycleHookDetails`, ContinueServiceDeployment.
 * DescribeTaskDefinition answers the task definitions added here, then moto_server's, then, for a task definition
 * that one of its tasks or revisions runs, one container `web` with a health check every 30 s (ECS's default).
 * Services it does not know, and every other operation, go to `fallback` (a moto_server URL) when given.
 *
 * ECS does not document which error ContinueServiceDeployment returns for a hook that no longer awaits
 * action; this fake answers ClientException, and greenlight does not depend on the type (it asks again).
 */
export interface EcsFake extends JsonFake {
  /** What ContinueServiceDeployment was asked, by hook id, in order (accepted calls only). */
  readonly decisions: Map<string, { readonly action: string | undefined; readonly at: number }>;
  addService(service: Record<string, unknown> & { serviceArn: string }): void;
  addServiceRevision(revision: Record<string, unknown> & { serviceRevisionArn: string }): void;
  addServiceDeployment(deployment: Record<string, unknown> & { serviceDeploymentArn: string }): void;
  serviceDeployment(serviceDeploymentArn: string): Record<string, unknown> | undefined;
  /** Adds a service, its source and target revisions and an IN_PROGRESS deployment between them. */
  addNativeDeployment(options?: NativeDeploymentOptions): NativeDeployment;
  /** Pauses a deployment at `stage` with a PAUSE hook awaiting action; returns its id and the EventBridge event ECS would emit. */
  addPauseHook(serviceDeploymentArn: string, options: PauseHookOptions): { hookId: string; event: PauseEvent };
  setDeploymentStatus(serviceDeploymentArn: string, status: string): void;
  /** DescribeServiceDeployments reports these deployments in `failures` with this reason (other than MISSING). */
  readonly describeFailures: Map<string, { readonly reason: string; readonly detail?: string }>;
  /** How long after a hook's expiry ECS takes its timeout action (default 0); meanwhile the hook still shows AWAITING_ACTION. */
  setTimeoutLag(ms: number): void;
  /** A task set DescribeTaskSets answers (a CodeDeploy deployment's green), instead of moto_server's. */
  addTaskSet(cluster: string, service: string, taskSet: FakeTaskSet): void;
  /** Tasks ListTasks (by startedBy, serviceName, desiredStatus) and DescribeTasks answer in `cluster`. */
  addTasks(cluster: string, tasks: readonly FakeTask[]): void;
  /** A task definition DescribeTaskDefinition answers (by its ARN), instead of moto_server's or the default. */
  addTaskDefinition(taskDefinition: Record<string, unknown> & { taskDefinitionArn: string }): void;
}

/** A task set as DescribeTaskSets shows it. */
export interface FakeTaskSet {
  readonly id: string;
  readonly status?: string;
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
}

/** A task as DescribeTasks shows it (timestamps are epoch milliseconds here, seconds on the wire). */
export interface FakeTask {
  readonly taskArn: string;
  readonly taskDefinitionArn: string;
  /** A task set's id (CodeDeploy), or ecs-svc/... for a service's own tasks. */
  readonly startedBy?: string;
  /** The service whose tasks these are (ListTasks serviceName). */
  readonly serviceName?: string;
  readonly lastStatus: string;
  readonly desiredStatus: string;
  readonly healthStatus?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly stoppedAt?: number;
  readonly containers?: readonly { name: string; lastStatus?: string; exitCode?: number; healthStatus?: string }[];
}

export interface NativeDeploymentOptions {
  readonly region?: string;
  readonly account?: string;
  readonly cluster?: string;
  readonly service?: string;
  readonly lifecycleStage?: string;
  readonly status?: string;
  /** The blue/green load balancer, as the service and its revisions show it. */
  readonly loadBalancer?: {
    readonly targetGroupArn: string;
    readonly alternateTargetGroupArn?: string;
    readonly productionListenerRule?: string;
    readonly testListenerRule?: string;
    readonly containerName?: string;
    readonly containerPort?: number;
  };
  /** Only on the service, not on its revisions (revisions created before October 2024 cannot be described). */
  readonly loadBalancerOnServiceOnly?: boolean;
  readonly targetTestTrafficWeight?: number;
  readonly targetProductionTrafficWeight?: number;
  /**
   * The deployment's own ARNs, when an event already names them (a sample event run by `npm run invoke
   * -- --local`); by default new ones in the region, account, cluster and service above.
   */
  readonly arns?: {
    readonly serviceDeploymentArn?: string;
    readonly targetServiceRevisionArn?: string;
    readonly sourceServiceRevisionArn?: string;
  };
}

export interface NativeDeployment {
  readonly clusterArn: string;
  readonly serviceArn: string;
  readonly serviceDeploymentArn: string;
  readonly sourceServiceRevisionArn: string;
  readonly targetServiceRevisionArn: string;
}

export interface PauseHookOptions {
  readonly lifecycleStage: string;
  /** Default 10 minutes. Negative for a hook that already expired. */
  readonly expiresInMs?: number;
  readonly timeoutAction?: 'CONTINUE' | 'ROLLBACK';
  readonly hookId?: string;
}

export type PauseEvent = ReturnType<typeof pauseEvent>;

const seconds = (ms: number): number => ms / 1000;

export async function startEcsFake(options: { fallback?: string; port?: number } = {}): Promise<EcsFake> {
  const services = new Map<string, Record<string, unknown>>();
  const revisions = new Map<string, Record<string, unknown>>();
  const deployments = new Map<string, Record<string, unknown>>();
  const decisions = new Map<string, { action: string | undefined; at: number }>();
  let timeoutLagMs = 0;
  const describeFailures = new Map<string, { reason: string; detail?: string }>();
  const taskSets = new Map<string, FakeTaskSet>();
  const tasks = new Map<string, FakeTask & { cluster: string }>();
  const taskDefinitions = new Map<string, Record<string, unknown>>();
  const clusterName = (c: unknown) => String(c ?? 'default').replace(/^arn:[^:]+:ecs:[^:]+:\d+:cluster\//, '');
  const taskOut = (t: FakeTask & { cluster: string }) => ({
    taskArn: t.taskArn,
    taskDefinitionArn: t.taskDefinitionArn,
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    ...(t.startedBy ? { startedBy: t.startedBy } : {}),
    ...(t.serviceName ? { group: `service:${t.serviceName}` } : {}),
    ...(t.healthStatus ? { healthStatus: t.healthStatus } : {}),
    ...(t.stopCode ? { stopCode: t.stopCode } : {}),
    ...(t.stoppedReason ? { stoppedReason: t.stoppedReason } : {}),
    ...(t.stoppedAt !== undefined ? { stoppedAt: seconds(t.stoppedAt) } : {}),
    containers: t.containers ?? [],
  });

  /** Applies the timeout action of hooks past their expiry, as ECS does on its own. */
  const expire = (d: Record<string, unknown>): void => {
    for (const hook of hooksOf(d)) {
      if (
        hook.status === 'AWAITING_ACTION' &&
        typeof hook.expiresAt === 'number' &&
        hook.expiresAt * 1000 + timeoutLagMs <= Date.now()
      ) {
        hook.status = 'TIMED_OUT';
        if (hook.timeoutAction !== 'CONTINUE') d.status = 'ROLLBACK_REQUESTED';
      }
    }
  };

  const describeServices = async (input: Record<string, unknown>): Promise<unknown> => {
    const names = Array.isArray(input.services) ? input.services.map(String) : [];
    const found: Record<string, unknown>[] = [];
    const unknown: string[] = [];
    for (const name of names) {
      const s =
        services.get(name) ??
        [...services.values()].find((v) => v.serviceName === name && sameCluster(v, input.cluster));
      if (s) found.push(s);
      else unknown.push(name);
    }
    if (unknown.length === 0) return { services: found, failures: [] };
    if (!options.fallback) {
      return { services: found, failures: unknown.map((arn) => ({ arn, reason: 'MISSING' })) };
    }
    const region = /^arn:[^:]+:ecs:([^:]+):/.exec(String(input.cluster ?? ''))?.[1] ?? 'us-east-1';
    const upstream = (await forwardJson(options.fallback, region, 'DescribeServices', {
      ...input,
      services: unknown,
    })) as {
      services?: unknown[];
      failures?: unknown[];
    };
    return { services: [...found, ...(upstream.services ?? [])], failures: upstream.failures ?? [] };
  };

  const fake = await startJsonFake({
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.fallback ? { fallback: options.fallback } : {}),
    operations: {
      DescribeServices: describeServices,
      DescribeServiceRevisions: (input) => {
        const arns = Array.isArray(input.serviceRevisionArns) ? input.serviceRevisionArns.map(String) : [];
        return {
          serviceRevisions: arns.flatMap((a): Record<string, unknown>[] => {
            const r = revisions.get(a);
            return r ? [r] : [];
          }),
          failures: arns.filter((a) => !revisions.has(a)).map((arn) => ({ arn, reason: 'MISSING' })),
        };
      },
      DescribeServiceDeployments: (input) => {
        const arns = Array.isArray(input.serviceDeploymentArns) ? input.serviceDeploymentArns.map(String) : [];
        const found = arns.flatMap((a): Record<string, unknown>[] => {
          const d = deployments.get(a);
          return d && !describeFailures.has(a) ? [d] : [];
        });
        for (const d of found) expire(d);
        return {
          serviceDeployments: found,
          failures: arns.flatMap((arn) => {
            const failure = describeFailures.get(arn);
            if (failure) return [{ arn, ...failure }];
            return deployments.has(arn) ? [] : [{ arn, reason: 'MISSING' }];
          }),
        };
      },
      DescribeTaskSets: async (input) => {
        const ids = Array.isArray(input.taskSets) ? input.taskSets.map(String) : [];
        const key = (id: string) => `${clusterName(input.cluster)}/${String(input.service ?? '')}/${id}`;
        const known = ids.map((id) => taskSets.get(key(id))).filter((t): t is FakeTaskSet => t !== undefined);
        if (known.length === 0 && options.fallback) {
          return forwardJson(options.fallback, regionOf(input.cluster), 'DescribeTaskSets', input);
        }
        return {
          taskSets: known.map((t) => ({
            id: t.id,
            status: t.status ?? 'ACTIVE',
            computedDesiredCount: t.desired,
            runningCount: t.running,
            pendingCount: t.pending,
            stabilityStatus: t.running >= t.desired && t.pending === 0 ? 'STEADY_STATE' : 'STABILIZING',
          })),
          failures: ids.filter((id) => !taskSets.has(key(id))).map((arn) => ({ arn, reason: 'MISSING' })),
        };
      },
      ListTasks: async (input) => {
        const cluster = clusterName(input.cluster);
        const mine = [...tasks.values()].filter((t) => t.cluster === cluster);
        if (mine.length === 0 && options.fallback) {
          return forwardJson(options.fallback, regionOf(input.cluster), 'ListTasks', input);
        }
        const wanted = String(input.desiredStatus ?? 'RUNNING');
        return {
          taskArns: mine
            .filter((t) => input.startedBy === undefined || t.startedBy === input.startedBy)
            .filter((t) => input.serviceName === undefined || t.serviceName === input.serviceName)
            .filter((t) => t.desiredStatus === wanted)
            .map((t) => t.taskArn),
        };
      },
      DescribeTasks: async (input) => {
        const arns = Array.isArray(input.tasks) ? input.tasks.map(String) : [];
        if (!arns.some((a) => tasks.has(a)) && options.fallback) {
          return forwardJson(options.fallback, regionOf(input.cluster), 'DescribeTasks', input);
        }
        return {
          tasks: arns.flatMap((a) => {
            const t = tasks.get(a);
            return t ? [taskOut(t)] : [];
          }),
          failures: arns.filter((a) => !tasks.has(a)).map((arn) => ({ arn, reason: 'MISSING' })),
        };
      },
      DescribeTaskDefinition: async (input) => {
        const wanted = String(input.taskDefinition ?? '');
        const added = taskDefinitions.get(wanted);
        if (added) return { taskDefinition: added };
        const runs =
          [...tasks.values()].some((t) => t.taskDefinitionArn === wanted) ||
          [...revisions.values()].some((r) => r.taskDefinition === wanted);
        if (options.fallback) {
          try {
            return await forwardJson(options.fallback, regionOf(wanted), 'DescribeTaskDefinition', input);
          } catch (error) {
            if (!runs) throw error;
          }
        }
        if (!runs) throw new FakeAwsError('ClientException', 'Unable to describe task definition.');
        return {
          taskDefinition: {
            taskDefinitionArn: wanted,
            status: 'ACTIVE',
            containerDefinitions: [
              {
                name: 'web',
                essential: true,
                healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], interval: 30 },
              },
            ],
          },
        };
      },
      ListServiceDeployments: (input) => {
        const service = String(input.service ?? '');
        const cluster = clusterName(input.cluster);
        const found = [...deployments.values()]
          .filter((d) => {
            const arn = String(d.serviceArn);
            return arn === service || arn.endsWith(`:service/${cluster}/${service}`);
          })
          .reverse();
        return {
          serviceDeployments: found.map((d) => ({
            serviceDeploymentArn: d.serviceDeploymentArn,
            serviceArn: d.serviceArn,
            clusterArn: d.clusterArn,
            status: d.status,
            targetServiceRevisionArn: (d.targetServiceRevision as { arn?: string } | undefined)?.arn,
            createdAt: d.createdAt,
          })),
        };
      },
      ContinueServiceDeployment: (input) => {
        const arn = String(input.serviceDeploymentArn ?? '');
        const d = deployments.get(arn);
        if (!d) throw new FakeAwsError('ServiceDeploymentNotFoundException', `service deployment ${arn} not found`);
        expire(d);
        const hookId = String(input.hookId ?? '');
        const hook = hooksOf(d).find((h) => h.hookId === hookId);
        if (!hook) throw new FakeAwsError('InvalidParameterException', `hook ${hookId} not found`);
        if (input.action !== undefined && input.action !== 'CONTINUE' && input.action !== 'ROLLBACK') {
          throw new FakeAwsError('InvalidParameterException', `invalid action ${String(input.action)}`);
        }
        if (hook.status !== 'AWAITING_ACTION' || d.status !== 'IN_PROGRESS') {
          throw new FakeAwsError('ClientException', `hook ${hookId} is not awaiting action (${String(hook.status)})`);
        }
        decisions.set(hookId, { action: input.action as string | undefined, at: Date.now() });
        // An omitted action means CONTINUE, as in ECS.
        if (input.action === 'ROLLBACK') {
          hook.status = 'FAILED';
          d.status = 'ROLLBACK_REQUESTED';
        } else {
          hook.status = 'SUCCEEDED';
        }
        return { serviceDeploymentArn: arn };
      },
    },
  });

  const addNativeDeployment = (o: NativeDeploymentOptions = {}): NativeDeployment => {
    const region = o.region ?? 'us-east-1';
    const account = o.account ?? '123456789012';
    const cluster = o.cluster ?? 'my-cluster';
    const service = o.service ?? 'my-service';
    const base = `arn:aws:ecs:${region}:${account}`;
    const clusterArn = `${base}:cluster/${cluster}`;
    const serviceArn = `${base}:service/${cluster}/${service}`;
    const sourceServiceRevisionArn =
      o.arns?.sourceServiceRevisionArn ?? `${base}:service-revision/${cluster}/${service}/${digits()}`;
    const targetServiceRevisionArn =
      o.arns?.targetServiceRevisionArn ?? `${base}:service-revision/${cluster}/${service}/${digits()}`;
    const serviceDeploymentArn =
      o.arns?.serviceDeploymentArn ??
      `${base}:service-deployment/${cluster}/${service}/${randomBytes(11).toString('base64url')}`;
    const loadBalancers = o.loadBalancer
      ? [
          {
            targetGroupArn: o.loadBalancer.targetGroupArn,
            containerName: o.loadBalancer.containerName ?? 'web',
            containerPort: o.loadBalancer.containerPort ?? 8080,
            advancedConfiguration: {
              ...(o.loadBalancer.alternateTargetGroupArn
                ? { alternateTargetGroupArn: o.loadBalancer.alternateTargetGroupArn }
                : {}),
              ...(o.loadBalancer.productionListenerRule
                ? { productionListenerRule: o.loadBalancer.productionListenerRule }
                : {}),
              ...(o.loadBalancer.testListenerRule ? { testListenerRule: o.loadBalancer.testListenerRule } : {}),
              roleArn: `arn:aws:iam::${account}:role/ecsInfrastructureRoleForLoadBalancers`,
            },
          },
        ]
      : [];
    const now = seconds(Date.now());
    services.set(serviceArn, {
      serviceArn,
      serviceName: service,
      clusterArn,
      status: 'ACTIVE',
      desiredCount: 2,
      runningCount: 2,
      launchType: 'FARGATE',
      loadBalancers,
      deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 },
      deploymentController: { type: 'ECS' },
    });
    for (const arn of [sourceServiceRevisionArn, targetServiceRevisionArn]) {
      revisions.set(arn, {
        serviceRevisionArn: arn,
        serviceArn,
        clusterArn,
        taskDefinition: `${base}:task-definition/${service}:${arn === targetServiceRevisionArn ? 2 : 1}`,
        launchType: 'FARGATE',
        loadBalancers: o.loadBalancerOnServiceOnly ? [] : loadBalancers,
        createdAt: now,
      });
    }
    deployments.set(serviceDeploymentArn, {
      serviceDeploymentArn,
      serviceArn,
      clusterArn,
      createdAt: now,
      startedAt: now,
      updatedAt: now,
      status: o.status ?? 'IN_PROGRESS',
      lifecycleStage: o.lifecycleStage ?? 'POST_TEST_TRAFFIC_SHIFT',
      sourceServiceRevisions: [
        { arn: sourceServiceRevisionArn, requestedTaskCount: 2, runningTaskCount: 2, pendingTaskCount: 0 },
      ],
      targetServiceRevision: {
        arn: targetServiceRevisionArn,
        requestedTaskCount: 2,
        runningTaskCount: 2,
        pendingTaskCount: 0,
        requestedTestTrafficWeight: o.targetTestTrafficWeight ?? 100,
        requestedProductionTrafficWeight: o.targetProductionTrafficWeight ?? 0,
      },
      deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 },
      lifecycleHookDetails: [],
    });
    return { clusterArn, serviceArn, serviceDeploymentArn, sourceServiceRevisionArn, targetServiceRevisionArn };
  };

  return {
    ...fake,
    decisions,
    describeFailures,
    addService(s) {
      services.set(s.serviceArn, s);
    },
    addServiceRevision(r) {
      revisions.set(r.serviceRevisionArn, r);
    },
    addServiceDeployment(d) {
      deployments.set(d.serviceDeploymentArn, d);
    },
    serviceDeployment(arn) {
      const d = deployments.get(arn);
      if (d) expire(d);
      return d;
    },
    addNativeDeployment,
    addPauseHook(serviceDeploymentArn, o) {
      const d = deployments.get(serviceDeploymentArn);
      if (!d) throw new Error(`no service deployment ${serviceDeploymentArn}`);
      const hookId = o.hookId ?? `ecs-pause-${randomBytes(32).toString('base64url')}`;
      const expiresAt = Date.now() + (o.expiresInMs ?? 10 * 60_000);
      d.lifecycleStage = o.lifecycleStage;
      hooksOf(d).push({
        hookId,
        targetType: 'PAUSE',
        status: 'AWAITING_ACTION',
        expiresAt: seconds(expiresAt),
        timeoutAction: o.timeoutAction ?? 'ROLLBACK',
      });
      return {
        hookId,
        event: pauseEvent({
          hookId,
          serviceDeploymentArn,
          clusterArn: String(d.clusterArn),
          serviceArn: String(d.serviceArn),
          lifecycleStage: o.lifecycleStage,
          expiresAt,
        }),
      };
    },
    setTimeoutLag(ms) {
      timeoutLagMs = ms;
    },
    addTaskSet(cluster, service, taskSet) {
      taskSets.set(`${clusterName(cluster)}/${service}/${taskSet.id}`, taskSet);
    },
    addTasks(cluster, list) {
      for (const t of list) tasks.set(t.taskArn, { ...t, cluster: clusterName(cluster) });
    },
    addTaskDefinition(taskDefinition) {
      taskDefinitions.set(taskDefinition.taskDefinitionArn, taskDefinition);
    },
    setDeploymentStatus(arn, status) {
      const d = deployments.get(arn);
      if (!d) throw new Error(`no service deployment ${arn}`);
      d.status = status;
    },
  };
}

/** The EventBridge event ECS emits when a PAUSE hook starts waiting (shape of the ECS Developer Guide's sample). */
export function pauseEvent(o: {
  hookId: string;
  serviceDeploymentArn: string;
  clusterArn: string;
  serviceArn: string;
  lifecycleStage: string;
  expiresAt: number;
}) {
  const [, , , region = 'us-east-1', account = '123456789012'] = o.serviceDeploymentArn.split(':');
  const now = new Date();
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'ECS Hook State Change',
    source: 'aws.ecs',
    account,
    time: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    region,
    resources: [o.serviceDeploymentArn],
    detail: {
      eventType: 'INFO',
      eventName: 'HOOK_AWAITING_ACTION',
      hookId: o.hookId,
      hookType: 'PAUSE',
      expiresAt: new Date(o.expiresAt).toISOString().replace(/\.\d+Z$/, 'Z'),
      lifecycleStage: o.lifecycleStage,
      clusterArn: o.clusterArn,
      serviceArn: o.serviceArn,
      serviceDeploymentArn: o.serviceDeploymentArn,
      updatedAt: now.toISOString(),
    },
  };
}

/** The payload ECS sends an `AWS_LAMBDA` lifecycle hook for `deployment` at `lifecycleStage`. */
export function lifecycleHookEvent(
  deployment: NativeDeployment,
  lifecycleStage: string,
  o: {
    testTrafficWeights?: Record<string, number>;
    productionTrafficWeights?: Record<string, number>;
    hookDetails?: Record<string, unknown>;
    executionId?: string;
  } = {},
) {
  return {
    executionId: o.executionId ?? crypto.randomUUID(),
    lifecycleStage,
    resourceArn: deployment.serviceDeploymentArn,
    executionDetails: {
      serviceArn: deployment.serviceArn,
      targetServiceRevisionArn: deployment.targetServiceRevisionArn,
      testTrafficWeights: o.testTrafficWeights ?? {},
      productionTrafficWeights: o.productionTrafficWeights ?? {},
    },
    ...(o.hookDetails ? { hookDetails: o.hookDetails } : {}),
  };
}

function hooksOf(d: Record<string, unknown>): Record<string, unknown>[] {
  if (!Array.isArray(d.lifecycleHookDetails)) d.lifecycleHookDetails = [];
  return d.lifecycleHookDetails as Record<string, unknown>[];
}

function sameCluster(service: Record<string, unknown>, cluster: unknown): boolean {
  if (cluster === undefined) return String(service.clusterArn).endsWith(':cluster/default');
  return service.clusterArn === cluster || String(service.clusterArn).endsWith(`:cluster/${String(cluster)}`);
}

function digits(): string {
  return BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString()
    .slice(0, 19);
}

function regionOf(cluster: unknown): string {
  return /^arn:[^:]+:ecs:([^:]+):/.exec(String(cluster ?? ''))?.[1] ?? 'us-east-1';
}

/** One call to moto_server's ECS JSON API; moto reads the region from the credential scope and checks no signature. */
async function forwardJson(base: string, region: string, operation: string, input: unknown): Promise<unknown> {
  const res = await fetch(base, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonEC2ContainerServiceV20141113.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/ecs/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) {
    throw new FakeAwsError(String(body.__type ?? 'ClientException'), String(body.message ?? res.status), res.status);
  }
  return body;
}
