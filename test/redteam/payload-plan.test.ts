import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { lifecycleHookEvent } from '../../local/fakes/ecs.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { lambdaContext } from '../support/lambda-context.ts';

// Red team: the ECS lifecycle hook runs the plan in its payload's hookDetails.greenlightPlan. Anyone
// allowed to invoke the function (not only ECS) writes that payload, so a hand-made invocation could
// read any secret the function's role may read and send it to a host its own plan allows, or probe the
// function's own host or network. A plan in the payload may now neither read secrets nor open loopback,
// private, link-local or metadata addresses: it is refused, FAILED, before anything is read or sent.

const token = 'sk-live-redteam-0123456789abcdef';
let h: Harness;

beforeAll(async () => {
  h = await startHarness('gl-payload-plan');
  const ssm = new SSMClient({ endpoint: h.moto.url, region: 'us-east-1' });
  await ssm.send(
    new PutParameterCommand({ Name: '/greenlight/prod-token', Value: token, Type: 'SecureString', Overwrite: true }),
  );
  ssm.destroy();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = 'version: 1\nhooks:\n  "*": []\nchecks: {}\n';
  h.blue.respond((_req, res) => res.end('ok'));
  h.blue.hits.length = 0;
  h.green.respond((_req, res) => res.end('ok'));
  h.green.hits.length = 0;
});

const reasonsOf = (out: { hookDetails?: Record<string, unknown> }): string =>
  JSON.stringify((out.hookDetails?.greenlightResult as { reasons?: string[] } | undefined)?.reasons ?? []);

describe('a plan in hookDetails comes from whoever invokes the function', () => {
  it('may not read secrets: a hand-made invocation cannot send a secret to a host it chose', async () => {
    const stolen = {
      version: 1,
      allow: { addresses: ['loopback'] },
      secrets: { t: { ssm: '/greenlight/prod-token' } },
      hooks: { '*': ['exfil'] },
      checks: { exfil: { type: 'http', url: `${h.blue.url}/collect?t={{secret:t}}`, count: 1, timeout: '2s' } },
    };
    const out = await h.handlers.ecsLifecycleHook(
      lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT', { hookDetails: { greenlightPlan: stolen } }),
      lambdaContext(10_000),
    );

    expect(out.hookStatus).toBe('FAILED');
    expect(reasonsOf(out)).toMatch(/hookDetails\.greenlightPlan\.secrets: a plan in hookDetails may not read secrets/);
    expect(h.blue.hits).toEqual([]);
    expect(JSON.stringify(out)).not.toContain(token);
  });

  it('may not read secrets even to send them to the deployment listener', async () => {
    const plan = {
      version: 1,
      secrets: { t: { ssm: '/greenlight/prod-token' } },
      hooks: { '*': ['green'] },
      checks: {
        green: {
          type: 'http',
          url: '{{testListenerUrl}}/health',
          headers: { 'X-Token': '{{secret:t}}' },
          count: 1,
          timeout: '2s',
        },
      },
    };
    const out = await h.handlers.ecsLifecycleHook(
      lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT', { hookDetails: { greenlightPlan: plan } }),
      lambdaContext(10_000),
    );

    expect(out.hookStatus).toBe('FAILED');
    expect(reasonsOf(out)).toMatch(/hookDetails\.greenlightPlan\.secrets: /);
    expect(h.green.hits).toEqual([]);
  });

  it.each([['loopback'], ['private'], ['link-local'], ['metadata']])(
    'may not open %s addresses (the function host, its network, the cloud metadata)',
    async (range) => {
      const plan = {
        version: 1,
        allow: { addresses: [range] },
        hooks: { '*': ['probe'] },
        checks: { probe: { type: 'http', url: `${h.blue.url}/`, count: 1, timeout: '2s' } },
      };
      const out = await h.handlers.ecsLifecycleHook(
        lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT', { hookDetails: { greenlightPlan: plan } }),
        lambdaContext(10_000),
      );

      expect(out.hookStatus).toBe('FAILED');
      expect(reasonsOf(out)).toMatch(
        new RegExp(`hookDetails\\.greenlightPlan\\.allow\\.addresses: a plan in hookDetails may not allow ${range}`),
      );
      expect(h.blue.hits).toEqual([]);
    },
  );

  it('still runs a plan in hookDetails that probes the deployment listener', async () => {
    const plan = {
      version: 1,
      hooks: { '*': ['green'] },
      checks: { green: { type: 'http', url: '{{testListenerUrl}}/health', count: 1, timeout: '2s' } },
    };
    const out = await h.handlers.ecsLifecycleHook(
      lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT', { hookDetails: { greenlightPlan: plan } }),
      lambdaContext(10_000),
    );

    expect(out.hookStatus).toBe('SUCCEEDED');
    expect(h.green.hits.length).toBeGreaterThan(0);
  });
});
