import { describe, expect, it } from 'vitest';
import type { AlarmState, CloudWatchPort } from '../../lib/checks/ports.ts';
import type { Verdict } from '../../lib/core/types.ts';
import { planDeadline } from '../../lib/gate/carried-state.ts';
import { ReportError } from '../../lib/gate/deliver.ts';
import { GateEventError } from '../../lib/gate/errors.ts';
import type { VerdictRecord } from '../../lib/gate/observe.ts';
import { type GateDeps, runGate } from '../../lib/gate/run-gate.ts';
import type { Delivery, Opened, Outcome, Selected, StateStore, Trigger } from '../../lib/gate/trigger.ts';
import { checksForHook, type Plan, parsePlan } from '../../lib/plan/schema.ts';
import type { Log } from '../../lib/runtime/logger.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { lambdaContext } from '../support/lambda-context.ts';

/**
 * Each guarantee of the verdict lifecycle, proven once against an in-memory trigger: no AWS, no network.
 * The triggers' own tests (test/functions) prove their reading, state and delivery; this file proves
 * that whatever a trigger does, the lifecycle around it holds.
 */

type Step = 'open' | 'rollback' | 'checks' | 'load' | 'context' | 'save';
interface FakeInput {
  readonly id: string;
}
interface Seen {
  delivered: Verdict[];
  deliveredAt: number[];
  published: VerdictRecord[];
  events: string[];
  saved: number;
  checksAsked: number;
}

const hook = 'AfterAllowTestTraffic';

function planOf(count: number, interval: string, timeout = '500ms'): Plan {
  return parsePlan({
    version: 1,
    checks: { alarms: { type: 'cloudwatch-alarms', alarms: ['green-errors'], count, interval, timeout } },
    hooks: { [hook]: ['alarms'] },
  });
}

const quietLog: Log = { debug() {}, info() {}, warn() {}, error() {}, appendKeys() {} };

/** CloudWatch that answers OK (or hangs until aborted): the checks' only port. */
function cloudwatch(behaviour: 'ok' | 'hang'): CloudWatchPort {
  return {
    alarms: (_query, signal) =>
      behaviour === 'ok'
        ? Promise.resolve<AlarmState[]>([{ name: 'green-errors', type: 'metric', state: 'OK' }])
        : new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
    metricData: () => Promise.resolve([]),
  };
}

interface FakeOptions {
  readonly throwAt?: Step;
  /** A step that never settles and ignores the deadline's signal (a port that forgot it). */
  readonly hangAt?: Step;
  readonly opened?: Opened<string>;
  readonly rollback?: string;
  readonly delivery?: 'delivered' | 'closed' | 'throws';
  readonly store?: 'none' | 'carried';
  readonly read?: 'ok' | 'ignored' | 'malformed';
}

/** A trigger whose every step can be told to throw, that records what the runner asked of it. */
function fakeTrigger(
  o: FakeOptions,
  seen: Seen,
): Trigger<FakeInput, string, { at: number }, Outcome<FakeInput, { at: number }>> {
  const step = (name: Step): void => {
    seen.events.push(name);
    if (o.throwAt === name) throw new Error(`${name} broke`);
  };
  const store: StateStore<FakeInput, string> =
    o.store === 'carried'
      ? {
          kind: 'carried',
          load: async (_input, _hook, selected) => {
            step('load');
            return { deadline: planDeadline(selected.checks, Date.now()).deadline };
          },
          save: async (_input, _hook, next) => {
            step('save');
            seen.saved++;
            return { kind: 'handed-on', reasons: [`leg ${next.legs + 1}`], resumeAt: next.resumeAt };
          },
        }
      : { kind: 'none', limits: 'codedeploy-hook' };
  return {
    name: 'codedeploy-hook',
    read(event) {
      if (o.read === 'malformed') throw new GateEventError('malformed event: no id');
      if (o.read === 'ignored') return { kind: 'ignored', reason: 'not for this gate' };
      return { id: String((event as { id?: string })?.id ?? 'd-1') };
    },
    scope: (input) => ({ logKeys: { id: input.id }, scope: { deploymentId: input.id, stage: hook } }),
    async open() {
      step('open');
      return o.opened ?? { kind: 'open', hook: 'the-hook' };
    },
    async rollback() {
      step('rollback');
      return o.rollback;
    },
    async checks(_input, _hook, run): Promise<Selected> {
      seen.checksAsked++;
      const plan = await run.loadPlan(run.signal);
      step('checks');
      return checksForHook(plan, hook);
    },
    async context() {
      step('context');
      if (o.hangAt === 'context') await new Promise(() => {});
      return { hook };
    },
    state: store,
    async deliver(verdict: Verdict, _at, run, by): Promise<Delivery<{ at: number }>> {
      seen.events.push('deliver');
      expect(by).toBeLessThanOrEqual(run.reportBy);
      if (o.delivery === 'throws') throw Object.assign(new Error('access denied'), { name: 'AccessDeniedException' });
      if (o.delivery === 'closed') return { kind: 'closed', reason: 'already reported' };
      seen.delivered.push(verdict);
      seen.deliveredAt.push(Date.now());
      return {
        kind: 'delivered',
        decision: verdict.status === 'pass' ? 'Succeeded' : 'Failed',
        delivery: 'reported',
        detail: { at: Date.now() },
      };
    },
    answer: (outcome) => outcome,
  };
}

