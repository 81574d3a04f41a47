import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type Plan, parsePlanText } from '../../lib/plan/schema.ts';
import { parseYaml } from '../../lib/plan/yaml.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import { startEcsFake } from '../../local/fakes/ecs.ts';
import { startElbv2StandIn } from '../../local/fakes/elbv2.ts';
import { motoAvailable, startMoto } from '../../local/moto.ts';
import { type LocalStateKey, startStateKeyStandIn } from '../../local/state-key.ts';
import { createOutput, formatSeconds, type Output, status, table } from '../render.ts';
import { startDemoService } from './demo-service.ts';
import { codeDeployEcsDriver } from './drivers/codedeploy-ecs.ts';
import type { Driver, PreparedDriver } from './drivers/driver.ts';
import { ecsNativeDriver } from './drivers/ecs-native.ts';
import { captureLogs } from './log-capture.ts';
import { progress } from './progress.ts';
import { findScenario, type Scenario, scenarios } from './scenarios.ts';
import { type Signals, startSignals, type TargetHealthSource } from './signals.ts';
import { type ScenarioRig, scenarioRig } from './three-services.ts';
import type { FlowResult } from './types.ts';

/** Every kind of deployment the rehearsal drives, in the order it runs them. */
export const drivers: readonly Driver[] = [codeDeployEcsDriver, ecsNativeDriver];

const planUrl = new URL('./plan.yaml', import.meta.url);

export const rehearseUsage = `usage: greenlight rehearse [--scenario NAME] [options]
       npm start -- [--scenario NAME] [options]

Rehearses a blue/green release on this machine, no AWS account needed: a blue and a green version
of a small web service on loopback ports, a load balancer in front of them (moto_server when it is
installed, else a small stand-in), the project's fakes for what moto_server lacks, and the real
greenlight functions driven hook by hook, in order. Shows each check's measurements as they happen,
then a verdict table per hook.

scenarios:
${scenarios.map((s) => `  ${s.name.padEnd(14)} ${s.shows}`).join('\n')}

options:
  --scenario NAME   one of: ${scenarios.map((s) => s.name).join(', ')} (default healthy)
  --flow NAME       only this deployment kind: ${drivers.map((d) => d.name).join(', ')} (default all)
  --no-moto         use the built-in load balancer stand-in even when moto_server is installed
  --plan FILE       rehearse with your own plan instead of the built-in one: does it catch a
                    slow or failing green? (probe {{testListenerUrl}} and {{prodListenerUrl}};
                    the demo service answers /health, /version and /). Every check kind runs:
                    target health, alarms, metrics, ECS task sets, revisions and tasks, the smoke
                    function, Prometheus and Datadog answer from local fakes, within each check's
                    limits (failing-green: past them); cli/rehearsal/plan-every-kind.yaml uses all
  --fast            shorter probe intervals (100ms instead of 600ms, built-in plan), as the tests use
  --verbose         also print every function log line (JSON) to stderr
  --json            one JSON document on stdout (progress goes to stderr)
  -h, --help

exit codes: 0 the rehearsal behaved as its scenario expects (a failing scenario must fail where it
should and roll back), 1 it did not, 2 usage error or the rehearsal could not be set up.`;

