import { ElasticLoadBalancingV2Client, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { ecsStages } from '../../lib/spec/hooks.ts';
import { type BlueGreenRules, createBlueGreenRules } from '../../local/ecs-native-setup.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import { type EcsFake, lifecycleHookEvent, startEcsFake } from '../../local/fakes/ecs.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';

/**
 * Issue 11, item 6, on the ECS native side: green is the target service revision the event names,
 * whatever the traffic weights say; green's target group is read from the listener rules as each
 * stage leaves them in a forward deployment, whichever of the pair the service calls primary (ECS
 * alternates them between deployments). Through the real ecs-lifecycle-hook handler, against
 * moto_server's listener rules and the local ECS fake.
 */
type Handler = typeof import('../../functions/ecs-lifecycle-hook/index.ts')['handler'];

const plan = `
version: 1
hooks:
  "*": [ctx]
checks:
  ctx:
    type: http
    url: "{{testListenerUrl}}/ctx?green={{greenTargetGroup}}&blue={{blueTargetGroup}}&rev={{targetServiceRevisionArn}}"
`;

let moto: Moto;
let ecs: EcsFake;
let green: HttpTarget;
let blue: HttpTarget;
let lb: LocalLoadBalancer;
let rules: BlueGreenRules;
let elb: ElasticLoadBalancingV2Client;
let handler: Handler;

const tgName = (arn: string) => /:targetgroup\/([^/]+)\//.exec(arn)?.[1] as string;

/** Sets a rule's forward weights as ECS leaves them (percent to green; the rest to blue). */
async function weigh(rule: string, toGreen: number): Promise<void> {
  await elb.send(
    new ModifyRuleCommand({
      RuleArn: rule,
      Actions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: lb.greenTargetGroupArn, Weight: toGreen },
              { TargetGroupArn: lb.blueTargetGroupArn, Weight: 100 - toGreen },
            ],
          },
        },
      ],
    }),
  );
}

/** The listener rules of a forward blue/green deployment at `stage` (a 10% canary while production shifts). */
function forwardWeights(stage: string): { production: number; test: number } {
  const at = ecsStages.indexOf(stage as (typeof ecsStages)[number]);
  const testShifted = at >= ecsStages.indexOf('TEST_TRAFFIC_SHIFT');
  if (at < ecsStages.indexOf('PRODUCTION_TRAFFIC_SHIFT')) return { production: 0, test: testShifted ? 100 : 0 };
  if (stage === 'PRODUCTION_TRAFFIC_SHIFT') return { production: 10, test: 100 };
  return { production: 100, test: 100 };
}

beforeAll(async () => {
  [moto, green, blue] = await Promise.all([startMoto(), startHttpTarget(), startHttpTarget()]);
  ecs = await startEcsFake({ fallback: moto.url });
  lb = await createLoadBalancer(moto.url, { name: 'gl-native-id', prodPort: blue.port, testPort: green.port });
  rules = await createBlueGreenRules(moto.url, lb);
  elb = new ElasticLoadBalancingV2Client({
    endpoint: moto.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
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
  elb?.destroy();
  await Promise.all([moto?.stop(), ecs?.close(), green?.close(), blue?.close()]);
});

beforeEach(() => {
  clearPlanCache();
  // The probe only carries the ids greenlight resolved, at every stage: the test listener's origin is
  // named literally, since {{testListenerUrl}} is refused where that listener still reaches blue.
  process.env.GREENLIGHT_PLAN = plan.replaceAll('{{testListenerUrl}}', `http://${lb.dnsName}:${green.port}`);
  process.env.GREENLIGHT_REPORT_RESERVE = '1s';
  green.respond((_req, res) => res.end('ok'));
  green.hits.length = 0;
});

describe.each([
  ['primary', false],
  ['alternate', true],
])('ecs-lifecycle-hook: green in the %s target group', (_role, greenIsAlternate) => {
  it.each([...ecsStages])(
    'at %s, green is the target revision and its target group, whatever the weights',
    async (stage) => {
      const w = forwardWeights(stage);
      await Promise.all([weigh(rules.productionListenerRule, w.production), weigh(rules.testListenerRule, w.test)]);
      const d = ecs.addNativeDeployment({
        loadBalancer: {
          targetGroupArn: greenIsAlternate ? lb.blueTargetGroupArn : lb.greenTargetGroupArn,
          alternateTargetGroupArn: greenIsAlternate ? lb.greenTargetGroupArn : lb.blueTargetGroupArn,
          productionListenerRule: rules.productionListenerRule,
          testListenerRule: rules.testListenerRule,
        },
      });
      // Weights as ECS reports them at this stage: the event's maps never decide who is green.
      const event = lifecycleHookEvent(d, stage, {
        productionTrafficWeights: {
          [d.targetServiceRevisionArn]: w.production,
          [d.sourceServiceRevisionArn]: 100 - w.production,
        },
        testTrafficWeights: { [d.targetServiceRevisionArn]: w.test, [d.sourceServiceRevisionArn]: 100 - w.test },
      });

      const out = await handler(event, lambdaContext(30_000, 'greenlight-ecs-lifecycle-hook'));

      expect(out.hookStatus).toBe('SUCCEEDED');
      const [hit] = green.hits;
      const query = new URL(`http://x${hit ?? ''}`).searchParams;
      expect(query.get('green')).toBe(tgName(lb.greenTargetGroupArn));
      expect(query.get('blue')).toBe(tgName(lb.blueTargetGroupArn));
      expect(query.get('rev')).toBe(d.targetServiceRevisionArn);
    },
  );
});
