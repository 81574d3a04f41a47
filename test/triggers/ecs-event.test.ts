import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listenerArnOf } from '../../lib/aws/elbv2.ts';
import {
  deploymentNames,
  pauseStartEvent,
  readEcsHookEvent,
  readPauseGateInput,
  serviceNames,
} from '../../lib/triggers/ecs/event.ts';
import { sdkPartitions } from '../support/partitions.ts';

const sample = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../events/${path}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const target = 'arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900';

describe('reading an ECS lifecycle hook event', () => {
  it('reads the documented envelope, weights included', () => {
    const event = readEcsHookEvent(sample('ecs-lifecycle-hook/production-traffic-shift.json'));

    expect(event).toMatchObject({
      executionId: 'f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5',
      lifecycleStage: 'PRODUCTION_TRAFFIC_SHIFT',
      resourceArn: 'arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/EZe5RNVLH6PPzHXINuP28',
      serviceArn: 'arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service',
      targetServiceRevisionArn: target,
      testTrafficWeights: {},
    });
    expect(event.productionTrafficWeights[target]).toBe(100);
  });

  it('keeps hookDetails as given', () => {
    const event = readEcsHookEvent(sample('ecs-lifecycle-hook/post-test-traffic-shift-with-hook-details.json'));

    expect(event.hookDetails).toEqual({ approvalChecked: true, S3_BUCKET_NAME: 'my-approval-bucket' });
  });

  it('accepts the older shape with the execution details at the top level, and a JSON string', () => {
    const envelope = sample('ecs-lifecycle-hook/test-traffic-shift.json');
    const { executionDetails, ...rest } = envelope;
    const flat = { ...rest, ...(executionDetails as Record<string, unknown>) };

    expect(readEcsHookEvent(flat)).toEqual(readEcsHookEvent(envelope));
    expect(readEcsHookEvent(JSON.stringify(envelope))).toEqual(readEcsHookEvent(envelope));
  });

  it('ignores unknown keys', () => {
    const event = { ...sample('ecs-lifecycle-hook/test-traffic-shift.json'), newField: { nested: true } };

    expect(() => readEcsHookEvent(event)).not.toThrow();
  });

  it.each([
    [{ lifecycleStage: 'DEPLOY' }, /lifecycleStage: expected one of/],
    [{ lifecycleStage: undefined }, /lifecycleStage/],
    [{ executionDetails: 'nope' }, /executionDetails: expected an object/],
    [{ resourceArn: 'arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service' }, /resourceArn/],
    [{ executionDetails: { serviceArn: 'x', targetServiceRevisionArn: target } }, /executionDetails.serviceArn/],
    [{ hookDetails: [1] }, /hookDetails: expected an object/],
  ])('names the field of a payload it cannot understand (%#)', (change, message) => {
    const event = { ...sample('ecs-lifecycle-hook/test-traffic-shift.json'), ...change };

    expect(() => readEcsHookEvent(event)).toThrow(message);
  });

  it('refuses a weight that is not a percentage', () => {
    const event = sample('ecs-lifecycle-hook/test-traffic-shift.json');
    (event.executionDetails as Record<string, unknown>).testTrafficWeights = { [target]: 'all' };

    expect(() => readEcsHookEvent(event)).toThrow(/testTrafficWeights: the weight of .* must be a number 0-100/);
  });

  it('refuses non-objects and oversized payloads', () => {
    for (const junk of [null, 42, 'not json', [], 'x'.repeat(300 * 1024)]) {
      expect(() => readEcsHookEvent(junk)).toThrow();
    }
  });
});

describe('reading the pause gate input', () => {
  it('reads the documented HOOK_AWAITING_ACTION event', () => {
    const input = readPauseGateInput(sample('ecs-pause-gate/hook-awaiting-action.json'));

    expect(input).toEqual({
      kind: 'awaiting',
      eventId: '3329f79b-3dca-07f8-b1c2-5fe99f0b5e87',
      hook: {
        hookId: 'ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw',
        serviceDeploymentArn:
          'arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/0EYSiB0qap8xf0N76FsbE',
        lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
        clusterArn: 'arn:aws:ecs:us-west-2:123456789012:cluster/my-cluster',
        serviceArn: 'arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service',
        expiresAt: Date.parse('2026-03-05T16:04:41Z'),
      },
    });
  });

  it('ignores other hook events and hook types', () => {
    const event = sample('ecs-pause-gate/hook-awaiting-action.json');
    const detail = event.detail as Record<string, unknown>;

    expect(readPauseGateInput({ ...event, detail: { ...detail, eventName: 'HOOK_SUCCEEDED' } }).kind).toBe('ignored');
    expect(readPauseGateInput({ ...event, detail: { ...detail, hookType: 'AWS_LAMBDA' } }).kind).toBe('ignored');
  });

  it('refuses events that do not identify a hook', () => {
    const event = sample('ecs-pause-gate/hook-awaiting-action.json');
    const detail = event.detail as Record<string, unknown>;

    expect(() => readPauseGateInput({ ...event, detail: { ...detail, hookId: 7 } })).toThrow(/detail.hookId/);
    expect(() => readPauseGateInput({ ...event, detail: { ...detail, serviceDeploymentArn: 'x' } })).toThrow(
      /detail.serviceDeploymentArn/,
    );
    expect(() => readPauseGateInput(sample('codedeploy-hook/ecs-after-install.json'))).toThrow(
      /not an ECS Hook State Change/,
    );
  });

  it('reads the start event of a durable execution: the hook ids in the same envelope, and nothing else', () => {
    const hook = {
      hookId: 'ecs-pause-abc',
      serviceDeploymentArn: 'arn:aws:ecs:us-east-1:123456789012:service-deployment/c/s/abc',
    };
    const start = pauseStartEvent({ ...hook, lifecycleStage: 'POST_SCALE_UP' } as typeof hook);

    expect(readPauseGateInput(start)).toEqual({ kind: 'awaiting', hook });
    // A payload that once carried state is no event at all now.
    expect(() => readPauseGateInput({ greenlightPauseGateContinuation: { ...hook, state: {} } })).toThrow(
      /not an ECS Hook State Change/,
    );
  });
});

