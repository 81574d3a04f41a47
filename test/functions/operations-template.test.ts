import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricsSink } from '../../lib/runtime/metrics.ts';
import { emitMetrics, verdictRecord } from '../../lib/triggers/observe.ts';
import { readTemplate, type Template } from '../../local/template.ts';

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
