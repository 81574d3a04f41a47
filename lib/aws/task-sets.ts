import { DescribeTaskSetsCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { ecsClient } from './ecs.ts';
import { compact, sendOptions } from './lazy.ts';

/**
 * Where a CodeDeploy task set came from, as DescribeTaskSets tells it: facts set when ECS created the
 * task set, which traffic shifting never changes
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskSet.html).
 */
export interface TaskSetOrigin {
  /** `ecs-svc/...`, the id CodeDeploy lists as `identifer`. */
  readonly id: string;
  readonly taskSetArn?: string;
  /** "If a CodeDeploy deployment created a task set, the externalId parameter contains the CodeDeploy deployment ID." */
  readonly externalId?: string;
  /** `CODE_DEPLOY` for task sets CodeDeploy created. */
  readonly startedBy?: string;
  /** The task definition ARN. */
  readonly taskDefinition?: string;
  /** Epoch milliseconds. */
  readonly createdAt?: number;
}

/** What greenlight asks of Amazon ECS to tell a CodeDeploy deployment's green task set from blue. */
export interface TaskSetOriginPort {
  /** The task sets of `service` among `taskSets` (ids or ARNs) that ECS knows; unknown ones are left out. */
  taskSetOrigins(
    ref: { readonly cluster: string; readonly service: string; readonly taskSets: readonly string[] },
    signal?: AbortSignal,
  ): Promise<TaskSetOrigin[]>;
}

export function taskSetOriginAdapter(client: () => ECSClient = ecsClient): TaskSetOriginPort {
  return {
    async taskSetOrigins(ref, signal) {
      const out = await client().send(
        new DescribeTaskSetsCommand({ cluster: ref.cluster, service: ref.service, taskSets: [...ref.taskSets] }),
        sendOptions(signal),
      );
      return (out.taskSets ?? [])
        .filter((s): s is typeof s & { id: string } => typeof s.id === 'string')
        .map((s) =>
          compact({
            id: s.id,
            taskSetArn: s.taskSetArn,
            externalId: s.externalId || undefined,
            startedBy: s.startedBy || undefined,
            taskDefinition: s.taskDefinition,
            createdAt: s.createdAt?.getTime(),
          }),
        );
    },
  };
}
