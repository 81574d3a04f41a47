import { spawnSync } from 'node:child_process';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretsAdapter } from '../../lib/aws/secrets.ts';
import { getParameter } from '../../lib/aws/ssm.ts';
import { planFromEnv } from '../../lib/aws/wiring.ts';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { type Moto, startMoto } from '../../local/moto.ts';

/**
 * Parameters through Powertools Parameters, with the real SDK: moto_server is SSM, behind a JSON fake
 * that forwards to it and can fault or delay GetParameter. The function's client finds the fake through
 * AWS_ENDPOINT_URL_SSM, as in Lambda it finds SSM.
 */

let moto: Moto;
let ssm: JsonFake;
let admin: SSMClient;
const saved = { ...process.env };

async function put(name: string, value: string, type: 'String' | 'SecureString' = 'SecureString'): Promise<void> {
  await admin.send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true }));
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
}, 60_000);

afterAll(async () => {
  admin?.destroy();
  await ssm?.close();
  await moto?.stop();
  process.env = saved;
});

describe('getParameter', () => {
  it('reads a SecureString decrypted, through the client AWS_ENDPOINT_URL_SSM points at', async () => {
    // Arrange
    await put('/greenlight/plan-a', 'version: 1');
    const before = ssm.callsOf('GetParameter').length;

    // Act
    const value = await getParameter('/greenlight/plan-a');

    // Assert
    expect(value).toBe('version: 1');
    expect(ssm.callsOf('GetParameter').slice(before)).toEqual([
      expect.objectContaining({ input: { Name: '/greenlight/plan-a', WithDecryption: true } }),
    ]);
  });

  it('reuses a value for maxAge seconds, then reads SSM again and sees the edit', async () => {
    // Arrange
    await put('/greenlight/plan-b', 'first');
    const calls = () => ssm.callsOf('GetParameter').filter((c) => c.input.Name === '/greenlight/plan-b').length;

    // Act
    const first = await getParameter('/greenlight/plan-b', { maxAge: 1 });
    await put('/greenlight/plan-b', 'edited');
    const cached = await getParameter('/greenlight/plan-b', { maxAge: 1 });
    await new Promise((r) => setTimeout(r, 1_100));
    const fresh = await getParameter('/greenlight/plan-b', { maxAge: 1 });

    // Assert
    expect([first, cached, fresh]).toEqual(['first', 'first', 'edited']);
    expect(calls()).toBe(2);
  });

  it('keeps nothing without maxAge: every read asks SSM', async () => {
    // Arrange
    await put('/greenlight/plan-c', 'one');

    // Act
    const one = await getParameter('/greenlight/plan-c');
    await put('/greenlight/plan-c', 'two');
    const two = await getParameter('/greenlight/plan-c');

    // Assert
    expect([one, two]).toEqual(['one', 'two']);
  });

  it("rejects with the SDK's ParameterNotFound (not Powertools' wrapper) for a missing parameter", async () => {
    const error = await getParameter('/greenlight/missing', { maxAge: 60 }).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'ParameterNotFound' });
  });

  it('rejects with AccessDeniedException and its message when SSM denies the read', async () => {
    // Arrange
    await put('/greenlight/denied', 'x');
    ssm.failNext('GetParameter', {
      type: 'AccessDeniedException',
      message: 'User is not authorized to perform: ssm:GetParameter',
    });

    // Act
    const error = await getParameter('/greenlight/denied').catch((e: unknown) => e);

    // Assert
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      message: 'User is not authorized to perform: ssm:GetParameter',
    });
  });

  it('stops waiting when the signal aborts, with its reason', async () => {
    // Arrange
    await put('/greenlight/slow', 'x');
    ssm.failNext('GetParameter', { type: 'ThrottlingException', delayMs: 3_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline reached')), 100);
    const started = Date.now();

    // Act
    const error = await getParameter('/greenlight/slow', { signal: controller.signal }).catch((e: unknown) => e);

    // Assert
    expect(error).toMatchObject({ message: 'deadline reached' });
    expect(Date.now() - started).toBeLessThan(1_500);
    ssm.clearFaults();
  });

  it('does not start a read when the signal has already aborted', async () => {
    const before = ssm.callsOf('GetParameter').length;

    await expect(getParameter('/greenlight/plan-a', { signal: AbortSignal.abort() })).rejects.toThrow();

    expect(ssm.callsOf('GetParameter').length).toBe(before);
  });
});

