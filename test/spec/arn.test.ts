import { describe, expect, it } from 'vitest';
import {
  ecsClusterName,
  ecsServiceDeploymentNames,
  ecsServiceNames,
  ecsServiceRevisionNames,
  ecsTaskDefinitionName,
  elbDimensionValue,
  isArn,
  listenerArnOf,
  parseArn,
  ssmParameterName,
  targetGroupName,
} from '../../lib/spec/arn.ts';
import { sdkPartitions } from '../support/partitions.ts';

const partitions = sdkPartitions();

describe('the SDK partition table these tests run over', () => {
  it('holds every partition the issue names, read from the installed SDK', () => {
    expect(partitions.map((p) => p.id)).toEqual(
      expect.arrayContaining([
        'aws',
        'aws-cn',
        'aws-us-gov',
        'aws-iso',
        'aws-iso-b',
        'aws-iso-e',
        'aws-iso-f',
        'aws-eusc',
      ]),
    );
  });
});

describe.each(partitions)('ARNs of partition $id (region $region)', ({ id, region }) => {
  const arn = (service: string, resource: string) => `arn:${id}:${service}:${region}:123456789012:${resource}`;

  it('parses with the SDK parser, every part kept as AWS sent it', () => {
    expect(parseArn(arn('ecs', 'service/c/s'))).toEqual({
      partition: id,
      service: 'ecs',
      region,
      accountId: '123456789012',
      resource: 'service/c/s',
    });
  });

  it('reads ECS service, revision, deployment and cluster ARNs', () => {
    expect(ecsServiceNames(arn('ecs', 'service/my-cluster/my-service'))).toEqual({
      cluster: 'my-cluster',
      service: 'my-service',
    });
    expect(ecsServiceNames(arn('ecs', 'service/old-style'))).toEqual({ service: 'old-style' });
    expect(ecsServiceRevisionNames(arn('ecs', 'service-revision/c/s/9313423515462893900'))).toEqual({
      cluster: 'c',
      service: 's',
      id: '9313423515462893900',
    });
    expect(ecsServiceDeploymentNames(arn('ecs', 'service-deployment/c/s/EZe5RNVLH6PPzHXINuP28'))).toMatchObject({
      cluster: 'c',
      service: 's',
    });
    expect(ecsClusterName(arn('ecs', 'cluster/c'))).toBe('c');
    expect(ecsTaskDefinitionName(arn('ecs', 'task-definition/web:12'))).toBe('web:12');
  });

  it('reads Elastic Load Balancing ARNs: listener of a rule (same partition), target group name, dimensions', () => {
    const lb = 'app/my-alb/50dc6c495c0c9188';
    expect(listenerArnOf(arn('elasticloadbalancing', `listener-rule/${lb}/f2f7dc8efc522ab2/9683b2d02a6cabee`))).toBe(
      arn('elasticloadbalancing', `listener/${lb}/f2f7dc8efc522ab2`),
    );
    expect(targetGroupName(arn('elasticloadbalancing', 'targetgroup/tg-green/73e2d6bc24d8a067'))).toBe('tg-green');
    expect(elbDimensionValue(arn('elasticloadbalancing', `loadbalancer/${lb}`))).toBe(lb);
    expect(elbDimensionValue(arn('elasticloadbalancing', 'targetgroup/tg/73e2d6bc24d8a067'))).toBe(
      'targetgroup/tg/73e2d6bc24d8a067',
    );
  });

  it('reads an SSM parameter ARN', () => {
    expect(ssmParameterName(arn('ssm', 'parameter/greenlight/token'))).toBe('/greenlight/token');
  });
});

describe('what the ARN module refuses', () => {
  it.each([
    ['not a string', 42],
    ['no arn: prefix', 'aws:ecs:us-east-1:123456789012:service/c/s'],
    ['too few parts', 'arn:aws:ecs:us-east-1:service/c/s'],
    ['an empty partition', 'arn::ecs:us-east-1:123456789012:service/c/s'],
    ['an empty resource', 'arn:aws:ecs:us-east-1:123456789012:'],
    ['whitespace', 'arn:aws:ecs:us-east-1:123456789012:service/c/s x'],
    ['a control character', 'arn:aws:ecs:us-east-1:123456789012:service/c/s\n'],
    ['an oversized value', `arn:aws:ecs:us-east-1:123456789012:service/c/${'s'.repeat(2100)}`],
  ])('is not an ARN: %s', (_what, value) => {
    expect(parseArn(value)).toBeUndefined();
    expect(isArn(value)).toBe(false);
  });

  it('checks the service and resource type greenlight uses, not the partition or account', () => {
    expect(ecsServiceNames('arn:aws:lambda:us-east-1:123456789012:service/c/s')).toBeUndefined();
    expect(ecsServiceNames('arn:aws:ecs:us-east-1:123456789012:task/c/abc')).toBeUndefined();
    expect(ecsServiceNames('arn:aws:ecs:us-east-1:123456789012:service/c/s/extra')).toBeUndefined();
    expect(ecsServiceNames('arn:aws:ecs:us-east-1:123456789012:service/c/')).toBeUndefined();
    expect(ecsServiceNames('arn:aws:ecs:us-east-1:123456789012:service/c/s p')).toBeUndefined();
    expect(ecsServiceNames('arn:aws-future:ecs:xx-new-1:000000000001:service/c/s')).toEqual({
      cluster: 'c',
      service: 's',
    });
    expect(listenerArnOf('arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/tg/1')).toBeUndefined();
  });
});
