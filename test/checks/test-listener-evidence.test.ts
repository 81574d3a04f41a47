import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';

/**
 * Evidence from green only (issue 11, the class of item 6, found by the newcomer pass): before test
 * traffic moves, `{{testListenerUrl}}` reaches blue. Under `"*"` the hook is known only at run time.
 */
describe('a "*" check probing the test listener where it still reaches blue', () => {
  let listener: HttpTarget;

  beforeAll(async () => {
    listener = await startHttpTarget();
  });

  afterAll(async () => {
    await listener.close();
  });

  const runAt = (hook: string) => {
    const plan = parsePlan({
      version: 1,
      allow: { addresses: ['loopback'] },
      hooks: { '*': ['green-health'] },
      checks: { 'green-health': { type: 'http', url: '{{testListenerUrl}}/health' } },
    });
    const [run] = buildRuns(
      Object.values(plan.checks),
      { testListenerUrl: listener.url, hook },
      { clock: systemClock },
    );
    if (!run) throw new Error('no run');
    return run.measure(AbortSignal.timeout(5_000));
  };

  it.each(['BeforeInstall', 'AfterInstall', 'RECONCILE_SERVICE', 'PRE_SCALE_UP', 'POST_SCALE_UP'])(
    'is an error at %s, never a pass, and probes nothing',
    async (hook) => {
      const before = listener.hits.length;

      const o = await runAt(hook);

      expect(o.outcome).toBe('error');
      expect(o.message).toMatch(new RegExp(`does not reach green at ${hook}`));
      expect(listener.hits.length).toBe(before);
    },
  );

  it.each(['AfterAllowTestTraffic', 'TEST_TRAFFIC_SHIFT', 'AfterAllowTraffic'])('probes green at %s', async (hook) => {
    listener.respond((_req, res) => res.end('ok'));

    const o = await runAt(hook);

    expect(o.outcome).toBe('pass');
  });
});
