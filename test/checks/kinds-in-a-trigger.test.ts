import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { putAlarm } from '../../local/checks-setup.ts';
import { type CodeDeployFake, lambdaDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { type LambdaFake, startLambdaFake } from '../../local/fakes/lambda.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { lambdaContext } from '../support/lambda-context.ts';

type Handler = typeof import('../../functions/codedeploy-hook/index.ts')['handler'];

/** The SAM PreTraffic plan: a smoke invocation of the new version, and the function's alarms quiet. */
const preTrafficPlan = `
version: 1
hooks:
  PreTraffic: [smoke, alarms]
checks:
  smoke:
    type: lambda-invoke
    payload: { ping: true }
    expect:
      json: { ok: true }
  alarms:
    type: cloudwatch-alarms
    alarmPrefix: "{{functionName}}-"
`;

let moto: Moto;
let codedeploy: CodeDeployFake;
let lambda: LambdaFake;
let handler: Handler;
let seq = 0;

function newDeployment(functionName: string): string {
  seq++;
  const deploymentId = `d-${String(seq).padStart(9, 'L')}`;
  codedeploy.addDeployment(
    lambdaDeployment({
      deploymentId,
      hook: 'BeforeAllowTraffic',
      functionName,
      currentVersion: '4',
      targetVersion: '5',
    }),
  );
  return deploymentId;
}

const event = (id: string) => ({ DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` });

beforeAll(async () => {
  [moto, codedeploy, lambda] = await Promise.all([startMoto(), startCodeDeployFake(), startLambdaFake()]);
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_CODEDEPLOY = codedeploy.url;
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH = moto.url;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  await Promise.all([putAlarm(moto.url, 'orders-api-errors', 'OK'), putAlarm(moto.url, 'billing-api-errors', 'ALARM')]);
  ({ handler } = await import('../../functions/codedeploy-hook/index.ts'));
}, 60_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), codedeploy?.close(), lambda?.close()]);
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = preTrafficPlan;
  lambda.define('orders-api', () => ({ payload: '{"ok":true}' }));
  lambda.define('billing-api', () => ({ payload: '{"ok":true}' }));
});

describe('the check kinds in the CodeDeploy hook, for a SAM PreTraffic hook', () => {
  it('invokes the new version and reads the alarms the context names, then reports Succeeded', async () => {
    const id = newDeployment('orders-api');

    const out = await handler(event(id), lambdaContext());

    expect(out).toMatchObject({ status: 'Succeeded', hook: 'BeforeAllowTraffic' });
    expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Succeeded');
    expect(lambda.calls.at(-1)).toMatchObject({ functionName: 'orders-api', qualifier: '5', payload: '{"ping":true}' });
  });

  it('reports Failed with the function error when the new version throws', async () => {
    lambda.define('orders-api', () => ({
      functionError: 'Unhandled',
      payload: '{"errorType":"Error","errorMessage":"cannot reach the database"}',
    }));
    const id = newDeployment('orders-api');

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/smoke: fail: .*function error Unhandled: Error: cannot reach the database/);
    expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
  });

  it("reports Failed naming the alarm when the function's alarm is in ALARM", async () => {
    const id = newDeployment('billing-api');

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/alarms: fail: .*in ALARM: billing-api-errors/);
  });
});
