import { DescribeServiceRevisionsCommand, DescribeTaskDefinitionCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { ecsClient } from './ecs.ts';
import { sendOptions } from './lazy.ts';

/** A task definition's ARN and its containers' images, as DescribeTaskDefinition reports them. */
export interface TaskDefinitionImages {
  readonly taskDefinitionArn: string;
  readonly containers: readonly { readonly name: string; readonly image: string }[];
}

/** What greenlight asks of Amazon ECS to fill `{{greenTaskDefinition}}` and `{{greenImage}}`. */
export interface TaskDefinitionPort {
  /**
   * The containers of a task definition (its ARN, or `family:revision`).
   * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html
   */
  taskDefinitionImages(taskDefinition: string, signal?: AbortSignal): Promise<TaskDefinitionImages>;
  /**
   * The task definition a service revision runs (fixed when ECS created the revision), or undefined when ECS
   * does not know the revision. https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html
   */
  revisionTaskDefinition(serviceRevisionArn: string, signal?: AbortSignal): Promise<string | undefined>;
}

export function taskDefinitionAdapter(client: () => ECSClient = ecsClient): TaskDefinitionPort {
  return {
    async taskDefinitionImages(taskDefinition, signal) {
      const out = await client().send(new DescribeTaskDefinitionCommand({ taskDefinition }), sendOptions(signal));
      const td = out.taskDefinition;
      if (!td?.taskDefinitionArn)
        throw new Error(`DescribeTaskDefinition returned no task definition for ${taskDefinition}`);
      return {
        taskDefinitionArn: td.taskDefinitionArn,
        containers: (td.containerDefinitions ?? []).flatMap((c) =>
          c.name && c.image ? [{ name: c.name, image: c.image }] : [],
        ),
      };
    },
    async revisionTaskDefinition(serviceRevisionArn, signal) {
      const out = await client().send(
        new DescribeServiceRevisionsCommand({ serviceRevisionArns: [serviceRevisionArn] }),
        sendOptions(signal),
      );
      return out.serviceRevisions?.find((r) => r.serviceRevisionArn === serviceRevisionArn)?.taskDefinition;
    },
  };
}