function setup(
  o: FakeOptions & {
    readonly plan?: () => Promise<Plan>;
    readonly checksPort?: 'ok' | 'hang';
    readonly reserve?: string;
  } = {},
) {
  const seen: Seen = { delivered: [], deliveredAt: [], published: [], events: [], saved: 0, checksAsked: 0 };
  const deps: GateDeps = {
    loadPlan: o.plan ?? (async () => planOf(1, '1s')),
    checks: { clock: systemClock, cloudwatch: cloudwatch(o.checksPort ?? 'ok') },
    clock: systemClock,
    log: quietLog,
    observe: async (record) => {
      seen.events.push('publish');
      seen.published.push(record);
    },
    reserve: o.reserve ?? '300ms',
  };
  return { seen, gate: runGate(fakeTrigger(o, seen), deps) };
}

const systemClock = {
  now: () => Date.now(),
  sleep: (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    }),
};

describe('runGate: one verdict lifecycle', () => {
  it('delivers exactly one verdict, then publishes it once, after the delivery', async () => {
    const { seen, gate } = setup();
    const out = await gate({ id: 'd-1' }, lambdaContext(5_000));
    expect(out.kind).toBe('decided');
    expect(seen.delivered).toHaveLength(1);
    expect(seen.delivered[0]?.status).toBe('pass');
    expect(seen.published).toHaveLength(1);
    expect(seen.events.slice(-2)).toEqual(['deliver', 'publish']);
    expect(seen.published[0]).toMatchObject({
      trigger: 'codedeploy-hook',
      verdict: 'pass',
      decision: 'Succeeded',
      stage: hook,
    });
  });

  it('delivers a Failed verdict before the deadline when a check hangs past it', async () => {
    const { seen, gate } = setup({ checksPort: 'hang', plan: async () => planOf(1, '10s', '10s') });
    const started = Date.now();
    await gate({ id: 'd-1' }, lambdaContext(1_500));
    expect(seen.delivered).toHaveLength(1);
    expect(seen.delivered[0]?.status).not.toBe('pass');
    // The reserve (300 ms) is kept for the report: delivered before Lambda would stop the function.
    expect((seen.deliveredAt[0] ?? Number.POSITIVE_INFINITY) - started).toBeLessThan(1_500);
  });

  it('delivers a Failed verdict before the deadline when a step ignores the deadline and never settles', async () => {
    const { seen, gate } = setup({ hangAt: 'context' });
    const started = Date.now();
    await gate({ id: 'd-1' }, lambdaContext(1_500));
    expect(seen.delivered).toHaveLength(1);
    expect(seen.delivered[0]?.status).toBe('error');
    expect(seen.delivered[0]?.reasons[0]).toMatch(/no verdict by the deadline/);
    expect((seen.deliveredAt[0] ?? Number.POSITIVE_INFINITY) - started).toBeLessThan(1_500);
  });

  for (const at of ['open', 'rollback', 'checks', 'context'] as const) {
    it(`fails closed when ${at} throws: a Failed verdict, delivered once and published`, async () => {
      const { seen, gate } = setup({ throwAt: at });
      const out = await gate({ id: 'd-1' }, lambdaContext(5_000));
      expect(out.kind).toBe('decided');
      expect(seen.delivered).toHaveLength(1);
      expect(seen.delivered[0]?.status).toBe('error');
      expect(seen.delivered[0]?.reasons).toEqual([`could not validate: ${at} broke`]);
      expect(seen.published[0]?.verdict).toBe('fail');
    });
  }

  for (const at of ['load', 'save'] as const) {
    it(`fails closed when the state store's ${at} throws: a Failed verdict, delivered`, async () => {
      const { seen, gate } = setup({ throwAt: at, store: 'carried', plan: async () => planOf(3, '5s') });
      const out = await gate({ id: 'd-1' }, lambdaContext(2_000));
      expect(out.kind).toBe('decided');
      expect(seen.delivered).toHaveLength(1);
      expect(seen.delivered[0]?.reasons).toEqual([`could not validate: ${at} broke`]);
    });
  }

  it('fails closed on a plan that cannot be loaded, naming the plan fault', async () => {
    const { seen, gate } = setup({ plan: () => Promise.reject(new PlanError(['checks.x: unknown type'])) });
    await gate({ id: 'd-1' }, lambdaContext(5_000));
    expect(seen.delivered[0]?.status).toBe('error');
    expect(seen.delivered[0]?.reasons).toEqual(['invalid plan: checks.x: unknown type']);
  });

  it('fails closed on a refused hook without running checks', async () => {
    const { seen, gate } = setup({ opened: { kind: 'refused', reason: 'malformed event: DeploymentId is odd' } });
    await gate({ id: 'd-1' }, lambdaContext(5_000));
    expect(seen.checksAsked).toBe(0);
    expect(seen.delivered[0]?.reasons).toEqual(['malformed event: DeploymentId is odd']);
  });

  it('turns a settings error into a Failed verdict that names the variable, still delivered', async () => {
    const { seen, gate } = setup({ reserve: 'soon' });
    await gate({ id: 'd-1' }, lambdaContext(5_000));
    expect(seen.delivered).toHaveLength(1);
    expect(seen.delivered[0]?.status).toBe('error');
    expect(seen.delivered[0]?.reasons.join()).toMatch(/^GREENLIGHT_REPORT_RESERVE: expected a duration/);
    expect(seen.checksAsked).toBe(0);
  });

  it('never blocks a rollback: passes at once, even with a bad setting and an unreadable plan', async () => {
    const { seen, gate } = setup({
      rollback: 'rollback deployment: not blocked',
      reserve: 'soon',
      plan: () => Promise.reject(new Error('plan unreadable')),
    });
    await gate({ id: 'd-1' }, lambdaContext(5_000));
    expect(seen.delivered).toHaveLength(1);
    expect(seen.delivered[0]).toMatchObject({ status: 'pass', reasons: ['rollback deployment: not blocked'] });
    expect(seen.checksAsked).toBe(0);
  });

  it('treats a hook that is no longer open as a no-op: nothing delivered, nothing published', async () => {
    const { seen, gate } = setup({ opened: { kind: 'closed', reason: 'already reported' } });
    const out = await gate({ id: 'd-1' }, lambdaContext(5_000));
    expect(out).toMatchObject({ kind: 'closed', reason: 'already reported' });
    expect(seen.events).not.toContain('deliver');
    expect(seen.published).toHaveLength(0);
  });

  it('treats a duplicate found at delivery as a no-op: the verdict is not published', async () => {
    const { seen, gate } = setup({ delivery: 'closed' });
    const out = await gate({ id: 'd-1' }, lambdaContext(5_000));
    expect(out).toMatchObject({ kind: 'closed', reason: 'already reported' });
    expect(seen.published).toHaveLength(0);
  });

  it('returns a hand-over when the schedule does not fit: no verdict delivered or published', async () => {
    const { seen, gate } = setup({ store: 'carried', plan: async () => planOf(3, '5s') });
    const out = await gate({ id: 'd-1' }, lambdaContext(2_000));
    expect(out.kind).toBe('handed-on');
    expect(seen.saved).toBe(1);
    expect(seen.events).not.toContain('deliver');
    expect(seen.published).toHaveLength(0);
  });

  it('fails the invocation loudly when the verdict cannot be delivered, and publishes nothing', async () => {
    const { seen, gate } = setup({ delivery: 'throws' });
    await expect(gate({ id: 'd-1' }, lambdaContext(5_000))).rejects.toBeInstanceOf(ReportError);
    expect(seen.published).toHaveLength(0);
  });

  it('fails the invocation, delivering nothing, when the trigger asks for a retry (work that must not be dropped)', async () => {
    const lost = new Error('could not hand the watch on');
    const { seen, gate } = setup({ opened: { kind: 'retry', error: lost } });
    await expect(gate({ id: 'd-1' }, lambdaContext(5_000))).rejects.toBe(lost);
    expect(seen.events).toEqual(['open']);
    expect(seen.published).toHaveLength(0);
  });

  it('answers an ignored event without opening a hook or delivering', async () => {
    const { seen, gate } = setup({ read: 'ignored' });
    const out = await gate({}, lambdaContext(5_000));
    expect(out).toMatchObject({ kind: 'ignored', reason: 'not for this gate' });
    expect(seen.events).toEqual([]);
  });

  it('fails the invocation on an event that names nothing to answer', async () => {
    const { seen, gate } = setup({ read: 'malformed' });
    await expect(gate({}, lambdaContext(5_000))).rejects.toBeInstanceOf(GateEventError);
    expect(seen.events).toEqual([]);
  });
});
