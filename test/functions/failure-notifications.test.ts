import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { type DeliveredEvent, type EventSink, routeEventsToQueue } from '../../local/event-bus.ts';
import { type CodeDeployFake, ecsDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { readTemplate, resolver, type Template } from '../../local/template.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { type InputTransformer, readPath, transformInput } from '../support/input-transformer.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { type TopicWithQueue, topicWithQueue } from '../support/sns-topic.ts';

/**
 * Failure notifications, end to end: the real codedeploy-hook handler delivers a verdict and publishes
 * its event to EventBridge (moto_server); the template's own rule pattern, put in moto, decides which
 * events go on; the template's own input transformer turns each into the message; the message goes
 * through an SNS topic (moto) to a subscribed queue, where the test reads it as an email or Amazon Q
 * Developer would receive it.
 *
 * moto matches the pattern, but cannot deliver to an SNS target (its EventBridge sends to logs, SQS and
 * event buses only), so the rule's target here is a queue, and the step from matched event to topic is
 * played by the test: `transformInput` (EventBridge's documented input transformer semantics) and an SNS
 * Publish, which is what EventBridge does for an SNS target.
 */

type Handler = (event: unknown, context: Context) => Promise<{ status: string; delivery: string }>;

const stackName = 'gl-notify';
const dashboardName = `${stackName}-greenlight`;
const greenHost = 'green.failure-notifications.test';
const headerSecret = 'hdr-secret-51c0ffee';
const querySecret = 'qry-secret-9e77abcd';
// A body that holds everything an input transformer must not receive unescaped.
const nastyBody = 'not json: say "hi" \\ back <b>bold</b>\nsecond line';

let template: Template;
let moto: Moto;
let codedeploy: CodeDeployFake;
let green: HttpTarget;
/** What the notification rule's pattern let through, as EventBridge hands it to the target. */
let matched: EventSink;
/** Every verdict event, whatever the rule does with it. */
let allVerdicts: EventSink;
let topic: TopicWithQueue;
let handler: Handler;
let seq = 0;

interface NotificationRule {
  readonly EventPattern: Record<string, unknown>;
  readonly Targets: readonly { readonly Arn: string; readonly InputTransformer: InputTransformer }[];
}

/** The FailureNotificationRule as CloudFormation would create it with these parameters. */
function notificationRule(parameters: Record<string, string>): NotificationRule {
  const { resolve } = resolver(
    template,
    { NotifyFailures: 'true', ...parameters },
    {
      'AWS::Region': 'us-east-1',
      'AWS::AccountId': '123456789012',
      'AWS::StackName': stackName,
      'AWS::Partition': 'aws',
      // What Ref gives for these resources once created.
      OperationsDashboard: dashboardName,
      FailureNotificationTopic: topic.topicArn,
    },
  );
  return resolve(template.Resources.FailureNotificationRule?.Properties) as NotificationRule;
}

const ruleIdentity = {
  name: `${stackName}-FailureNotificationRule`,
  arn: `arn:aws:events:us-east-1:123456789012:rule/${stackName}-FailureNotificationRule`,
};

/**
 * The verdict events of the last `n` invocations, once moto has them all. A function gives PutEvents 1 s;
 * on a loaded machine moto may take longer and still accept the event, after the function moved on.
 * moto hands an event to every matching rule while it accepts it, so the rule's queue is complete then.
 */
async function published(n: number, timeoutMs = 10_000): Promise<DeliveredEvent[]> {
  const out: DeliveredEvent[] = [];
  const until = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < until) {
    out.push(...(await allVerdicts.receive()));
    if (out.length < n) await new Promise((r) => setTimeout(r, 100));
  }
  return out;
}

/** EventBridge's part for an SNS target: each matched event, transformed, published to the topic. */
async function deliverToTopic(rule: NotificationRule): Promise<DeliveredEvent[]> {
  const events = await matched.receive();
  const [target] = rule.Targets;
  if (!target) throw new Error('the rule has no target');
  expect(target.Arn).toBe(topic.topicArn);
  for (const event of events) {
    await topic.publish(
      transformInput(target.InputTransformer, event as unknown as Record<string, unknown>, ruleIdentity),
    );
  }
  return events;
}

