import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { type BlueGreenRules, createBlueGreenRules } from '../../local/ecs-native-setup.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import { type EcsFake, startEcsFake } from '../../local/fakes/ecs.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { sdkPartitions } from '../support/partitions.ts';

/**
 * Issue 11, item 7: an ECS event whose ARNs are of a partition other than `aws` used to be refused as
 * malformed, so the hook answered FAILED and every deployment there rolled back. Each partition of the
 * installed SDK's table goes through the real ecs-lifecycle-hook handler here.
 */
type Handler = typeof import('../../functions/ecs-lifecycle-hook/index.ts')['handler'];

const plan = `
version: 1
hooks:
  "*": [green-health]
checks:
  green-health:
    type: http
    url: "{{testListenerUrl}}/health"
    count: 2
    interval: 20ms
`;

let moto: Moto;
let ecs: EcsFake;
let green: HttpTarget;
let blue: HttpTarget;
let lb: LocalLoadBalancer;
let rules: BlueGreenRules;
let handler: Handler;

const sample = readFileSync(
  new URL('../../events/ecs-lifecycle-hook/post-test-traffic-shift-with-hook-details.json', import.meta.url),
  'utf8',
);

beforeAll(async () => {
  [moto, green, blue] = await Promise.all([startMoto(), startHttpTarget(), startHttpTarget()]);
  ecs = await startEcsFake({ fallback: moto.url });
  lb = await createLoadBalancer(moto.url, { name: 'gl-partitions', prodPort: blue.port, testPort: green.port });
  rules = await createBlueGreenRules(moto.url, lb);
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_ECS = ecs.url;
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = moto.url;
  process.env.GREENLIGHT_RESOLVE = `${lb.dnsName}=127.0.0.1`;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  ({ handler } = await import('../../functions/ecs-lifecycle-hook/index.ts'));
}, 60_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), ecs?.close(), green?.close(), blue?.close()]);
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan;
  process.env.GREENLIGHT_REPORT_RESERVE = '1s';
  green.respond((_req, res) => res.end('ok'));
  blue.respond((_req, res) => res.end('ok'));
  green.hits.length = 0;
});

describe.each(sdkPartitions())('ecs-lifecycle-hook in partition $id (region $region)', ({ id, region }) => {
  it('validates green and answers SUCCEEDED, not FAILED as a malformed event', async () => {
    const event = JSON.parse(sample.replaceAll('arn:aws:ecs:us-west-2:', `arn:${id}:ecs:${region}:`)) as {
      resourceArn: string;
      executionDetails: { targetServiceRevisionArn: string };
    };
    ecs.addServiceRevision({
      serviceRevisionArn: event.executionDetails.targetServiceRevisionArn,
      loadBalancers: [
        {
          targetGroupArn: lb.blueTargetGroupArn,
          advancedConfiguration: {
            alternateTargetGroupArn: lb.greenTargetGroupArn,
            productionListenerRule: rules.productionListenerRule,
            testListenerRule: rules.testListenerRule,
          },
        },
      ],
    });
    ecs.addServiceDeployment({ serviceDeploymentArn: event.resourceArn, status: 'IN_PROGRESS' });

    const out = await handler(event, lambdaContext(30_000, 'greenlight-ecs-lifecycle-hook'));

    expect(out.hookStatus).toBe('SUCCEEDED');
    expect(green.hits).toEqual(['/health', '/health']);
  });
});
