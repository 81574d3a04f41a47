import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventsAdapter } from '../../lib/aws/events.ts';
import type { CheckResult, Verdict } from '../../lib/core/types.ts';
import {
  emitMetrics,
  eventDetail,
  publishTimeoutMs,
  type VerdictNotice,
  type VerdictRecord,
  verdictNotice,
  verdictObserver,
  verdictRecord,
} from '../../lib/gate/observe.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import type { Log } from '../../lib/runtime/logger.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';

/** The observer with the real SDK against a loopback PutEvents fake, and a log that remembers. */

let bus: JsonFake;
let answer: () => unknown = () => ({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
let client: EventBridgeClient;

beforeAll(async () => {
  bus = await startJsonFake({ operations: { PutEvents: () => answer() } });
  client = new EventBridgeClient({
    region: 'us-east-1',
    endpoint: bus.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client?.destroy();
  await bus?.close();
});

function recordingLog(): Log & { lines: { level: string; message: string; extra: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push({ level, message, extra: Object.assign({}, ...extra) });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), appendKeys: () => {} };
}

const noMetrics = { addDimension: () => undefined, addMetric: () => undefined, publishStoredMetrics: () => undefined };

function check(name: string, status: CheckResult['status'], counters: Partial<CheckResult['counters']> = {}) {
  return {
    name,
    kind: 'http',
    status,
    dryRun: false,
    reason: `${name} ${status}`,
    recent: [],
    counters: {
      taken: 1,
      passes: 0,
      failures: 0,
      errors: 0,
      inconclusives: 0,
      consecutivePasses: 0,
      consecutiveErrors: 0,
      ...counters,
    },
  } satisfies CheckResult;
}

const verdict: Verdict = {
  status: 'fail',
  reasons: ['green-health: fail: status 503'],
  checks: [check('green-health', 'fail', { failures: 1 })],
  startedAt: 1_000,
  finishedAt: 1_250,
};

const record = (): VerdictRecord =>
  verdictRecord(
    'codedeploy-hook',
    verdict,
    { stage: 'AfterAllowTestTraffic', group: 'app/group', deploymentId: 'd-1' },
    {
      decision: 'Failed',
      delivery: 'reported',
    },
  );

function observer(log: Log, env: NodeJS.ProcessEnv = {}) {
  return verdictObserver({ events: eventsAdapter(() => client), metrics: noMetrics, log, clock: systemClock, env });
}

describe('verdict event', () => {
  it('counts an entry EventBridge refused in a 200 answer (FailedEntryCount) as not published, and says why', async () => {
    answer = () => ({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
    });
    const log = recordingLog();

    await observer(log)(record(), Date.now() + 5_000);

    answer = () => ({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    expect(log.lines).toContainEqual({
      level: 'warn',
      message: 'could not publish the verdict event; the verdict stands as delivered',
      extra: expect.objectContaining({
        errorName: 'PutEventsError',
        error: expect.stringMatching(/ThrottlingException: Rate exceeded/),
      }),
    });
  });

  it('goes to the bus GREENLIGHT_EVENT_BUS names, or the default bus when it is unset', async () => {
    const log = recordingLog();

    await observer(log, { GREENLIGHT_EVENT_BUS: 'deployments' })(record(), Date.now() + 5_000);
    await observer(log)(record(), Date.now() + 5_000);

    const [named, unnamed] = bus.callsOf('PutEvents').slice(-2);
    expect(named?.input).toMatchObject({
      Entries: [{ Source: 'greenlight', DetailType: 'Greenlight Verdict', EventBusName: 'deployments' }],
    });
    const entry = ((unnamed?.input.Entries ?? []) as Record<string, unknown>[])[0];
    expect(entry).not.toHaveProperty('EventBusName');
    expect(JSON.parse(String(entry?.Detail))).toMatchObject({
      function: 'codedeploy-hook',
      stage: 'AfterAllowTestTraffic',
      group: 'app/group',
      deploymentId: 'd-1',
      verdict: 'fail',
      decision: 'Failed',
      durationMs: 250,
      reasons: ['green-health: fail: status 503'],
      checks: [{ name: 'green-health', status: 'fail', counters: { taken: 1, failures: 1 } }],
    });
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('stops waiting at the deadline it is given when that comes before its own timeout', async () => {
    bus.delay('PutEvents', 5_000);
    const log = recordingLog();
    const started = Date.now();

    await observer(log)(record(), Date.now() + 200);

    bus.delay('PutEvents', 0);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(publishTimeoutMs);
    expect(log.lines.map((l) => l.level)).toContain('warn');
  });

  it('does not try when no time is left', async () => {
    const before = bus.callsOf('PutEvents').length;
    const log = recordingLog();

    await observer(log)(record(), Date.now() - 1);

    expect(bus.callsOf('PutEvents')).toHaveLength(before);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'no time left to publish the verdict event' }),
    );
  });

  it('keeps a large verdict within bounds: 20 reasons, 50 checks, 1000 characters each', () => {
    const many: Verdict = {
      ...verdict,
      reasons: Array.from({ length: 30 }, (_, i) => `reason ${i} ${'x'.repeat(2_000)}`),
      checks: Array.from({ length: 80 }, (_, i) => check(`c${i}`, 'fail')),
    };

    const r = verdictRecord('ecs-pause-gate', many, {}, { decision: 'ROLLBACK', delivery: 'decided' });

    expect(r.reasons).toHaveLength(20);
    expect(Math.max(...r.reasons.map((x) => x.length))).toBe(1_000);
    expect(r.checks).toHaveLength(50);
    expect(r).toMatchObject({ stage: 'unknown', group: 'unknown' });
    expect(r).not.toHaveProperty('deploymentId');
    expect(JSON.stringify(r).length).toBeLessThan(256 * 1024);
  });
});

describe('the verdict notice (what a failure notification says)', () => {
  const hostile = 'say "hi" \\ back <b>x</b>\nnext\u2028line\u0007';

  it('is safe where an input transformer puts it unescaped, and bounded: 10 reasons of 300 characters at most', () => {
    const many: Verdict = {
      ...verdict,
      status: 'error',
      reasons: Array.from({ length: 14 }, (_, i) => `c${i}: error: ${hostile} ${'x'.repeat(2_000)}`),
    };
    const r = verdictRecord(
      'codedeploy-hook',
      many,
      { stage: `Hook${hostile}`, group: 'app/dg', deploymentId: 'd-123"' },
      { decision: 'Failed', delivery: 'reported' },
    );

    const notice = eventDetail(r).notice as VerdictNotice;

    for (const text of [notice.title, notice.deployment, notice.checks]) {
      expect(text).not.toMatch(/["\\<>\p{Cc}\u2028\u2029]/u);
    }
    expect(notice.title).toBe("greenlight: Hooksay 'hi' / back ‹b›x‹/b› next line  of app/dg errored (Failed)");
    expect(notice.deployment).toBe("d-123'");
    const lines = notice.checks.split(' | ');
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toBe('and 4 more');
    expect(Math.max(...lines.map((l) => l.length))).toBe(300);
    // In a JSON string template, the Markdown's only escapes are its line breaks.
    const markdown = JSON.parse(`"${notice.checksMarkdown}"`) as string;
    expect(markdown.split('\n')).toEqual(lines.map((l) => `• ${l}`));
  });

  it("says the verdict's reasons: which checks did not pass, and their last measurement", () => {
    const notice = verdictNotice(record());

    expect(notice).toEqual({
      title: 'greenlight: AfterAllowTestTraffic of app/group failed (Failed)',
      deployment: 'd-1',
      checks: 'green-health: fail: status 503',
      checksMarkdown: '• green-health: fail: status 503',
    });
  });
});

describe('verdict metrics (EMF)', () => {
  it('counts each check by outcome: an error and an inconclusive are failures too, a check cut short is neither', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const metrics = new Metrics({ namespace: 'GreenlightTest', serviceName: 'greenlight' });
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const r = verdictRecord(
      'ecs-lifecycle-hook',
      {
        ...verdict,
        checks: [
          check('health', 'error', { errors: 3, taken: 3 }),
          check('latency', 'inconclusive'),
          check('version', 'running'),
          check('alarms', 'pass', { passes: 1 }),
        ],
      },
      { stage: 'POST_TEST_TRAFFIC_SHIFT', group: 'shop/web', deploymentId: 'arn:aws:ecs:service-deployment/x' },
      { decision: 'FAILED', delivery: 'returned' },
    );

    try {
      emitMetrics(metrics, r);
    } finally {
      spy.mockRestore();
    }

    const docs = written
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(docs).toHaveLength(5);
    expect(docs[0]).toMatchObject({
      function: 'ecs-lifecycle-hook',
      stage: 'POST_TEST_TRAFFIC_SHIFT',
      VerdictFailed: 1,
    });
    const byCheck = Object.fromEntries(docs.slice(1).map((d) => [d.check, d]));
    expect(byCheck.health).toMatchObject({
      CheckFailed: 1,
      CheckErrored: 1,
      CheckPassed: 0,
      MeasurementErrors: 3,
      Measurements: 3,
    });
    expect(byCheck.latency).toMatchObject({ CheckFailed: 1, CheckErrored: 0 });
    expect(byCheck.version).toMatchObject({ CheckFailed: 0, CheckPassed: 0 });
    expect(byCheck.alarms).toMatchObject({ CheckFailed: 0, CheckPassed: 1 });
    expect(written.join('')).not.toContain('service-deployment');
  });
});
