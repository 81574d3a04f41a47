import { beforeAll, describe, expect, it } from 'vitest';
import { emitMetrics, verdictRecord } from '../../lib/gate/observe.ts';
import type { MetricsSink } from '../../lib/runtime/metrics.ts';
import { readTemplate, resolver, type Template } from '../../local/template.ts';

/** The template's operations wiring: what the functions may publish, and a dashboard that graphs what they emit. */

let template: Template;
const functions = [
  'CodeDeployHookFunction',
  'EcsLifecycleHookFunction',
  'EcsPauseGateFunction',
  'CodeDeployWaitGateFunction',
  'ProtonPipelineGuardFunction',
];

/** Metric name to its dimension names (sorted, with Powertools' `service`), as emitMetrics writes them. */
function emitted(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let dimensions: string[] = [];
  const sink: MetricsSink = {
    addDimension: (name) => dimensions.push(name),
    addMetric: (name) => out.set(name, ['service', ...dimensions].sort()),
    publishStoredMetrics: () => {
      dimensions = [];
    },
  };
  const check = {
    name: 'c',
    kind: 'http',
    status: 'fail' as const,
    dryRun: false,
    reason: 'r',
    recent: [],
    counters: {
      taken: 1,
      passes: 0,
      failures: 1,
      errors: 0,
      inconclusives: 0,
      consecutivePasses: 0,
      consecutiveErrors: 0,
    },
  };
  emitMetrics(
    sink,
    verdictRecord(
      'codedeploy-hook',
      { status: 'fail', reasons: [], checks: [check], startedAt: 0, finishedAt: 1 },
      {},
      { decision: 'Failed', delivery: 'reported' },
    ),
  );
  // Powertools' own cold-start metric.
  out.set('ColdStart', ['function_name', 'service']);
  return out;
}

beforeAll(async () => {
  template = await readTemplate();
});

describe('template: operations', () => {
  it('lets every function put events on the configured bus and nothing else, only while publishing is on', () => {
    const policy = template.Resources.VerdictEventsPolicy as Template['Resources'][string] & { Condition?: string };
    const document = policy.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] } | undefined;
    const statements = document?.Statement;

    expect(policy.Type).toBe('AWS::IAM::ManagedPolicy');
    expect(policy.Condition).toBe('PublishVerdictEvents');
    expect(statements).toEqual([
      {
        Sid: 'PublishVerdictEvents',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: {
          'Fn::Sub': expect.stringMatching(
            /^arn:\$\{AWS::Partition\}:events:\$\{AWS::Region\}:\$\{AWS::AccountId\}:event-bus\/\$\{VerdictEventBusName\}$/,
          ),
        },
      },
    ]);
    for (const id of functions) {
      expect(template.Resources[id]?.Properties?.Policies, id).toContainEqual({
        'Fn::If': ['PublishVerdictEvents', { Ref: 'VerdictEventsPolicy' }, { Ref: 'AWS::NoValue' }],
      });
    }
    expect(template.Parameters?.VerdictEventBusName?.Default).toBe('default');
  });

  it('tells the functions the namespace, the bus and whether to publish', () => {
    const environment = template.Globals?.Function?.Environment as { Variables: Record<string, unknown> } | undefined;
    const variables = environment?.Variables;

    expect(variables).toMatchObject({
      POWERTOOLS_METRICS_NAMESPACE: { Ref: 'MetricsNamespace' },
      GREENLIGHT_EVENT_BUS: { Ref: 'VerdictEventBusName' },
      GREENLIGHT_PUBLISH_VERDICTS: { Ref: 'PublishVerdicts' },
    });
    expect(template.Parameters?.MetricsNamespace?.Default).toBe('Greenlight');
  });

  it('graphs only metrics the functions emit, with the dimensions they emit them with', () => {
    const dashboardBody = template.Resources.OperationsDashboard?.Properties?.DashboardBody as
      | { 'Fn::Sub': string }
      | undefined;
    const body = dashboardBody?.['Fn::Sub'] ?? '';
    const text = body.replace(/\$\{([^}]+)\}/g, (_m, name: string) =>
      name === 'MetricsNamespace' ? 'Greenlight' : name === 'AWS::Region' ? 'us-east-1' : `/aws/lambda/${name}`,
    );
    const widgets = (JSON.parse(text) as { widgets: { type: string; properties: Record<string, unknown> }[] }).widgets;
    const searches = [...text.matchAll(/SEARCH\('\{Greenlight,([^}]+)\} MetricName=\\"(\w+)\\"/g)].map((m) => ({
      dimensions: (m[1] as string).split(','),
      metric: m[2] as string,
    }));
    const metrics = emitted();

    expect(searches.map((s) => s.metric)).toEqual(
      expect.arrayContaining(['VerdictPassed', 'VerdictFailed', 'CheckFailed', 'VerdictDuration', 'ColdStart']),
    );
    for (const s of searches) expect(s.dimensions, s.metric).toEqual(metrics.get(s.metric));
    expect(widgets.map((w) => w.properties.title)).toEqual(
      expect.arrayContaining(['Verdicts over time', 'Verdict duration (ms, maximum per 5 minutes)']),
    );
    expect(widgets.some((w) => String(w.properties.title).startsWith('Failures by check'))).toBe(true);
  });
});

