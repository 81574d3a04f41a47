import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
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
      let arn: string | undefined = ref.serviceDeploymentArn;
      let nextToken: string | undefined;
      let pages = 0;
      while (!arn) {
        const out = await throttledCall('ECS ListServiceDeployments', signal, (o) =>
          client().send(
            new ListServiceDeploymentsCommand({ cluster: ref.cluster, service: ref.service, nextToken }),
            o,
          ),
        );
        // Newest first, as ECS lists them: the first match is the deployment in progress.
        arn = out.serviceDeployments?.find((d) => d.targetServiceRevisionArn === ref.revisionArn)?.serviceDeploymentArn;
        nextToken = out.nextToken;
        if (!nextToken || ++pages >= 5) break;
      }
      if (!arn) return undefined;
      const found = arn;
      const out = await throttledCall('ECS DescribeServiceDeployments', signal, (o) =>
        client().send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [found] }), o),
      );
      const d = out.serviceDeployments?.[0];
      if (!d) return undefined;
      const target = d.targetServiceRevision;
      return compact({
        serviceDeploymentArn: d.serviceDeploymentArn ?? found,
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

    async tasks(query, signal) {
      const arns: string[] = [];
      let truncated = false;
      for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
        let nextToken: string | undefined;
        do {
          const out = await throttledCall('ECS ListTasks', signal, (o) =>
            client().send(
              new ListTasksCommand({
                cluster: query.cluster,
                startedBy: query.startedBy,
                serviceName: query.serviceName,
                desiredStatus,
                nextToken,
              }),
              o,
            ),
          );
          arns.push(...(out.taskArns ?? []));
          nextToken = out.nextToken;
        } while (nextToken && arns.length < maxTasks);
        if (nextToken) truncated = true;
      }
      const tasks: TaskState[] = [];
      const failures: TaskFailure[] = [];
      const unique = [...new Set(arns)].slice(0, maxTasks);
      for (let i = 0; i < unique.length; i += 100) {
        const out = await throttledCall('ECS DescribeTasks', signal, (o) =>
          client().send(new DescribeTasksCommand({ cluster: query.cluster, tasks: unique.slice(i, i + 100) }), o),
        );
        tasks.push(...(out.tasks ?? []).map(toTaskState));
        failures.push(...(out.failures ?? []).map((f) => compact({ arn: f.arn, reason: f.reason, detail: f.detail })));
      }
      return { tasks, failures, truncated };
    },
  };
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