describe('names from ARNs', () => {
  it('reads cluster and service from service and deployment ARNs', () => {
    expect(serviceNames('arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service')).toEqual({
      cluster: 'my-cluster',
      service: 'my-service',
    });
    expect(serviceNames('arn:aws:ecs:us-west-2:123456789012:service/old-style')).toEqual({ service: 'old-style' });
    expect(deploymentNames('arn:aws:ecs:us-west-2:123456789012:service-deployment/c1/s1/EZe5')).toEqual({
      cluster: 'c1',
      service: 's1',
    });
  });

  it('finds the listener of an ALB listener rule, and takes an NLB listener as it is', () => {
    expect(
      listenerArnOf(
        'arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/my-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee',
      ),
    ).toBe('arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/my-alb/50dc6c495c0c9188/f2f7dc8efc522ab2');
    const nlb =
      'arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/net/my-nlb/50dc6c495c0c9188/f2f7dc8efc522ab2';
    expect(listenerArnOf(nlb)).toBe(nlb);
    expect(listenerArnOf('arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/tg/1')).toBeUndefined();
  });
});

describe.each(sdkPartitions())('events from partition $id (region $region)', ({ id, region }) => {
  /** An AWS sample with its ARNs moved into this partition and region, account and all else as AWS sent it. */
  const inPartition = (path: string): Record<string, unknown> =>
    JSON.parse(
      JSON.stringify(sample(path)).replaceAll(/arn:aws:ecs:us-west-2:/g, `arn:${id}:ecs:${region}:`),
    ) as Record<string, unknown>;

  it('reads a lifecycle hook event of this partition rather than refusing it as malformed', () => {
    const event = readEcsHookEvent(inPartition('ecs-lifecycle-hook/production-traffic-shift.json'));

    expect(event.serviceArn).toBe(`arn:${id}:ecs:${region}:123456789012:service/my-cluster/my-service`);
    expect(event.resourceArn).toMatch(new RegExp(`^arn:${id}:ecs:${region}:123456789012:service-deployment/`));
    expect(serviceNames(event.serviceArn)).toEqual({ cluster: 'my-cluster', service: 'my-service' });
    expect(deploymentNames(event.resourceArn ?? '')).toEqual({ cluster: 'my-cluster', service: 'my-service' });
  });

  it('reads a PAUSE hook event of this partition, its cluster and service ARNs included', () => {
    const input = readPauseGateInput(inPartition('ecs-pause-gate/hook-awaiting-action.json'));

    expect(input).toMatchObject({
      kind: 'awaiting',
      hook: {
        serviceDeploymentArn: expect.stringMatching(new RegExp(`^arn:${id}:ecs:${region}:`)),
        clusterArn: `arn:${id}:ecs:${region}:123456789012:cluster/my-cluster`,
        serviceArn: `arn:${id}:ecs:${region}:123456789012:service/my-cluster/my-service`,
      },
    });
  });
});

describe('what an event ARN must be: the service and resource greenlight uses', () => {
  const base = sample('ecs-lifecycle-hook/test-traffic-shift.json');
  const details = base.executionDetails as Record<string, unknown>;
  it.each([
    ['another service', 'arn:aws:lambda:us-west-2:123456789012:service/my-cluster/my-service'],
    ['another resource type', 'arn:aws:ecs:us-west-2:123456789012:task/my-cluster/abc'],
    ['a name with a space', 'arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my service'],
    ['not an ARN', 'service/my-cluster/my-service'],
  ])('refuses a serviceArn of %s, naming the field', (_what, serviceArn) => {
    expect(() => readEcsHookEvent({ ...base, executionDetails: { ...details, serviceArn } })).toThrow(
      /executionDetails\.serviceArn: expected an ECS service ARN/,
    );
  });
});
