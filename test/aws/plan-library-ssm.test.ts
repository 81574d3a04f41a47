import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planFromEnv } from '../../functions/shared/wiring.ts';
import { clearMissingParameters } from '../../lib/aws/ssm.ts';
import { clearPlanCache, NoPlanError } from '../../lib/plan/load.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { type Moto, startMoto } from '../../local/moto.ts';

/**
 * The plan library in SSM, read as the functions read it (planFromEnv): moto_server is SSM, behind a
 * recorder that counts GetParameters calls. Each platform's route finds its own plan.
 */

const prefix = '/greenlight/plans/';
let moto: Moto;
let ssm: JsonFake;
let admin: SSMClient;
const saved = { ...process.env };

const planFor = (name: string) => `version: 1
description: ${name}
hooks:
  "*": [probe]
checks:
  probe:
    type: http
    url: "https://example.com/{{var.path}}"
variables: { path: ${name} }
`;

async function put(key: string, value: string): Promise<void> {
  await admin.send(
    new PutParameterCommand({ Name: `${prefix}${key}`, Value: value, Type: 'SecureString', Overwrite: true }),
  );
}

beforeAll(async () => {
  moto = await startMoto();
  ssm = await startJsonFake({ operations: {}, fallback: moto.url });
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_SSM: ssm.url,
  });
  admin = new SSMClient({ endpoint: moto.url, region: 'us-east-1' });
  await put('codedeploy/AppECS-web/DgpECS-web', planFor('codedeploy-web'));
  await put('ecs/prod/api', planFor('ecs-api'));
  await put('lambda/orders', planFor('lambda-orders'));
  await put(
    'ecs/prod/shared-user',
    `version: 1
include: [team-http]
variables: { expectedVersion: "7" }
hooks:
  "*": [version]
`,
  );
  await put(
    'shared/team-http',
    `version: 1
checks:
  version:
    type: http
    url: "https://example.com/version"
    expect: { bodyContains: "{{var.expectedVersion}}" }
`,
  );
}, 60_000);

afterAll(async () => {
  admin?.destroy();
  await ssm?.close();
  await moto?.stop();
  process.env = saved;
});

beforeEach(() => {
  clearPlanCache();
  clearMissingParameters();
});

const load = (env: NodeJS.ProcessEnv) => planFromEnv({ GREENLIGHT_PLAN_PREFIX: prefix, ...env });
const signal = () => AbortSignal.timeout(10_000);

describe('the plan library in SSM, through the real SDK', () => {
  it('finds each platform its own plan: CodeDeploy application and group, ECS service, Lambda function', async () => {
    const codedeploy = await load({})(signal(), {
      codedeploy: { application: 'AppECS-web', deploymentGroup: 'DgpECS-web' },
      ecs: { cluster: 'prod', service: 'api' },
    });
    const ecs = await load({})(signal(), { ecs: { cluster: 'prod', service: 'api' } });
    const lambda = await load({})(signal(), {
      codedeploy: { application: 'sam-app', deploymentGroup: 'none' },
      lambda: { functionName: 'orders' },
    });

    expect([codedeploy.description, ecs.description, lambda.description]).toEqual([
      'codedeploy-web',
      'ecs-api',
      'lambda-orders',
    ]);
    expect(JSON.stringify(lambda.checks.probe?.spec)).toContain('https://example.com/lambda-orders');
  });

  it('reads the candidates in one GetParameters call, and does not ask again for a missing one within a minute', async () => {
    const before = ssm.callsOf('GetParameters').length;
    const route = {
      codedeploy: { application: 'sam-app', deploymentGroup: 'none' },
      lambda: { functionName: 'orders' },
    };

    await load({})(signal(), route);
    await load({})(signal(), route);

    const calls = ssm.callsOf('GetParameters').slice(before);
    expect(calls).toHaveLength(1);
    // lambda/orders was read by the test before: Powertools keeps it for a minute, so only the miss is asked.
    expect(calls[0]?.input).toEqual({ Names: [`${prefix}codedeploy/sam-app/none`], WithDecryption: true });
  });

  it('falls back to the one plan when no plan routes to the deployment', async () => {
    const plan = await load({ GREENLIGHT_PLAN: planFor('fallback') })(signal(), {
      ecs: { cluster: 'prod', service: 'new' },
    });

    expect(plan.description).toBe('fallback');
  });

  it('without a fallback, throws a NoPlanError naming the parameters it looked for', async () => {
    const error = await load({})(signal(), { ecs: { cluster: 'prod', service: 'new' } }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NoPlanError);
    expect((error as Error).message).toContain(`looked for ${prefix}ecs/prod/new; no fallback plan is set`);
  });

  it('includes a shared check set from the library, filled with the plan variables', async () => {
    const plan = await load({})(signal(), { ecs: { cluster: 'prod', service: 'shared-user' } });

    expect(JSON.stringify(plan.checks.version?.spec)).toContain('"7"');
  });

  it('fails with the SDK error, not "no plan", when SSM denies the read', async () => {
    ssm.failNext('GetParameters', { type: 'AccessDeniedException', message: 'not authorized' });

    const error = await load({ GREENLIGHT_PLAN: planFor('fallback') })(signal(), {
      ecs: { cluster: 'prod', service: 'denied' },
    }).catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(NoPlanError);
    expect((error as Error).message).toMatch(/cannot read the plan library .*AccessDeniedException: not authorized/);
  });
});
