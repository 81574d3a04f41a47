import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { codeDeployHooks, ecsStages } from '../lib/spec/hooks.ts';
import { createBlueGreenRules, standInRules } from '../local/ecs-native-setup.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../local/elb-setup.ts';
import {
  type CodeDeployFake,
  ecsDeployment,
  lambdaDeployment,
  startCodeDeployFake,
} from '../local/fakes/codedeploy.ts';
import { type EcsFake, startEcsFake } from '../local/fakes/ecs.ts';
import { startElbv2StandIn } from '../local/fakes/elbv2.ts';
import type { JsonFake } from '../local/fakes/json-server.ts';
import { type LambdaFake, startLambdaFake } from '../local/fakes/lambda.ts';
import { type LambdaAsyncFake, startLambdaAsyncFake } from '../local/fakes/lambda-async.ts';
import { startProtonFake } from '../local/fakes/proton.ts';
import { motoAvailable, startMoto } from '../local/moto.ts';
import { type DemoService, startDemoService } from './rehearsal/demo-service.ts';

/**
 * `npm run invoke -- --local`: the deployment a sample event names, made on this machine. Starts a blue and
 * a green version of a small web service behind two listener ports, a load balancer for them (moto_server,
 * else the built-in ELBv2 stand-in), the project's fakes for what moto_server lacks (CodeDeploy, ECS native
 * deployments and PAUSE hooks, Lambda Invoke, Proton), all on 127.0.0.1, and fills them with the deployment,
 * hook, service or pipeline the event names, under the event's own ids. Nothing reaches AWS: every other
 * service's endpoint is a closed loopback port.
 */
export interface LocalDeployment {
  /** The function's folder under functions/ (codedeploy-hook, ecs-lifecycle-hook, ...). */
  readonly kind: FunctionKind;
  /** What the function runs with, over the template's environment. */
  readonly environment: Readonly<Record<string, string>>;
  readonly region: string;
  /** One line per thing started or set up, for the user. */
  readonly notes: readonly string[];
  /** The next event the caller would deliver after `response` (ECS calling again, a queued continuation), if any. */
  next(response: unknown): Promise<unknown>;
  /** The verdict `response` says, in the caller's words (`Succeeded`, `FAILED`, `ROLLBACK`, ...). */
  verdict(response: unknown): string;
  /** What the function delivered to the fakes (the calls that decide a deployment), one line each. */
  delivered(): string[];
  close(): Promise<void>;
}

export const functionKinds = [
  'codedeploy-hook',
  'ecs-lifecycle-hook',
  'ecs-pause-gate',
  'codedeploy-wait-gate',
  'proton-pipeline-guard',
] as const;
export type FunctionKind = (typeof functionKinds)[number];

export interface LocalOptions {
  /** The function's entry point (functions/<kind>/index.ts), as template.yaml names it. */
  readonly entryPoint: string;
  readonly event: unknown;
  /** The event's file: a CodeDeploy hook event names no hook, its file name does (ecs-after-install.json). */
  readonly eventPath: string;
  /** The CodeDeploy hook, when the file name does not say it (BeforeInstall, ..., lambda:BeforeAllowTraffic). */
  readonly hook?: string;
  /** A plan file instead of the built-in plan for the function. */
  readonly planFile?: string;
  /** Green answers 500 (its smoke function throws): the verdict fails. */
  readonly greenFails: boolean;
  /** Use moto_server for ELBv2 (and ECS reads) when it is installed. */
  readonly moto: boolean;
}

/** A usage problem: the event or the options cannot make a deployment (exit code 2). */
export class LocalSetupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalSetupError';
  }
}

/** The name greenlight's probes use for green when no listener stands in front of it (Proton). */
const greenHost = 'green.greenlight.local';
/** What the local Lambda smoke function answers (lambda-invoke's built-in plan expects it). */
const smokeAnswer = '{"ok":true}';
/** How long the rehearsal waits at most before the caller calls again (ECS callBackDelay, a continuation's resumeAt). */
const maxCallBackMs = 1_000;