function plan(): string {
  return JSON.stringify({
    version: 1,
    hooks: { '*': ['green-api'] },
    checks: {
      'green-api': {
        type: 'http',
        url: `http://${greenHost}:${green.port}/me?token=${querySecret}`,
        headers: { Authorization: `Bearer ${headerSecret}` },
        expect: { json: { ok: true } },
        count: 2,
        interval: '20ms',
      },
    },
  });
}

function codeDeployHookEvent(): { event: Record<string, string>; deploymentId: string } {
  const deploymentId = `d-N${String(++seq).padStart(8, '0')}`;
  codedeploy.addDeployment(ecsDeployment({ deploymentId, hook: 'AfterAllowTestTraffic' }));
  return {
    deploymentId,
    event: { DeploymentId: deploymentId, LifecycleEventHookExecutionId: `exec-${deploymentId}` },
  };
}

const group = 'AppECS-my-cluster-my-service/DgpECS-my-cluster-my-service';

beforeAll(async () => {
  [template, moto, codedeploy, green] = await Promise.all([
    readTemplate(),
    startMoto(),
    startCodeDeployFake(),
    startHttpTarget(),
  ]);
  topic = await topicWithQueue(moto.url, `${stackName}-greenlight-failures`);
  // The pattern is the same whatever the format; the rule is put in moto once.
  matched = await routeEventsToQueue(moto.url, 'failure-notification-rule', notificationRule({}).EventPattern);
  allVerdicts = await routeEventsToQueue(moto.url, 'all-verdicts', {
    source: ['greenlight'],
    'detail-type': ['Greenlight Verdict'],
  });
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
    AWS_ENDPOINT_URL_EVENTBRIDGE: moto.url,
    AWS_LAMBDA_FUNCTION_NAME: 'greenlight-notify-test',
    GREENLIGHT_RESOLVE: `${greenHost}=127.0.0.1`,
    GREENLIGHT_PUBLISH_VERDICTS: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  delete process.env.GREENLIGHT_EVENT_BUS;
  handler = ((await import('../../functions/codedeploy-hook/index.ts')) as unknown as { handler: Handler }).handler;
}, 60_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), codedeploy?.close(), green?.close()]);
});

beforeEach(async () => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan();
  green.respond((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(nastyBody);
  });
  await Promise.all([matched.receive(), allVerdicts.receive(), topic.receive()]);
});

