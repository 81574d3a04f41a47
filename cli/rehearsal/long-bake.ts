import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { parsePlanText } from '../../lib/plan/schema.ts';
import { readBuildTargets } from '../../local/build-targets.ts';
import { type DurableProgress, localDurable, startDurableInvokeStandIn } from '../../local/durable-local.ts';
import { standInRules } from '../../local/ecs-native-setup.ts';
import { ecsDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { startEcsFake } from '../../local/fakes/ecs.ts';
import { startElbv2StandIn } from '../../local/fakes/elbv2.ts';
import { localFunction, readTemplate } from '../../local/template.ts';
import { checkTable, formatSeconds, type Output, styled } from '../render.ts';
import { startDemoService } from './demo-service.ts';
import { loadHandler, projectRoot } from './functions.ts';
import { captureLogs } from './log-capture.ts';
import { progress } from './progress.ts';
import { codeDeployId, deploymentEvent, flowHeader, stepHeader } from './steps.ts';

/**
 * `npm start -- --scenario long-bake`: bakes longer than a Lambda invocation, as users write them, through
 * the real entry functions and the real durable analysis function on the durable SDK's LocalDurableTestRunner
 * with skipped time (local/durable-local.ts): a 30-minute watch of green after AllowTraffic (the CodeDeploy
 * hook function) and a 2-hour bake on an ECS PAUSE hook (the PAUSE gate). Each entry function finds the
 * schedule longer than its invocation and starts one durable execution through Lambda's Invoke API (a
 * loopback stand-in); the execution measures in checkpointed steps, waits durably between them (each wait
 * shown as it happens) and decides itself (CodeDeploy's hook status, ECS's ContinueServiceDeployment).
 * Two and a half hours take seconds.
 */

/** Measurements of the bake, one a minute. */
export const bakeCount = 30;
/** The PAUSE gate's bake: a measurement every 5 minutes for 2 hours. */
export const pauseCount = 25;
const pauseMinutes = 120;

/** The bake's plan: only AfterAllowTraffic probes; the earlier hooks are not part of this scenario. */
export const longBakePlan = {
  version: 1,
  description: 'greenlight local rehearsal: a 30-minute watch after AllowTraffic (long-bake)',
  hooks: { AfterAllowTraffic: ['prod-bake'], POST_PRODUCTION_TRAFFIC_SHIFT: ['pause-bake'] },
  checks: {
    'pause-bake': {
      description: 'production traffic reaches a healthy green, every 5 minutes for 2 hours, while ECS pauses',
      type: 'http',
      url: '{{prodListenerUrl}}/health',
      expect: { status: [200], json: { status: 'ok', version: 'green' } },
      count: pauseCount,
      interval: '5m',
      timeout: '2s',
    },
    'prod-bake': {
      description: 'production traffic reaches a healthy green, once a minute for 30 minutes',
      type: 'http',
      url: '{{prodListenerUrl}}/health',
      expect: { status: [200], json: { status: 'ok', version: 'green' } },
      count: bakeCount,
      interval: '1m',
      timeout: '2s',
    },
  },
};

export interface LongBakeOptions {
  readonly verbose: boolean;
}

/** Runs the long-bake rehearsal. Returns the exit code: 0 when the bake behaved as expected. */
export async function rehearseLongBake(out: Output, options: LongBakeOptions): Promise<number> {
  const started = Date.now();
  const closers: (() => Promise<void>)[] = [];
  let capture: ReturnType<typeof captureLogs> | undefined;
  try {
    const planText = JSON.stringify(longBakePlan);
    const plan = await parsePlanText(planText, 'long-bake');
    const service = await startDemoService('healthy');
    closers.push(() => service.close());
    const elb = await startElbv2StandIn({
      name: `greenlight-long-bake-${process.pid}`,
      prodPort: service.prodListenerPort,
      testPort: service.testListenerPort,
    });
    closers.push(() => elb.close());
    const codedeploy = await startCodeDeployFake();
    closers.push(() => codedeploy.close());
    const ecs = await startEcsFake();
    closers.push(() => ecs.close());

    const template = await readTemplate(resolve(projectRoot, 'template.yaml'));
    const durableFn = localFunction(template, 'DurableAnalysisFunction', {
      region: 'us-east-1',
      stackName: 'greenlight-rehearsal',
      builds: await readBuildTargets(projectRoot),
    });
    const aliasArn = `arn:aws:lambda:us-east-1:123456789012:function:${durableFn.functionName}:live`;
    const schedule = `${bakeCount} min`;
    const waits: { seconds: number; atMs: number }[] = [];
    /** The flow being rehearsed: how long its bake is, in minutes. */
    let bakeMinutes = bakeCount;
    const onProgress = (e: DurableProgress): void => {
      if (e.kind === 'wait') {
        waits.push(e);
        const minute = Math.floor(e.atMs / 60_000) + 1;
        out.line(
          `    ${out.style('cyan', '⏸')} waiting ${e.seconds} s ${out.style('dim', '(durable wait, no compute)')} — minute ${minute} of ${bakeMinutes}`,
        );
      } else if (e.kind === 'start') {
        out.line(`    ${out.style('cyan', '▶')} durable execution ${e.execution} starts`);
      } else if (e.kind === 'end') {
        out.line(
          `    ${out.style('cyan', '■')} durable execution ${e.status.toLowerCase()} after ${formatSeconds(e.atMs)} of skipped time`,
        );
      }
    };

    const environment: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'rehearsal',
      AWS_SECRET_ACCESS_KEY: 'rehearsal',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: elb.url,
      AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
      AWS_ENDPOINT_URL_ECS: ecs.url,
      AWS_SAM_LOCAL: 'true',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      GREENLIGHT_RESOLVE: `${elb.loadBalancer.dnsName}=127.0.0.1`,
      GREENLIGHT_PLAN: planText,
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      POWERTOOLS_SERVICE_NAME: 'greenlight',
      POWERTOOLS_METRICS_DISABLED: 'true',
      GREENLIGHT_PUBLISH_VERDICTS: 'false',
    };
    const durable = localDurable({
      environment: {
        ...durableFn.environment,
        ...environment,
        AWS_LAMBDA_FUNCTION_NAME: durableFn.functionName,
      },
      onProgress,
    });
    const lambda = await startDurableInvokeStandIn(durable);
    closers.push(() => lambda.close());
    const entryEnvironment = {
      ...environment,
      AWS_ENDPOINT_URL_LAMBDA: lambda.url,
      GREENLIGHT_DURABLE_FUNCTION: aliasArn,
    };
    for (const key of Object.keys(process.env)) {
      if (/^(AWS_|GREENLIGHT_|POWERTOOLS_)/.test(key)) delete process.env[key];
    }

    out.line(`${out.style('bold', 'greenlight rehearsal: long-bake')}  ${out.style('dim', '(local, no AWS account)')}`);
    out.line(`  ${longBakeShows}`);
    out.line();
    out.line('Local setup (loopback only):');
    out.line(`  green (v2)         ${service.green.url}  ${out.style('dim', 'behaves: healthy')}`);
    out.line(
      `  load balancer      ${elb.loadBalancer.dnsName} → 127.0.0.1, production listener :${service.prodListenerPort}`,
    );
    out.line(`  CodeDeploy         ${codedeploy.url}  (the project's fake)`);
    out.line(`  ECS                ${ecs.url}  (the project's fake: service deployments, PAUSE hooks)`);
    out.line(`  Lambda Invoke      ${lambda.url}  (durable starts only; runs DurableAnalysisFunction in this process)`);
    out.line(`  durable executions LocalDurableTestRunner (@aws/durable-execution-sdk-js-testing), time skipped`);

    const handler = await loadHandler('CodeDeployHookFunction', entryEnvironment);
    const deploymentId = codeDeployId();
    const executionId = randomUUID();
    service.route('test', 'green');
    service.route('prod', 'green');
    flowHeader(out, 'CodeDeploy ECS blue/green', `deployment ${deploymentId} · a ${schedule} bake after AllowTraffic`);
    deploymentEvent(out, 'AllowTraffic', `production listener :${service.prodListenerPort} now routes to green`);
    codedeploy.addDeployment(
      ecsDeployment({
        deploymentId,
        hook: 'AfterAllowTraffic',
        cluster: 'rehearsal',
        service: 'demo',
        testListenerArn: elb.loadBalancer.testListenerArn,
        prodListenerArn: elb.loadBalancer.prodListenerArn,
      }),
    );
    stepHeader(out, 'AfterAllowTraffic', true);
    const steps = progress(
      out,
      new Map([
        ['prod-bake', bakeCount],
        ['pause-bake', pauseCount],
      ]),
      {
        verbose: options.verbose,
        echo: (text) => out.problem(text),
      },
    );
    capture = captureLogs((record) => steps.record(record));
    steps.begin();
    const entryStarted = Date.now();
    const entry = await handler.invoke({ DeploymentId: deploymentId, LifecycleEventHookExecutionId: executionId });
    const entryMs = Date.now() - entryStarted;
    const handedOn = codedeploy.hookStatuses.get(executionId) === undefined && entry.ok;
    out.line(
      `    ${handler.logicalId} returned in ${formatSeconds(entryMs)}: ${
        handedOn
          ? `the ${schedule} schedule is longer than its invocation, so it started a durable execution on ${durableFn.logicalId}:live`
          : `it did not hand the bake on (${entry.ok ? `CodeDeploy received ${codedeploy.hookStatuses.get(executionId)}` : entry.error.message})`
      }`,
    );
    const realStarted = Date.now();
    const ran = await durable.settle();
    const realMs = Date.now() - realStarted;
    const log = steps.end();
    capture.restore();
    capture = undefined;

    const reported = codedeploy.hookStatuses.get(executionId);
    const execution = ran[0];
    out.line(
      `    ${styled(out, reported === 'Succeeded' ? 'Succeeded' : 'Failed')} after ${formatSeconds(execution?.virtualMs ?? 0)} of bake in ${formatSeconds(realMs)}: CodeDeploy received ${reported === undefined ? 'nothing' : styled(out, reported)}`,
    );
    for (const line of checkTable(out, log.checks, '      ')) out.line(line);
    const codeDeployWaits = waits.length;

    // The ECS PAUSE hook: a 2-hour bake before ECS goes on, through the real PAUSE gate and durable function.
    bakeMinutes = pauseMinutes;
    const rules = standInRules(elb.loadBalancer);
    const nativeDeployment = ecs.addNativeDeployment({
      cluster: 'rehearsal',
      service: 'demo',
      loadBalancer: {
        targetGroupArn: elb.loadBalancer.blueTargetGroupArn,
        alternateTargetGroupArn: elb.loadBalancer.greenTargetGroupArn,
        productionListenerRule: rules.productionListenerRule,
        testListenerRule: rules.testListenerRule,
      },
    });
    const pause = ecs.addPauseHook(nativeDeployment.serviceDeploymentArn, {
      lifecycleStage: 'POST_PRODUCTION_TRAFFIC_SHIFT',
      expiresInMs: 4 * 3_600_000,
    });
    flowHeader(
      out,
      'Amazon ECS native blue/green',
      `deployment …/${nativeDeployment.serviceDeploymentArn.split('/').at(-1)} · a 2-hour bake on a PAUSE hook`,
    );
    deploymentEvent(
      out,
      'HOOK_AWAITING_ACTION',
      'ECS pauses after production traffic shifts (the hook expires in 4 h)',
    );
    stepHeader(out, 'POST_PRODUCTION_TRAFFIC_SHIFT (PAUSE)', true);
    const gate = await loadHandler('EcsPauseGateFunction', entryEnvironment);
    capture = captureLogs((record) => steps.record(record));
    steps.begin();
    const gateAnswer = await gate.invoke(pause.event);
    out.line(
      `    ${gate.logicalId} returned: ${gateAnswer.ok ? JSON.stringify((gateAnswer.result as { outcome?: unknown })?.outcome ?? gateAnswer.result) : gateAnswer.error.message}`,
    );
    const pauseRan = await durable.settle();
    const pauseLog = steps.end();
    capture.restore();
    capture = undefined;
    const decisions = ecs
      .callsOf('ContinueServiceDeployment')
      .filter((c) => c.input.hookId === pause.hookId)
      .map((c) => String(c.input.action));
    const pauseExecution = pauseRan[0];
    out.line(
      `    ${styled(out, decisions.join() === 'CONTINUE' ? 'Succeeded' : 'Failed')} after ${formatSeconds(pauseExecution?.virtualMs ?? 0)} of bake: ECS received ${decisions.length === 0 ? 'nothing' : decisions.join(', ')}`,
    );
    for (const line of checkTable(out, pauseLog.checks, '      ')) out.line(line);

    const problems: string[] = [];
    if (!handedOn) problems.push('the hook function did not start a durable execution');
    if (ran.length !== 1) problems.push(`${ran.length} durable executions ran, expected 1`);
    if (execution && execution.status !== 'SUCCEEDED') {
      problems.push(`the durable execution ${execution.status}: ${execution.error ?? ''}`);
    }
    if (reported !== 'Succeeded') problems.push(`CodeDeploy received ${reported ?? 'nothing'}, expected Succeeded`);
    const measured = log.measurements.filter((m) => m.check === 'prod-bake').length;
    if (measured !== bakeCount) problems.push(`${measured} measurements, expected ${bakeCount}`);
    if (codeDeployWaits !== bakeCount - 1) {
      problems.push(`${codeDeployWaits} durable waits in the CodeDeploy bake, expected ${bakeCount - 1}`);
    }
    if (pauseRan.length !== 1 || pauseExecution?.status !== 'SUCCEEDED') {
      problems.push(
        `the PAUSE bake's durable execution: ${pauseExecution?.status ?? 'none'} ${pauseExecution?.error ?? ''}`,
      );
    }
    if (decisions.join() !== 'CONTINUE')
      problems.push(`ECS received ${decisions.join(', ') || 'nothing'}, expected CONTINUE`);
    const pauseMeasured = pauseLog.measurements.filter((m) => m.check === 'pause-bake').length;
    if (pauseMeasured !== pauseCount) problems.push(`${pauseMeasured} PAUSE measurements, expected ${pauseCount}`);
    const asExpected = problems.length === 0;
    out.line();
    if (asExpected) {
      out.line(
        `${out.style(['bold', 'green'], 'As expected')} for long-bake: ${longBakeExpected}. ${out.style('dim', `(${formatSeconds(Date.now() - started)})`)}`,
      );
    } else {
      out.line(`${out.style(['bold', 'red'], 'Not as expected')} for long-bake (expected: ${longBakeExpected}):`);
      for (const p of problems) out.line(`  - ${p}`);
    }
    out.document({
      command: 'rehearse',
      scenario: 'long-bake',
      asExpected,
      problems,
      exitCode: asExpected ? 0 : 1,
      reported,
      measurements: measured,
      pauseMeasurements: pauseMeasured,
      pauseDecisions: decisions,
      waits,
      execution,
      plan: Object.keys(plan.checks),
    });
    return asExpected ? 0 : 1;
  } catch (error) {
    capture?.restore();
    capture = undefined;
    out.problem(`rehearse: could not run the long-bake rehearsal: ${(error as Error).message}`);
    out.document({ command: 'rehearse', scenario: 'long-bake', asExpected: false, error: (error as Error).message });
    return 2;
  } finally {
    capture?.restore();
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

export const longBakeShows =
  'A 30-minute watch of green after AllowTraffic (30 measurements, one a minute) and a 2-hour bake on an ECS PAUSE hook (every 5 minutes), each longer than a Lambda invocation: the CodeDeploy hook function and the PAUSE gate each start one durable execution, which measures in checkpointed steps, waits durably between them (no compute) and decides itself. Time is skipped: it takes seconds.';
export const longBakeExpected =
  'each bake runs in one durable execution (30 measurements and 29 durable waits for CodeDeploy, which receives Succeeded; 25 measurements over 2 hours for the PAUSE hook, which ECS continues)';