describe('secretsAdapter', () => {
  it('reads the secret from SSM at every read, so a rotated value is used at once', async () => {
    // Arrange
    await put('/greenlight/token', 'tok-1');
    const port = secretsAdapter();
    const signal = new AbortController().signal;

    // Act
    const first = await port.read({ ssm: '/greenlight/token' }, signal);
    await put('/greenlight/token', 'tok-2');
    const second = await port.read({ ssm: '/greenlight/token' }, signal);

    // Assert
    expect([first, second]).toEqual(['tok-1', 'tok-2']);
  });
});

describe('planFromEnv with GREENLIGHT_PLAN_PARAMETER', () => {
  const plan = (check: string): string =>
    `version: 1\nhooks:\n  "*": [${check}]\nchecks:\n  ${check}:\n    type: http\n    url: "{{testListenerUrl}}/health"\n`;

  it('reads the plan from SSM once a minute: an edit within the minute is not seen yet', async () => {
    // Arrange
    clearPlanCache();
    await put('/greenlight/plan-e2e', plan('green-health'));
    const load = planFromEnv({ GREENLIGHT_PLAN_PARAMETER: '/greenlight/plan-e2e' });
    const signal = new AbortController().signal;

    // Act
    const first = await load(signal);
    await put('/greenlight/plan-e2e', plan('green-ready'));
    const second = await load(signal);

    // Assert
    expect(Object.keys(first.checks)).toEqual(['green-health']);
    expect(second).toBe(first);
    expect(ssm.callsOf('GetParameter').filter((c) => c.input.Name === '/greenlight/plan-e2e')).toHaveLength(1);
  });

  it('fails with a PlanError naming the parameter and what SSM said when it is missing', async () => {
    clearPlanCache();
    const load = planFromEnv({ GREENLIGHT_PLAN_PARAMETER: '/greenlight/no-plan' });

    await expect(load(new AbortController().signal)).rejects.toMatchObject({
      issues: [
        expect.stringMatching(
          /^GREENLIGHT_PLAN_PARAMETER: cannot read SSM parameter \/greenlight\/no-plan: ParameterNotFound: /,
        ),
      ],
    });
  });
});

describe('loading SSM', () => {
  it('loads neither the SSM client nor Powertools Parameters for checks and a plan that do not use them', () => {
    // A fresh process records every module it resolves while it wires the checks and loads an inline plan.
    const script = `
      import { registerHooks } from 'node:module';
      const resolved = [];
      registerHooks({ resolve(specifier, context, next) { resolved.push(specifier); return next(specifier, context); } });
      const { checkDeps, planFromEnv } = await import(${JSON.stringify(new URL('../../lib/aws/wiring.ts', import.meta.url).pathname)});
      checkDeps({});
      const inline = '{"version": 1, "hooks": {"*": ["a"]}, "checks": {"a": {"type": "http", "url": "http://x/"}}}';
      await planFromEnv({ GREENLIGHT_PLAN: inline })(new AbortController().signal);
      console.log(JSON.stringify(resolved.filter((s) => /client-ssm|parameters|ssm-sdk/.test(s))));
    `;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });

    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual([]);
  });
});

describe('secretsAdapter and the state key (trust boundary)', () => {
  const stateKey = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:greenlight-state-key-AbC123';

  it.each([
    `/aws/reference/secretsmanager/${stateKey}`,
    '/aws/reference/secretsmanager/greenlight-state-key-AbC123',
    '/aws/reference/secretsmanager/greenlight-state-key',
    '/AWS/Reference/SecretsManager/Greenlight-State-Key:AWSCURRENT',
  ])('refuses %s before asking SSM', async (name) => {
    const before = ssm.callsOf('GetParameter').length;
    const port = secretsAdapter(undefined, stateKey);

    await expect(port.read({ ssm: name }, AbortSignal.timeout(2_000))).rejects.toThrow(
      /state key, which no plan may read/,
    );
    expect(ssm.callsOf('GetParameter').length).toBe(before);
  });

  it('still reads other Secrets Manager references and parameters', async () => {
    await put('/greenlight/other', 'other-value');
    const port = secretsAdapter(undefined, stateKey);

    await expect(port.read({ ssm: '/greenlight/other' }, AbortSignal.timeout(2_000))).resolves.toBe('other-value');
  });
});
