import type { TaskDefinitionPort } from '../aws/task-definitions.ts';
import { errorMessage } from '../core/analyze.ts';
import { ecsTaskDefinitionName } from '../spec/arn.ts';
import { PlanError } from '../spec/errors.ts';
import { containerPlaceholderOf, type DeploymentContext, imageTag } from '../spec/placeholders.ts';

const whole = ['greenTaskDefinitionArn', 'greenTaskDefinition', 'greenImage', 'greenImageTag'] as const;

/** Whether the plan uses the green task definition or its images (only then is ECS asked). */
export function needsGreenTaskDefinition(needed: ReadonlySet<string>): boolean {
  return [...needed].some((n) => (whole as readonly string[]).includes(n) || containerPlaceholderOf(n) !== undefined);
}

/**
 * `{{greenTaskDefinitionArn}}`, `{{greenTaskDefinition}}` (family:revision), `{{greenImage}}` and
 * `{{greenImageTag}}` (of the only container), and per container `{{greenImage.<name>}}` and
 * `{{greenImageTag.<name>}}`, from the task definition being deployed (a fact fixed when the deployment
 * was created: the AppSpec's, or the target service revision's) and DescribeTaskDefinition.
 *
 * Throws a `PlanError` naming the placeholder when the task definition is not known (`unknown` says why),
 * when `{{greenImage}}` is asked of a task definition with several containers, or a named container is
 * not in it; an `Error` when ECS cannot be read.
 */
export async function greenTaskDefinitionContext(
  port: TaskDefinitionPort | undefined,
  taskDefinition: string | undefined,
  needed: ReadonlySet<string>,
  signal: AbortSignal,
  unknown = 'the deployment names no task definition',
): Promise<DeploymentContext> {
  if (!needsGreenTaskDefinition(needed)) return {};
  const used = [...needed].filter((n) => (whole as readonly string[]).includes(n) || containerPlaceholderOf(n));
  if (taskDefinition === undefined) throw new PlanError(used.map((n) => `{{${n}}}: ${unknown}`));
  if (!port) throw new PlanError(used.map((n) => `{{${n}}}: this function cannot read task definitions`));
  let images: Awaited<ReturnType<TaskDefinitionPort['taskDefinitionImages']>>;
  try {
    images = await port.taskDefinitionImages(taskDefinition, signal);
  } catch (error) {
    throw new Error(
      `cannot read task definition ${taskDefinition} for {{${used[0]}}}: ${(error as Error)?.name}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const byName: Record<string, string> = Object.create(null);
  for (const c of images.containers) byName[c.name] = c.image;
  const names = Object.keys(byName);
  const problems: string[] = [];
  for (const n of used) {
    const ref = containerPlaceholderOf(n);
    if (ref && !Object.hasOwn(byName, ref.container)) {
      problems.push(
        `{{${n}}}: task definition ${images.taskDefinitionArn} has no container ${ref.container} (it has: ${names.join(', ') || 'none'})`,
      );
    } else if (ref?.kind === 'greenImageTag' && imageTag(byName[ref.container] as string) === undefined) {
      problems.push(`{{${n}}}: the image of container ${ref.container} has no tag`);
    } else if ((n === 'greenImage' || n === 'greenImageTag') && names.length !== 1) {
      problems.push(
        `{{${n}}}: task definition ${images.taskDefinitionArn} has ${names.length} containers (${names.join(', ')}): name one, as {{${n}.${names[0] ?? 'container'}}}`,
      );
    }
  }
  const only = names.length === 1 ? byName[names[0] as string] : undefined;
  if (needed.has('greenImageTag') && only !== undefined && imageTag(only) === undefined) {
    problems.push('{{greenImageTag}}: the image has no tag');
  }
  if (problems.length > 0) throw new PlanError(problems);
  return {
    greenTaskDefinitionArn: images.taskDefinitionArn,
    greenTaskDefinition: ecsTaskDefinitionName(images.taskDefinitionArn) ?? taskDefinition,
    ...(only === undefined ? {} : { greenImage: only, greenImageTag: imageTag(only) }),
    greenContainerImages: byName,
  };
}