/** Starts the fakes, the load balancer and the demo service, filled with the deployment `options.event` names. */
export async function startLocalDeployment(options: LocalOptions): Promise<LocalDeployment> {
  const kind = kindOf(options.entryPoint);
  const event = record(options.event);
  const region = eventRegion(kind, event) ?? 'us-east-1';
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    closers.length = 0;
  };
  try {
    const hook = kind === 'codedeploy-hook' ? codeDeployHookOf(options) : undefined;
    const service = await startDemoService(options.greenFails ? 'failing' : 'healthy');
    closers.push(() => service.close());
    const balancer = await loadBalancer(service, region, options.moto);
    closers.push(balancer.close);
    const notes = [
      `blue (v1) ${service.blue.url}, green (v2) ${service.green.url}${options.greenFails ? ' (answers 500: --green-fails)' : ''}`,
      `load balancer ${balancer.lb.dnsName}: production listener :${service.prodListenerPort}, test listener :${service.testListenerPort} (${balancer.how})`,
    ];
    const environment: Record<string, string> = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      // Any service not started here answers from a closed loopback port: nothing reaches AWS.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: balancer.url,
      GREENLIGHT_RESOLVE: `${balancer.lb.dnsName}=127.0.0.1,${greenHost}=127.0.0.1`,
      GREENLIGHT_PUBLISH_VERDICTS: 'false',
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
    const fakes: JsonFake[] = [];
    let async: LambdaAsyncFake | undefined;
    const world: World = { service, lb: balancer.lb, motoUrl: balancer.motoUrl, region, notes, environment, closers };

    let planKind: PlanKind;
    switch (kind) {
      case 'codedeploy-hook': {
        const codedeploy = await codeDeployFake(world);
        fakes.push(codedeploy);
        const deploymentId = text(event.DeploymentId, 'DeploymentId');
        const h = hook as CodeDeployHook;
        if (h.platform === 'Lambda') {
          const lambda = await lambdaFake(world, options.greenFails);
          codedeploy.addDeployment(lambdaDeployment({ deploymentId, hook: h.hook as 'BeforeAllowTraffic' }));
          notes.push(
            `CodeDeploy Lambda deployment ${deploymentId} of my-function (alias live, version 1 to 2), hook ${h.hook} in progress; Lambda Invoke ${lambda.url}`,
          );
          planKind = 'codedeploy-lambda';
        } else {
          codedeploy.addDeployment(
            ecsDeployment({
              deploymentId,
              hook: h.hook,
              testListenerArn: balancer.lb.testListenerArn,
              prodListenerArn: balancer.lb.prodListenerArn,
            }),
          );
          const at = codeDeployHooks.indexOf(h.hook as (typeof codeDeployHooks)[number]);
          if (at >= codeDeployHooks.indexOf('AfterAllowTestTraffic')) service.route('test', 'green');
          if (at >= codeDeployHooks.indexOf('AfterAllowTraffic')) service.route('prod', 'green');
          notes.push(
            `CodeDeploy ECS deployment ${deploymentId} of my-cluster:my-service, hook ${h.hook} in progress (hook from ${h.from})`,
          );
          planKind = 'codedeploy-ecs';
        }
        break;
      }
      case 'ecs-lifecycle-hook':
      case 'ecs-pause-gate': {
        const ecs = await ecsFake(world);
        fakes.push(ecs);
        const detail = kind === 'ecs-pause-gate' ? record(event.detail) : event;
        const details = record(event.executionDetails);
        const serviceDeploymentArn = text(
          kind === 'ecs-pause-gate' ? detail.serviceDeploymentArn : event.resourceArn,
          kind === 'ecs-pause-gate' ? 'detail.serviceDeploymentArn' : 'resourceArn',
        );
        const stage = text(detail.lifecycleStage, 'lifecycleStage');
        const names = /^arn:[^:]+:ecs:([^:]+):(\d{12}):service-deployment\/([^/]+)\/([^/]+)\//.exec(
          serviceDeploymentArn,
        );
        if (!names) throw new LocalSetupError(`${serviceDeploymentArn} is not an ECS service deployment ARN`);
        const [, , account, cluster, serviceName] = names as unknown as [string, string, string, string, string];
        const target =
          typeof details.targetServiceRevisionArn === 'string' ? details.targetServiceRevisionArn : undefined;
        const weights = { ...record(details.testTrafficWeights), ...record(details.productionTrafficWeights) };
        const source = Object.keys(weights).find((arn) => arn !== target);
        const rules = world.motoUrl
          ? await createBlueGreenRules(world.motoUrl, balancer.lb, region)
          : standInRules(balancer.lb);
        const at = ecsStages.indexOf(stage as (typeof ecsStages)[number]);
        if (at >= ecsStages.indexOf('TEST_TRAFFIC_SHIFT')) service.route('test', 'green');
        if (at >= ecsStages.indexOf('PRODUCTION_TRAFFIC_SHIFT')) service.route('prod', 'green');
        const deployment = ecs.addNativeDeployment({
          region,
          account,
          cluster,
          service: serviceName,
          lifecycleStage: stage,
          targetTestTrafficWeight: at >= ecsStages.indexOf('TEST_TRAFFIC_SHIFT') ? 100 : 0,
          targetProductionTrafficWeight: at >= ecsStages.indexOf('PRODUCTION_TRAFFIC_SHIFT') ? 100 : 0,
          loadBalancer: {
            targetGroupArn: balancer.lb.blueTargetGroupArn,
            alternateTargetGroupArn: balancer.lb.greenTargetGroupArn,
            productionListenerRule: rules.productionListenerRule,
            testListenerRule: rules.testListenerRule,
          },
          arns: {
            serviceDeploymentArn,
            ...(target ? { targetServiceRevisionArn: target } : {}),
            ...(source ? { sourceServiceRevisionArn: source } : {}),
          },
        });
        notes.push(
          `ECS native blue/green deployment ${deployment.serviceDeploymentArn} of ${cluster}/${serviceName} at ${stage}`,
        );
        if (kind === 'ecs-pause-gate') {
          const hookId = text(detail.hookId, 'detail.hookId');
          // ECS's own expiry, not the sample's (long past): the hook awaits action for ten minutes from now.
          ecs.addPauseHook(deployment.serviceDeploymentArn, {
            hookId,
            lifecycleStage: stage,
            expiresInMs: 10 * 60_000,
          });
          notes.push(`PAUSE hook ${hookId} awaiting action, expires in 10 min (ECS's expiry; the event's is not read)`);
          async = await asyncFake(world);
        }
        planKind = 'ecs';
        break;
      }
      case 'codedeploy-wait-gate': {
        const codedeploy = await codeDeployFake(world);
        fakes.push(codedeploy);
        async = await asyncFake(world);
        environment.GREENLIGHT_WAIT_POLL_INTERVAL = '250ms';
        const detail = record(event.detail);
        const deploymentId = text(detail.deploymentId, 'detail.deploymentId');
        const state = typeof detail.state === 'string' ? detail.state : '';
        const common = {
          deploymentId,
          testListenerArn: balancer.lb.testListenerArn,
          prodListenerArn: balancer.lb.prodListenerArn,
          ...(typeof detail.application === 'string' ? { applicationName: detail.application } : {}),
          ...(typeof detail.deploymentGroup === 'string' ? { deploymentGroupName: detail.deploymentGroup } : {}),
          readyWaitMinutes: 60,
          terminationWaitMinutes: 60,
        };
        service.route('test', 'green');
        if (state === 'START') {
          codedeploy.addDeployment(ecsDeployment({ ...common, hook: 'AfterAllowTestTraffic' }));
          // CodeDeploy moves the deployment on while the gate watches: a second later traffic has moved
          // and the original task set waits out the termination wait.
          const timer = setTimeout(() => {
            service.route('prod', 'green');
            codedeploy.beginTerminationWait(deploymentId);
          }, 1_000);
          closers.push(async () => clearTimeout(timer));
          notes.push(
            `CodeDeploy ECS deployment ${deploymentId} started; its termination wait (60 min) begins 1 s from now`,
          );
        } else {
          codedeploy.addDeployment(ecsDeployment({ ...common, hook: 'BeforeAllowTraffic', status: 'Ready' }));
          notes.push(`CodeDeploy ECS deployment ${deploymentId} in its ready wait (status Ready, 60 min)`);
        }
        planKind = 'waits';
        break;
      }
      case 'proton-pipeline-guard': {
        const proton = await startProtonFake();
        closers.push(() => proton.close());
        fakes.push(proton);
        environment.AWS_ENDPOINT_URL_PROTON = proton.url;
        const detail = record(event.detail);
        const name = text(detail.serviceName, 'detail.serviceName');
        proton.addService(name, { deploymentStatus: 'IN_PROGRESS', deploymentId: 'local-deployment-1' });
        notes.push(`Proton ${proton.url}: service ${name}, pipeline deployment IN_PROGRESS`);
        planKind = 'proton';
        break;
      }
    }

    const plan = options.planFile
      ? await readFile(options.planFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new LocalSetupError(`cannot read --plan ${options.planFile}: ${error.code ?? error.message}`);
        })
      : JSON.stringify(builtInPlan(planKind, service.green.port));
    environment.GREENLIGHT_PLAN = plan;
    notes.push(`plan: ${options.planFile ?? `built-in ${planKind} plan (--plan FILE for your own)`}`);

    const pending = async;
    return {
      kind,
      environment,
      region,
      notes,
      async next(response) {
        if (kind === 'ecs-lifecycle-hook') {
          const answer = record(response);
          if (answer.hookStatus !== 'IN_PROGRESS') return undefined;
          const delay = typeof answer.callBackDelay === 'number' ? answer.callBackDelay * 1000 : 30_000;
          await new Promise((r) => setTimeout(r, Math.min(delay, maxCallBackMs)));
          // ECS calls again with the hookDetails of the IN_PROGRESS answer.
          return { ...event, ...(answer.hookDetails ? { hookDetails: answer.hookDetails } : {}) };
        }
        const queued = pending?.take() ?? [];
        const own = queued.find((q) => q.invocationType === 'Event');
        if (!own) return undefined;
        const start = record(own.payload);
        if (start.v === 1 && typeof start.trigger === 'string' && start.event !== undefined) {
          // A durable start (ids only): the execution would look at the hook again after a durable wait. Here
          // the entry function takes that look, with the start event (which its own read accepts), once the
          // local deployment's wait can have begun (a second after it started).
          await new Promise((r) => setTimeout(r, 1_200));
          return start.event;
        }
        await new Promise((r) => setTimeout(r, 50));
        return own.payload;
      },
      verdict: (response) => verdictOf(kind, response),
      delivered: () => deliveredBy(fakes),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

interface World {
  readonly service: DemoService;
  readonly lb: LocalLoadBalancer;
  readonly motoUrl: string | undefined;
  readonly region: string;
  readonly notes: string[];
  readonly environment: Record<string, string>;
  readonly closers: (() => Promise<void>)[];
}

async function codeDeployFake(world: World): Promise<CodeDeployFake> {
  const codedeploy = await startCodeDeployFake();
  world.closers.push(() => codedeploy.close());
  world.environment.AWS_ENDPOINT_URL_CODEDEPLOY = codedeploy.url;
  world.notes.push(`CodeDeploy ${codedeploy.url} (the project's fake: moto_server has no lifecycle-hook APIs)`);
  return codedeploy;
}

async function ecsFake(world: World): Promise<EcsFake> {
  const ecs = await startEcsFake(world.motoUrl ? { fallback: world.motoUrl } : {});
  world.closers.push(() => ecs.close());
  world.environment.AWS_ENDPOINT_URL_ECS = ecs.url;
  world.notes.push(`ECS ${ecs.url} (the project's fake: moto_server has no native deployments or PAUSE hooks)`);
  return ecs;
}

async function lambdaFake(world: World, fails: boolean): Promise<LambdaFake> {
  const lambda = await startLambdaFake();
  world.closers.push(() => lambda.close());
  world.environment.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
  lambda.define('my-function', () =>
    fails
      ? {
          functionError: 'Unhandled',
          payload: '{"errorType":"Error","errorMessage":"green cannot reach its database"}',
        }
      : { payload: smokeAnswer },
  );
  return lambda;
}

/** Lambda Invoke for durable starts (DurableExecutionName): queued, then run by `next`. */
async function asyncFake(world: World): Promise<LambdaAsyncFake> {
  const lambda = await startLambdaAsyncFake();
  world.closers.push(() => lambda.close());
  world.environment.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
  world.notes.push(`Lambda ${lambda.url} (durable starts, queued; each execution's next look is taken here in turn)`);
  return lambda;
}

async function loadBalancer(
  service: DemoService,
  region: string,
  useMoto: boolean,
): Promise<{ lb: LocalLoadBalancer; url: string; motoUrl: string | undefined; how: string; close(): Promise<void> }> {
  const name = `greenlight-local-${process.pid}`;
  const ports = { name, prodPort: service.prodListenerPort, testPort: service.testListenerPort, region };
  let why = useMoto ? 'moto_server is not on PATH' : '';
  if (useMoto && motoAvailable()) {
    const moto = await startMoto().catch((error: unknown) => {
      why = `moto_server did not start (${(error as Error).message.split('\n')[0]})`;
      return undefined;
    });
    if (moto) {
      try {
        const lb = await createLoadBalancer(moto.url, ports);
        return { lb, url: moto.url, motoUrl: moto.url, how: `moto_server ${moto.url}`, close: () => moto.stop() };
      } catch (error) {
        await moto.stop();
        why = `moto_server could not create the load balancer (${(error as Error).message})`;
      }
    }
  }
  const standIn = await startElbv2StandIn(ports);
  return {
    lb: standIn.loadBalancer,
    url: standIn.url,
    motoUrl: undefined,
    how: `built-in ELBv2 stand-in ${standIn.url}${why ? `: ${why}` : ''}`,
    close: () => standIn.close(),
  };
}

interface CodeDeployHook {
  readonly platform: 'ECS' | 'Lambda';
  readonly hook: string;
  readonly from: string;
}

/**
 * Which hook a CodeDeploy event is for. CodeDeploy's payload names only the deployment and the execution;
 * the hook is CodeDeploy's to know. Here it comes from `--hook` (`lambda:` for the Lambda platform) or from
 * the sample's file name (`lambda-before-allow-traffic.json`, `ecs-after-install.json`).
 */
function codeDeployHookOf(options: LocalOptions): CodeDeployHook {
  const lambdaHooks = ['BeforeAllowTraffic', 'AfterAllowTraffic'];
  const kebab = (h: string) => h.replace(/[A-Z]/g, (c, i: number) => `${i ? '-' : ''}${c.toLowerCase()}`);
  if (options.hook !== undefined) {
    const [platform, name] = options.hook.includes(':') ? options.hook.split(':', 2) : ['ecs', options.hook];
    const lambda = platform?.toLowerCase() === 'lambda';
    const found = (lambda ? lambdaHooks : [...codeDeployHooks]).find(
      (h) => h === name || kebab(h) === name?.toLowerCase(),
    );
    if (!found) {
      throw new LocalSetupError(
        `--hook ${options.hook}: expected one of ${codeDeployHooks.join(', ')}, or lambda:BeforeAllowTraffic, lambda:AfterAllowTraffic`,
      );
    }
    return { platform: lambda ? 'Lambda' : 'ECS', hook: found, from: '--hook' };
  }
  const file = basename(options.eventPath)
    .replace(/\.json$/i, '')
    .toLowerCase();
  const lambda = file.startsWith('lambda-');
  const found = (lambda ? lambdaHooks : [...codeDeployHooks])
    .sort((a, b) => b.length - a.length)
    .find((h) => file.endsWith(kebab(h)));
  if (!found) {
    throw new LocalSetupError(
      `cannot tell the CodeDeploy hook from ${basename(options.eventPath)} (a CodeDeploy event does not name it): add --hook, e.g. --hook AfterAllowTestTraffic or --hook lambda:BeforeAllowTraffic`,
    );
  }
  return { platform: lambda ? 'Lambda' : 'ECS', hook: found, from: `the file name ${basename(options.eventPath)}` };
}

type PlanKind = 'codedeploy-ecs' | 'codedeploy-lambda' | 'ecs' | 'waits' | 'proton';

/**
 * The built-in plan for each kind of deployment: http checks through the listeners where the deployment has
 * them (none where the test listener still reaches blue), a smoke invocation of the new Lambda version, a
 * probe of green itself for the Proton guard. Short schedules: a local run takes seconds.
 */
export function builtInPlan(kind: PlanKind, greenPort: number): Record<string, unknown> {
  const health = (url: string, json: Record<string, string>) => ({
    type: 'http',
    url,
    expect: { status: [200], json },
    count: 3,
  });
  const checks = {
    'green-health': health('{{testListenerUrl}}/health', { status: 'ok', version: 'green' }),
    'prod-health': health('{{prodListenerUrl}}/health', { status: 'ok', version: 'green' }),
  };
  const base = {
    version: 1,
    description: `greenlight --local: ${kind}`,
    defaults: { interval: '200ms', timeout: '2s' },
  };
  switch (kind) {
    case 'codedeploy-ecs':
      return {
        ...base,
        hooks: {
          BeforeInstall: [],
          AfterInstall: [],
          AfterAllowTestTraffic: ['green-health'],
          BeforeAllowTraffic: ['green-health'],
          AfterAllowTraffic: ['prod-health'],
        },
        checks,
      };
    case 'codedeploy-lambda':
      return {
        ...base,
        hooks: { PreTraffic: ['smoke'], PostTraffic: ['smoke'] },
        checks: { smoke: { type: 'lambda-invoke', payload: { ping: true }, expect: { json: { ok: true } } } },
      };
    case 'ecs':
      return {
        ...base,
        hooks: {
          RECONCILE_SERVICE: [],
          PRE_SCALE_UP: [],
          POST_SCALE_UP: [],
          TEST_TRAFFIC_SHIFT: ['green-health'],
          POST_TEST_TRAFFIC_SHIFT: ['green-health'],
          PRE_PRODUCTION_TRAFFIC_SHIFT: ['green-health'],
          PRODUCTION_TRAFFIC_SHIFT: ['green-health'],
          POST_PRODUCTION_TRAFFIC_SHIFT: ['prod-health'],
        },
        checks,
      };
    case 'waits':
      return { ...base, hooks: { ReadyWait: ['green-health'], TerminationWait: ['prod-health'] }, checks };
    case 'proton':
      return {
        ...base,
        hooks: { ProtonPipeline: ['green'] },
        checks: { green: health(`http://${greenHost}:${greenPort}/health`, { status: 'ok' }) },
      };
  }
}

/** The verdict in the caller's words, from what the function returned. */
function verdictOf(kind: FunctionKind, response: unknown): string {
  const r = record(response);
  const reasons = (list: unknown) => (Array.isArray(list) && list.length > 0 ? `: ${list.map(String).join('; ')}` : '');
  switch (kind) {
    case 'codedeploy-hook':
      return `${String(r.status ?? 'no status')}${reasons(r.reasons)}`;
    case 'ecs-lifecycle-hook': {
      const result = record(record(r.hookDetails).greenlightResult);
      return `${String(r.hookStatus ?? 'no hookStatus')}${reasons(result.reasons)}`;
    }
    case 'ecs-pause-gate':
      return r.outcome === 'decided'
        ? `${String(r.action)}${reasons(r.reasons)}`
        : `no decision (${String(r.outcome)})${reasons(r.reasons)}`;
    case 'codedeploy-wait-gate':
    case 'proton-pipeline-guard':
      return r.verdict === undefined
        ? `no decision (${String(r.result)})${reasons(r.reasons)}`
        : `${r.verdict === 'pass' ? 'Succeeded' : 'Failed'} (${String(r.result)})${reasons(r.reasons)}`;
  }
}

/** The calls that decide a deployment, as the fakes received them. */
const deciding = [
  'PutLifecycleEventHookExecutionStatus',
  'ContinueDeployment',
  'StopDeployment',
  'ContinueServiceDeployment',
  'CancelServicePipelineDeployment',
];

function deliveredBy(fakes: readonly JsonFake[]): string[] {
  return fakes
    .flatMap((f) => f.calls)
    .filter((c) => deciding.includes(c.operation))
    .sort((a, b) => a.at - b.at)
    .map((c) => `${c.operation} ${JSON.stringify(c.input)}`);
}

function kindOf(entryPoint: string): FunctionKind {
  const name = /functions\/([^/]+)\/index\.ts$/.exec(entryPoint)?.[1];
  const kind = functionKinds.find((k) => k === name);
  if (!kind) throw new LocalSetupError(`--local knows no deployment for ${entryPoint}`);
  return kind;
}

/** The region the event's ARNs (or its `region`) name: the function runs there, as it would in AWS. */
function eventRegion(kind: FunctionKind, event: Record<string, unknown>): string | undefined {
  if (typeof event.region === 'string' && /^[a-z]{2}(-[a-z]+)+-\d$/.test(event.region)) return event.region;
  if (kind === 'ecs-lifecycle-hook' && typeof event.resourceArn === 'string') {
    return /^arn:[^:]+:ecs:([^:]+):/.exec(event.resourceArn)?.[1];
  }
  return undefined;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new LocalSetupError(`the event has no ${field}`);
  return value;
}