/** `greenlight rehearse` (`npm start`). Returns the exit code. */
export async function rehearseCommand(argv: readonly string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (error) {
    process.stderr.write(`rehearse: ${(error as Error).message}\n\n${rehearseUsage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${rehearseUsage}\n`);
    return 0;
  }
  const out = createOutput({ json: values.json === true });
  const scenario = findScenario(values.scenario ?? 'healthy');
  if (!scenario) {
    out.problem(
      `rehearse: unknown scenario ${JSON.stringify(values.scenario)} (scenarios: ${scenarios.map((s) => s.name).join(', ')})`,
    );
    return 2;
  }
  if (scenario.rehearse) return scenario.rehearse(out, { verbose: values.verbose === true });
  // A scenario may bring its own flows and plan library (three-services).
  const rig = scenarioRig(scenario);
  const flows = rig?.drivers ?? drivers;
  const chosen = values.flow ? flows.filter((d) => d.name === values.flow) : flows;
  if (chosen.length === 0) {
    out.problem(
      `rehearse: unknown flow ${JSON.stringify(values.flow)} (flows of ${scenario.name}: ${flows.map((d) => d.name).join(', ')})`,
    );
    return 2;
  }
  if (rig && values.plan !== undefined) {
    out.problem(`rehearse: --plan does not apply to ${scenario.name}: its plans are in its plan library`);
    return 2;
  }
  return rehearse(out, scenario, chosen, {
    ...(values.plan !== undefined ? { planFile: values.plan } : {}),
    ...(rig ? { rig } : {}),
    fast: values.fast === true,
    moto: values['no-moto'] !== true,
    verbose: values.verbose === true,
  });
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: false,
    options: {
      scenario: { type: 'string', short: 's' },
      flow: { type: 'string' },
      plan: { type: 'string' },
      'no-moto': { type: 'boolean' },
      fast: { type: 'boolean' },
      verbose: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

interface Options {
  readonly planFile?: string;
  /** The scenario's own flows and plan library, instead of the built-in plan. */
  readonly rig?: ScenarioRig;
  readonly fast: boolean;
  readonly moto: boolean;
  readonly verbose: boolean;
}

async function rehearse(out: Output, scenario: Scenario, chosen: readonly Driver[], options: Options): Promise<number> {
  const started = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const close of cleanups.reverse()) await close().catch(() => undefined);
    cleanups.length = 0;
  };
  let capture: ReturnType<typeof captureLogs> | undefined;
  const interrupted = (signal: NodeJS.Signals): void => {
    capture?.restore();
    out.problem(`rehearse: ${signal === 'SIGINT' ? 'interrupted' : 'stopped'}; stopping local servers`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    out.line(
      `${out.style('bold', `greenlight rehearsal: ${scenario.name}`)}  ${out.style('dim', '(local, no AWS account)')}`,
    );
    out.line(`  ${scenario.shows}`);
    out.line();

    const library = await options.rig?.library({ fast: options.fast });
    if (library) cleanups.push(() => library.close());
    const { plan, raw, source } = library ?? (await rehearsalPlan(options));
    const service = await startDemoService(scenario.green);
    cleanups.push(() => service.close());
    const balancer = await loadBalancer(out, service, options.moto);
    cleanups.push(balancer.close);
    // ECS for every flow: native deployments and PAUSE hooks, green task sets and tasks; the rest to moto_server.
    const ecs = await startEcsFake(balancer.moto ? { fallback: balancer.url } : {});
    cleanups.push(() => ecs.close());
    // What the plan's other check kinds read (target health, alarms, metrics, ...), as the scenario has them.
    const signals = await startSignals({
      plan,
      raw,
      health: scenario.signals,
      lb: balancer.lb,
      targets: balancer.targets,
    });
    cleanups.push(() => signals.close());
    // The key that authenticates carried state (the ECS lifecycle hook's hookDetails).
    const stateKey = await startStateKeyStandIn();
    cleanups.push(() => stateKey.fake.close());
    const prepared: PreparedDriver[] = [];
    for (const driver of chosen) {
      const p = await driver.prepare({
        loadBalancer: balancer.lb,
        motoUrl: balancer.moto ? balancer.url : undefined,
        ecs,
        signals: scenario.signals,
      });
      cleanups.push(() => p.close());
      prepared.push(p);
    }

    out.line('Local setup (loopback only):');
    out.line(`  blue  (v1)         ${service.blue.url}`);
    out.line(`  green (v2)         ${service.green.url}  ${out.style('dim', `behaves: ${scenario.green}`)}`);
    out.line(`  load balancer      ${balancer.lb.dnsName} → 127.0.0.1 (GREENLIGHT_RESOLVE)`);
    out.line(
      `                     production listener :${service.prodListenerPort}, test listener :${service.testListenerPort}`,
    );
    for (const note of balancer.notes) out.line(`  ${note}`);
    out.line(
      `  ECS                ${ecs.url}  (the project's fake: native deployments, green tasks; moto_server lacks them)`,
    );
    for (const note of prepared.flatMap((p) => p.notes)) out.line(`  ${note}`);
    for (const note of signals.notes) out.line(`  ${note}`);
    out.line(`  state key          ${stateKey.endpoint}  (Secrets Manager stand-in: GetSecretValue)`);
    out.line(`  plan               ${source}`);

    const environment = {
      ...functionEnvironment(signals.planText, balancer, prepared, stateKey, ecs.url, signals),
      ...library?.environment,
    };
    // With a plan library the functions find each deployment's plan there, with no fallback.
    if (library) delete environment.GREENLIGHT_PLAN;
    scrubEnvironment();
    const counts = new Map(Object.values(plan.checks).map((c) => [c.name, c.policy.count] as const));
    const echo = (text: string): void => out.problem(text);
    const steps = progress(out, counts, { verbose: options.verbose, echo });
    capture = captureLogs((record) => steps.record(record));

    const flows: FlowResult[] = [];
    for (const p of prepared) {
      flows.push(
        await p.run({
          out,
          service,
          loadBalancer: balancer.lb,
          plan,
          progress: steps,
          environment,
          fast: options.fast,
        }),
      );
    }
    capture.restore();
    capture = undefined;

    const problems = flows.flatMap((f) => scenario.check(f, plan).map((p) => `${f.title}: ${p}`));
    summary(out, flows);
    const asExpected = problems.length === 0;
    out.line();
    if (asExpected) {
      out.line(
        `${out.style(['bold', 'green'], 'As expected')} for ${scenario.name}: ${scenario.expected}. ${out.style('dim', `(${formatSeconds(Date.now() - started)})`)}`,
      );
    } else {
      out.line(
        `${out.style(['bold', 'red'], 'Not as expected')} for ${scenario.name} (expected: ${scenario.expected}):`,
      );
      for (const p of problems) out.line(`  - ${p}`);
    }
    const exitCode = asExpected ? 0 : 1;
    out.document({
      command: 'rehearse',
      scenario: scenario.name,
      shows: scenario.shows,
      expected: scenario.expected,
      asExpected,
      problems,
      exitCode,
      moto: balancer.moto,
      durationMs: Date.now() - started,
      flows,
    });
    return exitCode;
  } catch (error) {
    capture?.restore();
    capture = undefined;
    const message = error instanceof PlanError ? error.issues.join('\n  ') : (error as Error).message;
    out.problem(`rehearse: could not run the rehearsal: ${message}`);
    out.document({ command: 'rehearse', scenario: scenario.name, asExpected: false, error: message, exitCode: 2 });
    return 2;
  } finally {
    capture?.restore();
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
    await cleanup();
  }
}

/**
 * The built-in plan, whose default interval `--fast` shortens so a whole rehearsal takes seconds;
 * or the user's own, as it is (a `PlanError` names its fields).
 */
async function rehearsalPlan(options: Options): Promise<{ plan: Plan; raw: Record<string, unknown>; source: string }> {
  if (options.planFile !== undefined) {
    let text: string;
    try {
      text = await readFile(options.planFile, 'utf8');
    } catch (error) {
      throw new PlanError([
        `cannot read ${options.planFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      ]);
    }
    const plan = await parsePlanText(text, options.planFile);
    return {
      plan,
      raw: (await parseYaml(text, options.planFile)) as Record<string, unknown>,
      source: options.planFile,
    };
  }
  const raw = (await parseYaml(await readFile(planUrl, 'utf8'), 'cli/rehearsal/plan.yaml')) as Record<
    string,
    unknown
  > & {
    defaults?: Record<string, unknown>;
  };
  if (options.fast) raw.defaults = { ...raw.defaults, interval: '100ms' };
  const text = JSON.stringify(raw);
  return {
    plan: await parsePlanText(text, 'cli/rehearsal/plan.yaml'),
    raw,
    source: `cli/rehearsal/plan.yaml${options.fast ? ' (--fast: interval 100ms)' : ''}`,
  };
}

interface Balancer {
  readonly lb: LocalLoadBalancer;
  /** Where target health is read and set. */
  readonly targets: TargetHealthSource;
  readonly url: string;
  readonly moto: boolean;
  readonly notes: readonly string[];
  close(): Promise<void>;
}

/** The load balancer in moto_server when it is installed; otherwise the built-in stand-in, saying so. */
async function loadBalancer(
  out: Output,
  service: { prodListenerPort: number; testListenerPort: number },
  useMoto: boolean,
): Promise<Balancer> {
  const name = `greenlight-rehearsal-${process.pid}`;
  const ports = { name, prodPort: service.prodListenerPort, testPort: service.testListenerPort };
  let why = 'skipped (--no-moto)';
  if (useMoto) {
    if (motoAvailable()) {
      const moto = await startMoto().catch((error: unknown) => {
        why = `did not start (${(error as Error).message.split('\n')[0]})`;
        return undefined;
      });
      if (moto) {
        try {
          const lb = await createLoadBalancer(moto.url, ports);
          return {
            lb,
            targets: { moto: moto.url },
            url: moto.url,
            moto: true,
            notes: [`ELBv2              ${moto.url}  (moto_server)`],
            close: () => moto.stop(),
          };
        } catch (error) {
          await moto.stop();
          why = `could not create the load balancer (${(error as Error).message})`;
        }
      }
    } else {
      why = 'not found on PATH';
    }
  }
  const standIn = await startElbv2StandIn(ports);
  const note =
    why === 'not found on PATH'
      ? 'note: moto_server was not found on PATH, so ELBv2 is answered by the built-in stand-in (pip install "moto[server]" to use moto_server)'
      : `note: moto_server ${why}, so ELBv2 is answered by the built-in stand-in`;
  return {
    lb: standIn.loadBalancer,
    targets: { standIn },
    url: standIn.url,
    moto: false,
    notes: [
      `ELBv2              ${standIn.url}  (built-in stand-in: DescribeListeners, DescribeLoadBalancers)`,
      out.style('yellow', note),
    ],
    close: () => standIn.close(),
  };
}

/**
 * What the functions run with. Everything points at loopback: the named services at their local
 * endpoints, and any other AWS service at a closed port, so nothing can reach a real account.
 */
function functionEnvironment(
  planText: string,
  balancer: Balancer,
  prepared: readonly PreparedDriver[],
  stateKey: LocalStateKey,
  ecsUrl: string,
  signals: Signals,
) {
  return {
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'rehearsal',
    AWS_SECRET_ACCESS_KEY: 'rehearsal',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: balancer.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stateKey.endpoint,
    GREENLIGHT_STATE_KEY_SECRET_ARN: stateKey.secretArn,
    AWS_SAM_LOCAL: 'true',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_ENDPOINT_URL_ECS: ecsUrl,
    GREENLIGHT_RESOLVE: [`${balancer.lb.dnsName}=127.0.0.1`, ...signals.pinned].join(','),
    GREENLIGHT_PLAN: planText,
    // Measurements are logged at debug level: that is what the live progress shows.
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    POWERTOOLS_SERVICE_NAME: 'greenlight',
    // The rehearsal prints its own verdicts: no metric lines on stdout (they would mix with --json)
    // and no verdict events (there is no event bus to send them to).
    POWERTOOLS_METRICS_DISABLED: 'true',
    GREENLIGHT_PUBLISH_VERDICTS: 'false',
    ...Object.assign({}, ...prepared.map((p) => p.endpoints)),
    ...signals.endpoints,
  } as Record<string, string>;
}

/** The shell's AWS and greenlight settings (a profile, a plan file) must not leak into the rehearsal. */
function scrubEnvironment(): void {
  for (const key of Object.keys(process.env)) {
    if (/^(AWS_|GREENLIGHT_|POWERTOOLS_)/.test(key)) delete process.env[key];
  }
}

function summary(out: Output, flows: readonly FlowResult[]): void {
  out.line();
  out.line(out.style('bold', 'Verdicts'));
  const rows = flows.flatMap((f) =>
    [...f.steps, ...f.rollbackSteps].map((s, i) => [
      i === 0 ? f.title : '',
      s.name,
      status(s.status),
      s.status === 'Skipped' ? '' : formatSeconds(s.durationMs),
      s.checks
        .map((c) => {
          const taken = c.count !== undefined ? `${c.taken}/${c.count}` : String(c.taken);
          const failed = c.failures + c.errors > 0 ? ` (${c.failures + c.errors} failed)` : '';
          return `${c.name} ${c.status} ${taken}${failed}`;
        })
        .join(', '),
    ]),
  );
  for (const line of table(out, ['deployment', 'hook / stage', 'verdict', 'time', 'checks'], rows)) out.line(line);
  for (const f of flows) {
    out.line(
      `  ${f.title}: ${f.rolledBack ? 'rolled back' : 'completed'}; production serves ${f.productionServes}${f.plan !== undefined ? `; plan ${f.plan}` : ''}`,
    );
  }
}