describe('template: failure notifications', () => {
  const pseudo = {
    'AWS::Region': 'eu-west-1',
    'AWS::AccountId': '123456789012',
    'AWS::StackName': 'gl',
    'AWS::Partition': 'aws',
  };
  const notificationResources = [
    'FailureNotificationRule',
    'FailureNotificationKey',
    'FailureNotificationTopic',
    'FailureNotificationTopicPolicy',
    'FailureNotificationEmail',
  ];
  const outputs = (t: Template) => (t as Template & { Outputs: Record<string, { Condition?: string }> }).Outputs;

  /** The notification resources and outputs a deployment with these parameters would have. */
  function deployed(parameters: Record<string, string>): string[] {
    const { resolve } = resolver(template, parameters, pseudo);
    const kept = (condition: string | undefined) =>
      condition === undefined || resolve({ Condition: condition }) === true;
    const resources = notificationResources.filter((id) =>
      kept((template.Resources[id] as { Condition?: string } | undefined)?.Condition ?? 'missing'),
    );
    const outs = Object.entries(outputs(template))
      .filter(([id]) => id.startsWith('FailureNotification'))
      .filter(([, o]) => kept(o.Condition))
      .map(([id]) => id);
    return [...resources, ...outs];
  }

  it('adds nothing unless NotifyFailures is true, and needs PublishVerdicts for it', () => {
    const rules = (template as Template & { Rules: Record<string, unknown> }).Rules;

    expect(template.Parameters?.NotifyFailures?.Default).toBe('false');
    expect(deployed({})).toEqual([]);
    expect(deployed({ NotificationEmail: 'ops@example.com', NotificationFormat: 'chat' })).toEqual([]);
    expect(rules.NotificationsNeedVerdictEvents).toEqual({
      RuleCondition: { 'Fn::Equals': [{ Ref: 'NotifyFailures' }, 'true'] },
      Assertions: [
        { Assert: { 'Fn::Equals': [{ Ref: 'PublishVerdicts' }, 'true'] }, AssertDescription: expect.any(String) },
      ],
    });
  });

  it('creates an encrypted topic when given none, and only subscribes an email when given one', () => {
    expect(deployed({ NotifyFailures: 'true' })).toEqual([
      'FailureNotificationRule',
      'FailureNotificationKey',
      'FailureNotificationTopic',
      'FailureNotificationTopicPolicy',
      'FailureNotificationTopicArn',
    ]);
    expect(deployed({ NotifyFailures: 'true', NotificationEmail: 'ops@example.com' })).toContain(
      'FailureNotificationEmail',
    );
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:team-alerts';
    expect(deployed({ NotifyFailures: 'true', NotificationTopicArn: topicArn })).toEqual([
      'FailureNotificationRule',
      'FailureNotificationTopicArn',
      'FailureNotificationTopicPolicyStatement',
    ]);
    const { resolve } = resolver(template, { NotifyFailures: 'true', NotificationTopicArn: topicArn }, pseudo);
    const rule = resolve(template.Resources.FailureNotificationRule?.Properties) as { Targets: { Arn: string }[] };
    expect(rule.Targets.map((t) => t.Arn)).toEqual([topicArn]);
  });

  it('matches failed and errored verdicts on the verdict bus, never a pass or a duplicate delivery', () => {
    const rule = template.Resources.FailureNotificationRule?.Properties as Record<string, unknown>;

    expect(rule.EventBusName).toEqual({ Ref: 'VerdictEventBusName' });
    // Every verdict that is not a pass is `fail` (analysis fail, error or inconclusive): see verdictRecord.
    expect(rule.EventPattern).toEqual({
      source: ['greenlight'],
      'detail-type': ['Greenlight Verdict'],
      detail: { verdict: ['fail'], delivery: [{ 'anything-but': ['already-completed'] }] },
    });
  });

  it('lets only EventBridge, from this rule, publish to the topic, over TLS, with a key it may use for this topic only', () => {
    const topic = template.Resources.FailureNotificationTopic?.Properties;
    const policy = template.Resources.FailureNotificationTopicPolicy?.Properties as {
      Topics: unknown[];
      PolicyDocument: { Statement: Record<string, unknown>[] };
    };
    const key = template.Resources.FailureNotificationKey?.Properties as {
      KeyPolicy: { Statement: Record<string, unknown>[] };
      EnableKeyRotation: unknown;
    };
    const topicRef = { Ref: 'FailureNotificationTopic' };

    expect(topic?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['FailureNotificationKey', 'Arn'] });
    expect(policy.Topics).toEqual([topicRef]);
    expect(policy.PolicyDocument.Statement).toEqual([
      {
        Sid: 'VerdictRulePublishes',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: topicRef,
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['FailureNotificationRule', 'Arn'] } } },
      },
      {
        Sid: 'TlsOnly',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: topicRef,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
    const events = key.KeyPolicy.Statement.find((s) => s.Sid === 'EventBridgePublishesToTheTopic');
    expect(String(key.EnableKeyRotation)).toBe('true');
    expect(events).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
    });
    // The key's use is bound to the topic's own ARN, the encryption context SNS uses.
    const { resolve } = resolver(template, { NotifyFailures: 'true' }, pseudo);
    const context = resolve(events?.Condition) as { StringEquals: Record<string, string> };
    const topicName = resolve(topic?.TopicName);
    expect(context.StringEquals['kms:EncryptionContext:aws:sns:topicArn']).toBe(
      `arn:aws:sns:eu-west-1:123456789012:${topicName}`,
    );
    // The functions get no SNS permission at all: EventBridge publishes.
    for (const id of functions) {
      expect(JSON.stringify(template.Resources[id]?.Properties?.Policies ?? [])).not.toContain('sns:');
    }
  });

  it('gives the statement an existing topic needs, scoped to the rule', () => {
    const { resolve } = resolver(
      template,
      { NotifyFailures: 'true', NotificationTopicArn: 'arn:aws:sns:eu-west-1:123456789012:team-alerts' },
      { ...pseudo, 'FailureNotificationRule.Arn': 'arn:aws:events:eu-west-1:123456789012:rule/gl-failures' },
    );
    const output = outputs(template).FailureNotificationTopicPolicyStatement as { Value: unknown };

    expect(JSON.parse(String(resolve(output.Value)))).toEqual({
      Sid: 'GreenlightFailureNotifications',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: 'arn:aws:sns:eu-west-1:123456789012:team-alerts',
      Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:events:eu-west-1:123456789012:rule/gl-failures' } },
    });
  });
});
