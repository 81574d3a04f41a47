import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDeps } from '../../lib/aws/wiring.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { measureOnce } from '../support/run-check.ts';

// Red team: a compare measurement passed when green failed every one of its probes, as long as blue
// failed often enough that the difference was not significant (judge) or within maxErrorRateIncrease.
// A pass needs evidence that green works: at least one passing green probe.

let blue: HttpTarget;
let green: HttpTarget;
const deps = checkDeps({});
const context = () => ({ prodListenerUrl: blue.url, testListenerUrl: green.url, hook: 'BeforeAllowTraffic' });

beforeAll(async () => {
  [blue, green] = await Promise.all([startHttpTarget(), startHttpTarget()]);
});

afterAll(async () => {
  await Promise.all([blue?.close(), green?.close()]);
});

/** Blue answers 200 and 503 in turn; green always 503. */
function halfBrokenBlueDeadGreen(): void {
  let n = 0;
  blue.respond((_req, res) => {
    res.statusCode = n++ % 2 === 0 ? 200 : 503;
    res.end('blue');
  });
  green.respond((_req, res) => {
    res.statusCode = 503;
    res.end('green');
  });
}

describe('compare never passes a green that passed none of its probes', () => {
  it('judged: green 10/10 503 against blue 5/10 is a fail, not a pass on "no significant difference"', async () => {
    halfBrokenBlueDeadGreen();
    const o = await measureOnce({ type: 'compare', path: '/health', samples: 10, judge: true }, context(), deps);
    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/green passed none of its 10 probes/);
  });

  it('margins: green 10/10 503 against blue 5/10 with maxErrorRateIncrease 0.5 is a fail', async () => {
    halfBrokenBlueDeadGreen();
    const o = await measureOnce(
      { type: 'compare', path: '/health', samples: 10, maxErrorRateIncrease: 0.5 },
      context(),
      deps,
    );
    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/green passed none of its 10 probes/);
  });
});