describe('failure notifications through EventBridge and SNS', () => {
  it('emails a failed hook: which deployment, which hook, which check failed and why, and the dashboard', async () => {
    const rule = notificationRule({ NotificationFormat: 'text' });
    const { event, deploymentId } = codeDeployHookEvent();

    const out = await handler(event, lambdaContext(30_000));
    expect(await published(1)).toHaveLength(1);
    const delivered = await deliverToTopic(rule);
    const received = await topic.receive();

    expect(out).toMatchObject({ status: 'Failed', delivery: 'reported' });
    expect(delivered).toHaveLength(1);
    // Every variable the transformer uses is in the event: none comes out empty.
    for (const [name, path] of Object.entries(rule.Targets[0]?.InputTransformer.InputPathsMap ?? {})) {
      expect(readPath(delivered[0], path).found, name).toBe(true);
    }
    expect(received).toHaveLength(1);
    const [notification] = received;
    expect(notification?.topicArn).toBe(topic.topicArn);
    const lines = notification?.message.split('\n') ?? [];
    expect(lines).toEqual([
      `"greenlight: AfterAllowTestTraffic of ${group} failed (Failed)"`,
      `"Deployment: ${deploymentId} (${group})"`,
      expect.stringMatching(
        /^"Stage: AfterAllowTestTraffic, answered Failed by greenlight codedeploy-hook at \d{4}-\d\d-\d\dT[\d:]+Z"$/,
      ),
      expect.stringMatching(/^"Checks that did not pass: green-api: fail: .*; last: .*body is not JSON.*"$/),
      `"Dashboard: https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=${dashboardName}"`,
      '',
    ]);
    // Green's quotes, backslash and markup were neutralised, not passed on to break the message.
    expect(lines[3]).toContain("say 'hi' / back ‹b›bold‹/b›");
    expect(notification?.message).not.toContain(headerSecret);
    expect(notification?.message).not.toContain(querySecret);
  });

  it('posts to chat as an Amazon Q Developer custom notification that parses, whatever green answered', async () => {
    const rule = notificationRule({ NotificationFormat: 'chat' });
    const { event, deploymentId } = codeDeployHookEvent();

    await handler(event, lambdaContext(30_000));
    expect(await published(1)).toHaveLength(1);
    await deliverToTopic(rule);
    const received = await topic.receive();

    expect(received).toHaveLength(1);
    const message = JSON.parse(received[0]?.message ?? '') as {
      content: { description: string; nextSteps: string[] };
    };
    expect(message).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: {
        textType: 'client-markdown',
        title: `:x: greenlight: AfterAllowTestTraffic of ${group} failed (Failed)`,
        nextSteps: [
          `Dashboard: https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=${dashboardName}`,
        ],
        keywords: ['greenlight', 'AfterAllowTestTraffic'],
      },
      metadata: { threadId: deploymentId, eventType: 'Greenlight Verdict' },
    });
    expect(message.content.description.split('\n')).toEqual([
      `*Deployment* ${deploymentId} (${group})`,
      expect.stringMatching(/^\*Stage\* AfterAllowTestTraffic: Failed, by greenlight codedeploy-hook at /),
      '*Checks that did not pass*',
      expect.stringMatching(/^• green-api: fail: .*; last: .*say 'hi' \/ back ‹b›bold‹\/b›/),
    ]);
    expect(received[0]?.message).not.toContain(headerSecret);
    expect(received[0]?.message).not.toContain(querySecret);
  });

  it('sends nothing for a passing verdict, though its event was published', async () => {
    const rule = notificationRule({});
    green.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    const { event } = codeDeployHookEvent();

    const out = await handler(event, lambdaContext(30_000));
    const verdicts = await published(1);
    await deliverToTopic(rule);

    expect(out.status).toBe('Succeeded');
    expect(verdicts.map((e) => e.detail.verdict)).toEqual(['pass']);
    expect(await topic.receive()).toEqual([]);
  });

  it('notifies once for a hook delivered twice: the duplicate finds it already answered', async () => {
    const rule = notificationRule({});
    const { event } = codeDeployHookEvent();

    const first = await handler(event, lambdaContext(30_000));
    const second = await handler(event, lambdaContext(30_000));
    const verdicts = await published(2);
    await deliverToTopic(rule);

    expect([first.delivery, second.delivery]).toEqual(['reported', 'already-completed']);
    expect(verdicts.map((e) => e.detail.delivery)).toEqual(['reported', 'already-completed']);
    expect(await topic.receive()).toHaveLength(1);
  });

  it('notifies an errored verdict (the plan cannot be used) with its reason, when no check ran', async () => {
    const rule = notificationRule({});
    process.env.GREENLIGHT_PLAN = '{"version": 1, "hooks": {"*": ["missing-check"]}, "checks": {}}';
    const { event } = codeDeployHookEvent();

    const out = await handler(event, lambdaContext(30_000));
    expect(await published(1)).toHaveLength(1);
    await deliverToTopic(rule);
    const received = await topic.receive();

    expect(out.status).toBe('Failed');
    expect(received).toHaveLength(1);
    expect(received[0]?.message).toMatch(/^"greenlight: .* errored \(Failed\)"$/m);
    expect(received[0]?.message).toMatch(/^"Checks that did not pass: .*missing-check.*"$/m);
  });

  it('matches every verdict that is not a pass, and no pass or duplicate delivery, by the rule pattern in moto', async () => {
    const events = new EventBridgeClient({ region: 'us-east-1', endpoint: moto.url });
    const cases = [
      { verdict: 'fail', analysis: 'fail', delivery: 'reported' },
      { verdict: 'fail', analysis: 'error', delivery: 'returned' },
      { verdict: 'fail', analysis: 'inconclusive', delivery: 'decided' },
      { verdict: 'fail', analysis: 'fail', delivery: 'stopping' },
      { verdict: 'fail', analysis: 'fail', delivery: 'already-completed' },
      { verdict: 'pass', analysis: 'pass', delivery: 'reported' },
      { verdict: 'pass', analysis: 'pass', delivery: 'continued' },
    ];
    try {
      await events.send(
        new PutEventsCommand({
          Entries: cases.map((detail) => ({
            Source: 'greenlight',
            DetailType: 'Greenlight Verdict',
            Detail: JSON.stringify(detail),
          })),
        }),
      );
    } finally {
      events.destroy();
    }

    expect(await published(cases.length)).toHaveLength(cases.length);
    const through = (await matched.receive()).map((e) => e.detail);

    expect(through).toEqual([cases[0], cases[1], cases[2], cases[3]]);
  });
});
