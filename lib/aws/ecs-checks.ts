import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeTaskDefinitionCommand,
  DescribeTaskSetsCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import type { EcsChecksPort, TaskFailure, TaskState } from '../checks/ports.ts';
import { ecsClient } from './ecs.ts';
import { compact } from './lazy.ts';
import { throttledCall } from './retry.ts';

/** Enough tasks for any green fleet greenlight validates; more would only slow the check down. */
const maxTasks = 500;
/** https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html: `interval` defaults to 30 s. */
const defaultHealthCheckIntervalSeconds = 30;

export function ecsChecksAdapter(client: () => ECSClient = ecsClient): EcsChecksPort {
  return {
    async taskSet(ref, signal) {
      const out = await throttledCall('ECS DescribeTaskSets', signal, (o) =>
        client().send(
          new DescribeTaskSetsCommand({ cluster: ref.cluster, service: ref.service, taskSets: [ref.taskSet] }),
          o,
        ),
      );
      const set = out.taskSets?.find((s) => s.id === ref.taskSet || s.taskSetArn === ref.taskSet);
      if (!set) return undefined;
      return compact({
        id: set.id ?? ref.taskSet,
        status: set.status,
        stabilityStatus: set.stabilityStatus,
        desired: set.computedDesiredCount,
        running: set.runningCount,
        pending: set.pendingCount,
      });
    },

    async revisionDeployment(ref, signal) {
      const describe = async (arn: string) => {
        const out = await throttledCall('ECS DescribeServiceDeployments', signal, (o) =>
          client().send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }), o),
        );
        return out.serviceDeployments?.[0];
      };
      let d = ref.serviceDeploymentArn ? await describe(ref.serviceDeploymentArn) : undefined;
      // An ARN carried from the event or an earlier read stands only for the deployment that targets this revision.
      const targets = d?.targetServiceRevision?.arn;
      if (targets !== undefined && targets !== ref.revisionArn) d = undefined;
      if (!d) {
        const arn = await listedDeployment(ref, signal, client);
        if (!arn) return undefined;
        d = await describe(arn);
        if (!d) return undefined;
      }
      const target = d.targetServiceRevision;
      return compact({
        serviceDeploymentArn: d.serviceDeploymentArn ?? ref.serviceDeploymentArn ?? '',
        status: d.status,
        statusReason: d.statusReason,
        rollback: d.rollback !== undefined,
        requested: target?.requestedTaskCount,
        running: target?.runningTaskCount,
        pending: target?.pendingTaskCount,
      });
    },

    async serviceRevision(revisionArn, signal) {
      const out = await throttledCall('ECS DescribeServiceRevisions', signal, (o) =>
        client().send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [revisionArn] }), o),
      );
      const r = out.serviceRevisions?.[0];
      if (!r) return undefined;
      return compact({
        arn: r.serviceRevisionArn ?? revisionArn,
        taskDefinition: r.taskDefinition,
        createdAt: r.createdAt?.getTime(),
      });
    },

    async taskArns(query, signal) {
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const out = await throttledCall('ECS ListTasks', signal, (o) =>
          client().send(
            new ListTasksCommand({
              cluster: query.cluster,
              startedBy: query.startedBy,
              serviceName: query.serviceName,
              desiredStatus: query.desiredStatus,
              nextToken,
            }),
            o,
          ),
        );
        arns.push(...(out.taskArns ?? []));
        nextToken = out.nextToken;
      } while (nextToken && arns.length < maxTasks);
      return { arns: [...new Set(arns)].slice(0, maxTasks), truncated: nextToken !== undefined };
    },

    async describeTasks(cluster, arns, signal) {
      const tasks: TaskState[] = [];
      const failures: TaskFailure[] = [];
      const unique = [...new Set(arns)].slice(0, maxTasks);
      for (let i = 0; i < unique.length; i += 100) {
        const out = await throttledCall('ECS DescribeTasks', signal, (o) =>
          client().send(new DescribeTasksCommand({ cluster, tasks: unique.slice(i, i + 100) }), o),
        );
        tasks.push(...(out.tasks ?? []).map(toTaskState));
        failures.push(...(out.failures ?? []).map((f) => compact({ arn: f.arn, reason: f.reason, detail: f.detail })));
      }
      return { tasks, failures };
    },

    async taskDefinitionHealth(taskDefinition, signal) {
      const out = await throttledCall('ECS DescribeTaskDefinition', signal, (o) =>
        client().send(new DescribeTaskDefinitionCommand({ taskDefinition }), o),
      );
      const td = out.taskDefinition;
      if (!td) throw new Error(`DescribeTaskDefinition returned no task definition for ${taskDefinition}`);
      return {
        arn: td.taskDefinitionArn ?? taskDefinition,
        // ECS runs a health check every `interval` seconds, 30 when the task definition leaves it out.
        healthCheckIntervals: (td.containerDefinitions ?? []).flatMap((c) =>
          c.healthCheck ? [c.healthCheck.interval ?? defaultHealthCheckIntervalSeconds] : [],
        ),
      };
    },
  };
}

/** The newest service deployment of the service that targets the revision (ListServiceDeployments lists newest first). */
async function listedDeployment(
  ref: { cluster: string; service: string; revisionArn: string },
  signal: AbortSignal | undefined,
  client: () => ECSClient,
): Promise<string | undefined> {
  let nextToken: string | undefined;
  for (let pages = 0; pages < 5; pages++) {
    const out = await throttledCall('ECS ListServiceDeployments', signal, (o) =>
      client().send(new ListServiceDeploymentsCommand({ cluster: ref.cluster, service: ref.service, nextToken }), o),
    );
    const arn = out.serviceDeployments?.find(
      (d) => d.targetServiceRevisionArn === ref.revisionArn,
    )?.serviceDeploymentArn;
    if (arn) return arn;
    nextToken = out.nextToken;
    if (!nextToken) return undefined;
  }
  return undefined;
}

function toTaskState(t: Task): TaskState {
  return compact({
    arn: t.taskArn ?? '(unknown task)',
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    healthStatus: t.healthStatus,
    stopCode: t.stopCode,
    stoppedReason: t.stoppedReason,
    stoppedAt: t.stoppedAt?.getTime(),
    startedBy: t.startedBy,
    taskDefinitionArn: t.taskDefinitionArn,
    containers: (t.containers ?? []).map((c) =>
      compact({
        name: c.name ?? '(unnamed)',
        lastStatus: c.lastStatus,
        exitCode: c.exitCode,
        healthStatus: c.healthStatus,
        reason: c.reason,
      }),
    ),
  });
}
