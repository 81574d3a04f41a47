import { build, parse, validate } from '@aws-sdk/util-arn-parser';

/**
 * Amazon Resource Names, read with the SDK's own parser (`@aws-sdk/util-arn-parser`), so that every
 * partition AWS has or will have (aws, aws-cn, aws-us-gov, aws-iso*, aws-eusc, ...) reads alike.
 * greenlight validates only what it uses: the service and the resource type and ids. Partition, region
 * and account are whatever AWS sends (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
 *
 * This module sits in lib/spec, below checks and plan, because ARNs are field vocabulary: plan fields,
 * check targets and event fields are ARNs. `@aws-sdk/util-arn-parser` is a pure string parser with no
 * client, credentials or network, so importing it here keeps the rule that only lib/aws talks to AWS
 * (test/architecture/layers.test.ts allows exactly this package in lib/spec).
 */
export interface Arn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  /** Everything after the fifth colon, e.g. `service/my-cluster/my-service`. */
  readonly resource: string;
}

/** Longer than any ARN AWS documents (2048 is the IAM maximum); bounds what is logged and split. */
const maxArnLength = 2048;
/** A partition or service as AWS spells them: `aws-us-gov`, `elasticloadbalancing`. */
const token = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The parts of `value`, or `undefined` when it is not an ARN (not a string, malformed, oversized, spaces). Never throws. */
export function parseArn(value: unknown): Arn | undefined {
  // The SDK's own cheap test first: most non-ARNs never reach parse, whose throw costs a stack trace.
  if (typeof value !== 'string' || !validate(value) || value.length > maxArnLength || /[\s\p{Cc}]/u.test(value))
    return undefined;
  let arn: Arn;
  try {
    arn = parse(value);
  } catch {
    return undefined;
  }
  if (!token.test(arn.partition) || !token.test(arn.service) || arn.resource === '') return undefined;
  return arn;
}

/** Whether `value` looks like an ARN at all (the SDK's test: `arn:` and six colon-separated parts). */
export function isArn(value: unknown): value is string {
  return parseArn(value) !== undefined;
}

/** An ARN with another resource in the same partition, region and account. */
export function withResource(arn: Arn, resource: string): string {
  return build({ ...arn, resource });
}

/** A resource id as greenlight uses them in API calls and logs: ECS names, ELB names and ids. */
const idPattern = /^[A-Za-z0-9_.-]{1,255}$/;

/**
 * The ids after `type/` in an ARN of `service`, when there are `min` to `max` of them and each is an id.
 * `resourceIds(arn, 'ecs', 'service', 1, 2)` of `arn:aws-cn:ecs:cn-north-1:123456789012:service/c/s` is `['c', 's']`.
 */
export function resourceIds(
  value: unknown,
  service: string,
  type: string,
  min: number,
  max: number = min,
): string[] | undefined {
  const arn = parseArn(value);
  if (!arn || arn.service !== service || !arn.resource.startsWith(`${type}/`)) return undefined;
  const ids = arn.resource.slice(type.length + 1).split('/');
  if (ids.length < min || ids.length > max || !ids.every((id) => idPattern.test(id))) return undefined;
  return ids;
}

/** Cluster and service of an ECS service ARN (`service/<cluster>/<service>`, or the old `service/<service>`). */
export function ecsServiceNames(value: unknown): { cluster?: string; service: string } | undefined {
  const ids = resourceIds(value, 'ecs', 'service', 1, 2);
  if (!ids) return undefined;
  return ids.length === 1 ? { service: ids[0] as string } : { cluster: ids[0] as string, service: ids[1] as string };
}

/** Cluster, service and id of an ECS service revision ARN (`service-revision/<cluster>/<service>/<id>`). */
export function ecsServiceRevisionNames(value: unknown): { cluster: string; service: string; id: string } | undefined {
  const ids = resourceIds(value, 'ecs', 'service-revision', 3);
  return ids ? { cluster: ids[0] as string, service: ids[1] as string, id: ids[2] as string } : undefined;
}

/** Cluster, service and id of an ECS service deployment ARN (`service-deployment/<cluster>/<service>/<id>`). */
export function ecsServiceDeploymentNames(
  value: unknown,
): { cluster: string; service: string; id: string } | undefined {
  const ids = resourceIds(value, 'ecs', 'service-deployment', 3);
  return ids ? { cluster: ids[0] as string, service: ids[1] as string, id: ids[2] as string } : undefined;
}

/** `family:revision` of an ECS task definition ARN (`task-definition/<family>:<revision>`). */
export function ecsTaskDefinitionName(value: unknown): string | undefined {
  const arn = parseArn(value);
  if (arn?.service !== 'ecs' || !arn.resource.startsWith('task-definition/')) return undefined;
  const name = arn.resource.slice('task-definition/'.length);
  return /^[A-Za-z0-9_-]{1,255}:\d{1,10}$/.test(name) ? name : undefined;
}

/** The cluster name of an ECS cluster ARN (`cluster/<name>`). */
export function ecsClusterName(value: unknown): string | undefined {
  return resourceIds(value, 'ecs', 'cluster', 1)?.[0];
}

/** The name of an Elastic Load Balancing target group ARN (`targetgroup/<name>/<id>`). */
export function targetGroupName(value: unknown): string | undefined {
  return resourceIds(value, 'elasticloadbalancing', 'targetgroup', 2)?.[0];
}

/**
 * The listener behind an ECS blue/green `advancedConfiguration` listener rule: an ALB rule ARN
 * (`listener-rule/app/<lb>/<lb-id>/<listener-id>/<rule-id>`) names its listener; an NLB gives the
 * listener itself (`listener/net/<lb>/<lb-id>/<listener-id>`). `undefined` for anything else.
 */
export function listenerArnOf(value: unknown): string | undefined {
  const rule = resourceIds(value, 'elasticloadbalancing', 'listener-rule', 5);
  if (rule && (rule[0] === 'app' || rule[0] === 'net')) {
    return withResource(parseArn(value) as Arn, `listener/${rule.slice(0, 4).join('/')}`);
  }
  const listener = resourceIds(value, 'elasticloadbalancing', 'listener', 4);
  if (listener && (listener[0] === 'app' || listener[0] === 'net')) return value as string;
  return undefined;
}

/** Whether `value` is an Elastic Load Balancing listener rule ARN (rather than a listener ARN). */
export function isListenerRuleArn(value: unknown): boolean {
  return resourceIds(value, 'elasticloadbalancing', 'listener-rule', 5) !== undefined;
}

/**
 * The resource of an Elastic Load Balancing ARN as CloudWatch dimensions take it: `targetgroup/<name>/<id>`
 * for a target group, `app/<name>/<id>` for a load balancer (`loadbalancer/` dropped). `undefined` for
 * anything that is not an Elastic Load Balancing ARN.
 */
export function elbDimensionValue(value: unknown): string | undefined {
  const arn = parseArn(value);
  if (arn?.service !== 'elasticloadbalancing') return undefined;
  return arn.resource.startsWith('loadbalancer/') ? arn.resource.slice('loadbalancer/'.length) : arn.resource;
}

/** The parameter name of an SSM parameter ARN (`parameter/<name>` is `/<name>`), `undefined` for anything else. */
export function ssmParameterName(value: unknown): string | undefined {
  const arn = parseArn(value);
  if (arn?.service !== 'ssm' || !arn.resource.startsWith('parameter/')) return undefined;
  return arn.resource.slice('parameter'.length);
}
