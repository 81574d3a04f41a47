import { type BlueGreenRules, createBlueGreenRules } from '../../local/ecs-native-setup.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import { type CodeDeployFake, ecsDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { type EcsFake, type NativeDeployment, startEcsFake } from '../../local/fakes/ecs.ts';
import { type LambdaAsyncFake, startLambdaAsyncFake } from '../../local/fakes/lambda-async.ts';
import { type ProtonFake, startProtonFake } from '../../local/fakes/proton.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { createStateKeySecret, type LocalStateKey } from '../../local/state-key.ts';
import { type HttpTarget, startHttpTarget } from './http-target.ts';

type CodeDeployHook = typeof import('../../functions/codedeploy-hook/index.ts')['handler'];
type EcsLifecycleHook = typeof import('../../functions/ecs-lifecycle-hook/index.ts')['handler'];
type EcsPauseGate = typeof import('../../functions/ecs-pause-gate/index.ts')['handler'];
type CodeDeployWaitGate = typeof import('../../functions/codedeploy-wait-gate/index.ts')['handler'];
type ProtonGuard = typeof import('../../functions/proton-pipeline-guard/index.ts')['handler'];

/**
 * Every function, imported as Lambda runs it, against loopback stand-ins for AWS: moto_server (ELBv2,
 * SSM, Secrets Manager with the state key), the CodeDeploy and ECS fakes, a Lambda Invoke queue, and a real load balancer in moto whose
 * listeners GREENLIGHT_RESOLVE sends to green and blue on 127.0.0.1.
 */
export interface Harness {
  readonly moto: Moto;
  readonly codedeploy: CodeDeployFake;
  readonly ecs: EcsFake;
  readonly lambda: LambdaAsyncFake;
  readonly proton: ProtonFake;
  readonly green: HttpTarget;
  readonly blue: HttpTarget;
  readonly lb: LocalLoadBalancer;
  readonly rules: BlueGreenRules;
  /** The state key secret in moto_server (GREENLIGHT_STATE_KEY_SECRET_ARN), and its value. */
  readonly stateKey: LocalStateKey;
  readonly handlers: {
    readonly codedeployHook: CodeDeployHook;
    readonly ecsLifecycleHook: EcsLifecycleHook;
    readonly ecsPauseGate: EcsPauseGate;
    readonly codedeployWaitGate: CodeDeployWaitGate;
    readonly protonGuard: ProtonGuard;
  };
  /** A CodeDeploy ECS deployment whose listeners are the load balancer's; returns its id. */
  codeDeployDeployment(o?: Partial<Parameters<typeof ecsDeployment>[0]>): string;
  /** An ECS native deployment behind the load balancer's blue/green rules. */
  nativeDeployment(o?: Parameters<EcsFake['addNativeDeployment']>[0]): NativeDeployment;
  close(): Promise<void>;
}

let seq = 0;

/** `env`: set before the handlers are imported (POWERTOOLS_LOG_LEVEL is read then), over the harness's own. */
export async function startHarness(name: string, env: Record<string, string> = {}): Promise<Harness> {
  const [moto, codedeploy, lambda, proton, green, blue] = await Promise.all([
    startMoto(),
    startCodeDeployFake(),
    startLambdaAsyncFake(),
    startProtonFake(),
    startHttpTarget(),
    startHttpTarget(),
  ]);
  const ecs = await startEcsFake({ fallback: moto.url });
  const lb = await createLoadBalancer(moto.url, { name, prodPort: blue.port, testPort: green.port });
  const rules = await createBlueGreenRules(moto.url, lb);
  const stateKey = await createStateKeySecret(moto.url, `greenlight-state-key-${name}`);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
    AWS_ENDPOINT_URL_ECS: ecs.url,
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: moto.url,
    AWS_ENDPOINT_URL_SSM: moto.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.url,
    GREENLIGHT_STATE_KEY_SECRET_ARN: stateKey.secretArn,
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
    AWS_ENDPOINT_URL_PROTON: proton.url,
    // Any other service (verdict events, if a test turns them on) goes to a closed loopback port, never to AWS.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    GREENLIGHT_RESOLVE: `${lb.dnsName}=127.0.0.1`,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...env,
  });
  const [codedeployHook, ecsLifecycleHook, ecsPauseGate, codedeployWaitGate, protonGuard] = await Promise.all([
    import('../../functions/codedeploy-hook/index.ts').then((m) => m.handler),
    import('../../functions/ecs-lifecycle-hook/index.ts').then((m) => m.handler),
    import('../../functions/ecs-pause-gate/index.ts').then((m) => m.handler),
    import('../../functions/codedeploy-wait-gate/index.ts').then((m) => m.handler),
    import('../../functions/proton-pipeline-guard/index.ts').then((m) => m.handler),
  ]);
  return {
    moto,
    codedeploy,
    ecs,
    lambda,
    proton,
    green,
    blue,
    lb,
    rules,
    stateKey,
    handlers: { codedeployHook, ecsLifecycleHook, ecsPauseGate, codedeployWaitGate, protonGuard },
    codeDeployDeployment(o = {}) {
      seq++;
      const deploymentId = `d-H${String(seq).padStart(8, '0')}`;
      codedeploy.addDeployment(
        ecsDeployment({
          deploymentId,
          hook: 'AfterAllowTestTraffic',
          testListenerArn: lb.testListenerArn,
          prodListenerArn: lb.prodListenerArn,
          ...o,
        }),
      );
      return deploymentId;
    },
    nativeDeployment(o = {}) {
      return ecs.addNativeDeployment({
        loadBalancer: {
          targetGroupArn: lb.blueTargetGroupArn,
          alternateTargetGroupArn: lb.greenTargetGroupArn,
          productionListenerRule: rules.productionListenerRule,
          testListenerRule: rules.testListenerRule,
        },
        ...o,
      });
    },
    async close() {
      await Promise.all([
        moto.stop(),
        codedeploy.close(),
        ecs.close(),
        lambda.close(),
        proton.close(),
        green.close(),
        blue.close(),
      ]);
    },
  };
}
