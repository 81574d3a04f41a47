import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { entryPoint, readBuildTargets } from '../../local/build-targets.ts';
import { readTemplate, type Template } from '../../local/template.ts';
import { libraryActions } from '../support/library-actions.ts';

/**
 * Least privilege, read from template.yaml: no wildcard action, `Resource: '*'` only where AWS offers
 * nothing narrower, every ARN of the action's own service in this account and region, and each function
 * granted exactly what its code calls.
 */

type Statement = {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** Actions AWS authorizes on no resource narrower than `*` (Service Authorization Reference), and why. */
const onlyOnEveryResource: Record<string, string> = {
  'elasticloadbalancing:DescribeListeners':
    'Elastic Load Balancing Describe* actions have no resource-level permissions',
  'elasticloadbalancing:DescribeLoadBalancers': 'idem',
  'elasticloadbalancing:DescribeRules': 'idem',
  'elasticloadbalancing:DescribeTargetGroups': 'idem',
  'elasticloadbalancing:DescribeTargetHealth': 'idem',
  'cloudwatch:GetMetricData': 'GetMetricData has no resource-level permissions',
  'ecs:ListTasks': 'authorized on a container instance, which the ecs-tasks check never names',
  'ecs:DescribeTaskDefinition': 'DescribeTaskDefinition has no resource-level permissions',
};

/** Statements whose ARN may name every resource of its type in the account and region, and why. */
const accountWideStatements: Record<string, string> = {
  EcsServiceAndTasks:
    'ecs-service and ecs-tasks read the task sets, service deployments, revisions and tasks of whatever cluster a deployment names (CodeDeploy hooks are not tied to EcsClusterNames)',
};

/** Services without resource-based policies: a wildcard account in their ARNs reaches no other account. */
const noResourcePolicies = new Set(['ecs']);

/** What the check kinds call (ChecksReadPolicy), for every function that runs checks. */
const checkActions = [
  'ecs:DescribeTaskSets',
  'ecs:ListServiceDeployments',
  'ecs:DescribeServiceDeployments',
  'ecs:DescribeServiceRevisions',
  'ecs:DescribeTasks',
  'ecs:ListTasks',
  'ecs:DescribeTaskDefinition', // ecs-tasks: the container health check interval
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeTargetHealth',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:GetMetricData',
  'lambda:InvokeFunction', // lambda-invoke smoke tests, only with SmokeTestFunctions
  'ssm:GetParameter', // the plan (PlanParameterName) and the plans' secrets (SecretParameters)
  'ssm:GetParameters', // the plan library (PlanPrefix), only with PlanPrefix
  'aps:QueryMetrics', // prometheus with SigV4, only with PrometheusWorkspaces
];
/** Every function publishes its verdicts (PublishVerdicts). */
const observeActions = ['events:PutEvents'];

/**
 * What the durable execution SDK sends for the function that runs on it (checkpoints, its execution's state):
 * https://docs.aws.amazon.com/lambda/latest/dg/durable-security.html.
 */
const durableSdkActions = ['lambda:CheckpointDurableExecution', 'lambda:GetDurableExecutionState'];
const durableSdk = '@aws/durable-execution-sdk-js';
/**
 * Adapters no function uses: the CLI's, which run with the operator's own credentials, so the template grants
 * their actions to no one (a test below holds that no function's code reaches them).
 */
const operatorOnlyAdapters: Record<string, string> = {
  'lib/aws/durable-read.ts': "`greenlight status` lists and reads durable executions with the operator's credentials",
};

/** The entry functions that start durable analyses (GREENLIGHT_DURABLE_FUNCTION), by logical id. */
const durableEntries = ['CodeDeployHookFunction', 'EcsPauseGateFunction', 'CodeDeployWaitGateFunction'];

/** The function that carries state between invocations (the ECS lifecycle hook's hookDetails) reads the state key, and only it. */
const stateKeyActions = ['secretsmanager:GetSecretValue'];

/** The actions each function's code calls: the one list to change when a function calls something new. */
const functionActions: Record<string, string[]> = {
  CodeDeployHookFunction: [
    'ecs:DescribeTaskDefinition',
    'codedeploy:GetDeployment',
    'codedeploy:ListDeploymentTargets',
    'codedeploy:GetDeploymentTarget',
    'codedeploy:PutLifecycleEventHookExecutionStatus',
    'elasticloadbalancing:DescribeListeners',
    'elasticloadbalancing:DescribeLoadBalancers',
    'lambda:InvokeFunction', // the durable function's alias, to start a long analysis
  ],
  EcsLifecycleHookFunction: [
    'ecs:DescribeTaskDefinition',
    'ecs:DescribeServiceDeployments',
    'ecs:DescribeServices',
    'ecs:DescribeServiceRevisions',
    'elasticloadbalancing:DescribeListeners',
    'elasticloadbalancing:DescribeLoadBalancers',
    'elasticloadbalancing:DescribeRules',
    ...stateKeyActions,
  ],
  EcsPauseGateFunction: [
    'ecs:DescribeTaskDefinition',
    'ecs:DescribeServiceDeployments',
    'ecs:ContinueServiceDeployment',
    'ecs:DescribeServices',
    'ecs:DescribeServiceRevisions',
    'elasticloadbalancing:DescribeListeners',
    'elasticloadbalancing:DescribeLoadBalancers',
    'elasticloadbalancing:DescribeRules',
    'lambda:InvokeFunction', // the durable function's alias, to start a long analysis
  ],
  CodeDeployWaitGateFunction: [
    'ecs:DescribeTaskDefinition',
    'codedeploy:GetDeployment',
    'codedeploy:ListDeploymentTargets',
    'codedeploy:GetDeploymentTarget',
    'codedeploy:ContinueDeployment',
    'codedeploy:StopDeployment',
    'elasticloadbalancing:DescribeListeners',
    'elasticloadbalancing:DescribeLoadBalancers',
    'lambda:InvokeFunction', // the durable function's alias, to start a long analysis
  ],
  // Runs the long analyses of the entry functions that start it: what they read and deliver, and its checkpoints.
  DurableAnalysisFunction: [
    ...durableSdkActions,
    'ecs:DescribeTaskDefinition',
    'codedeploy:GetDeployment',
    'codedeploy:ListDeploymentTargets',
    'codedeploy:GetDeploymentTarget',
    'codedeploy:PutLifecycleEventHookExecutionStatus',
    'codedeploy:ContinueDeployment',
    'codedeploy:StopDeployment',
    'ecs:DescribeServiceDeployments',
    'ecs:ContinueServiceDeployment',
    'ecs:DescribeServices',
    'ecs:DescribeServiceRevisions',
    'elasticloadbalancing:DescribeListeners',
    'elasticloadbalancing:DescribeLoadBalancers',
    'elasticloadbalancing:DescribeRules',
  ],
  ProtonPipelineGuardFunction: ['proton:GetService', 'proton:CancelServicePipelineDeployment'],
};

/** The IAM prefix of each SDK client package, and SDK commands whose IAM action is spelled differently. */
const iamPrefix: Record<string, string> = {
  codedeploy: 'codedeploy',
  ecs: 'ecs',
  'elastic-load-balancing-v2': 'elasticloadbalancing',
  cloudwatch: 'cloudwatch',
  lambda: 'lambda',
  ssm: 'ssm',
  proton: 'proton',
  eventbridge: 'events',
  'secrets-manager': 'secretsmanager',
};
const actionOf: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction' };
/** Powertools utilities that send SDK commands of their own, and the IAM actions those need. */
const powertoolsActions: Record<string, string[]> = {
  '@aws-lambda-powertools/parameters/secrets': ['secretsmanager:GetSecretValue'],
};
/** What `Ref` of a resource type returns when it is an ARN, as `arn:...:<resource prefix>`. */
const refArns: Record<string, string> = {
  // CloudFormation's own placeholders, as `arnTexts` leaves them in.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation !Sub text, not a JavaScript template
  'AWS::SecretsManager::Secret': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:',
};

let template: Template;
/** LogicalId to function folder: the Makefile target sam build runs for the function. */
let builds: ReadonlyMap<string, string>;

/** The entry point a function's build starts from; a function without a build target fails the test. */
const entryOf = (id: string): string => {
  const folder = builds.get(id);
  if (folder === undefined) throw new Error(`${id} has no build-${id} target in the Makefile`);
  return entryPoint(folder);
};

beforeAll(async () => {
  template = await readTemplate();
  builds = await readBuildTargets();
});

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const actions = (s: Statement): string[] => list(s.Action) as string[];

/** A statement, a policy or a policy reference under `!If [condition, a, b]`, as the conditions say. */
function choose(value: unknown, enabled: boolean): unknown[] {
  const choice = (value as { 'Fn::If'?: [string, unknown, unknown] } | null)?.['Fn::If'];
  if (!choice) return [value];
  const picked = enabled ? choice[1] : choice[2];
  return (picked as { Ref?: string } | null)?.Ref === 'AWS::NoValue' ? [] : choose(picked, enabled);
}

function managedPolicyStatements(id: string, enabled: boolean): Statement[] {
  const resource = template.Resources[id];
  if (resource?.Type !== 'AWS::IAM::ManagedPolicy') throw new Error(`${id} is not a managed policy in template.yaml`);
  const doc = resource.Properties?.PolicyDocument as { Statement: unknown[] };
  return doc.Statement.flatMap((s) => choose(s, enabled)) as Statement[];
}

/** Every statement a function's role gets: its inline statements and the managed policies it attaches. */
function functionStatements(id: string, enabled: boolean): Statement[] {
  const policies = (template.Resources[id]?.Properties?.Policies ?? []) as unknown[];
  return policies
    .flatMap((p) => choose(p, enabled))
    .flatMap((p) => {
      const ref = (p as { Ref?: string }).Ref;
      if (ref) return managedPolicyStatements(ref, enabled);
      const statements = (p as { Statement?: unknown[] }).Statement;
      if (!statements) {
        // A SAM policy template or an AWS managed policy would hide what it grants from this test.
        throw new Error(`${id}: a policy this test cannot read: ${JSON.stringify(p)}`);
      }
      return statements.flatMap((s) => choose(s, enabled)) as Statement[];
    });
}

/** Every identity-policy statement in the template (trust policies excluded), with where it is. */
function allStatements(enabled: boolean): { where: string; s: Statement }[] {
  const out: { where: string; s: Statement }[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::Serverless::Function') {
      for (const s of functionStatements(id, enabled)) out.push({ where: id, s });
    } else if (r.Type === 'AWS::IAM::ManagedPolicy') {
      for (const s of managedPolicyStatements(id, enabled)) out.push({ where: id, s });
    } else if (r.Type === 'AWS::IAM::Role' || r.Type === 'AWS::IAM::Policy') {
      const docs =
        r.Type === 'AWS::IAM::Policy'
          ? [r.Properties?.PolicyDocument]
          : ((r.Properties?.Policies ?? []) as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument);
      for (const doc of docs) {
        for (const s of (doc as { Statement: unknown[] }).Statement.flatMap((x) => choose(x, enabled))) {
          out.push({ where: id, s: s as Statement });
        }
      }
    }
  }
  return out;
}

/** The ARN text(s) of a resource, with `${...}` left in: `!Sub`, `!Split` of a `!Sub`, `!GetAtt Fn.Arn`. */
function arnTexts(resource: unknown): string[] {
  if (typeof resource === 'string') return [resource];
  if (Array.isArray(resource)) return resource.flatMap(arnTexts);
  const r = resource as Record<string, unknown>;
  if ('Fn::Sub' in r) {
    const sub = r['Fn::Sub'];
    return [Array.isArray(sub) ? String(sub[0]) : String(sub)].map(functionArnRefs);
  }
  if ('Fn::Split' in r) return arnTexts((r['Fn::Split'] as [string, unknown])[1]);
  if ('Ref' in r) {
    const id = String(r.Ref);
    const prefix = refArns[template.Resources[id]?.Type ?? ''];
    if (prefix) return [`${prefix}${id}`];
  }
  if ('Fn::GetAtt' in r) {
    const [id, attribute] = r['Fn::GetAtt'] as [string, string];
    return [functionArnRefs(`\${${id}.${attribute}}`)];
  }
  throw new Error(`a resource this test cannot read: ${JSON.stringify(resource)}`);
}

/** `${SomeFunction.Arn}` as the ARN it stands for. */
function functionArnRefs(text: string): string {
  return text.replace(/\$\{(\w+)\.Arn\}/g, (whole, id: string) =>
    template.Resources[id]?.Type === 'AWS::Serverless::Function'
      ? `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${id}`
      : whole,
  );
}

/** The project files a file imports, transitively (static and dynamic relative imports). */
function reachable(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const source = readFileSync(entry, 'utf8');
  for (const m of source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+\.ts)'/g)) {
    const next = normalize(join(dirname(entry), m[1] as string));
    if (existsSync(next)) reachable(next, seen);
  }
  return seen;
}

/** The IAM actions of the SDK commands a lib/aws file sends (itself, or through a library). */
function commandsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const viaPowertools = Object.entries(powertoolsActions).flatMap(([module, actions]) =>
    source.includes(`'${module}'`) ? actions : [],
  );
  return [...viaPowertools, ...sdkCommandsOf(file, source)];
}

function sdkCommandsOf(file: string, source: string): string[] {
  const clients = [...source.matchAll(/from '@aws-sdk\/client-([a-z0-9-]+)'/g)].map((m) => m[1] as string);
  const commands = [...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1] as string);
  if (commands.length === 0) return [...(libraryActions[file] ?? [])];
  expect(clients, `${file} sends commands of exactly one client`).toHaveLength(1);
  const prefix = iamPrefix[clients[0] as string];
  expect(prefix, `IAM prefix of @aws-sdk/client-${clients[0]}`).toBeDefined();
  return commands.map((c) => actionOf[`${prefix}:${c}`] ?? `${prefix}:${c}`);
}

const functionIds = () =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
    .map(([id]) => id);

describe('IAM in template.yaml', () => {
  it.each([true, false])('grants no wildcard action, no NotAction and no NotResource (conditions %s)', (enabled) => {
    const statements = allStatements(enabled);
    expect(statements.length).toBeGreaterThan(10);
    for (const { where, s } of statements) {
      expect(s.NotAction, `${where} ${s.Sid}`).toBeUndefined();
      expect(s.NotResource, `${where} ${s.Sid}`).toBeUndefined();
      for (const action of actions(s)) {
        expect(action, `${where} ${s.Sid}`).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
      }
    }
  });

  it("grants Resource '*' only for actions AWS authorizes on no narrower resource", () => {
    const wide = allStatements(true).filter(({ s }) => list(s.Resource).includes('*'));
    expect(wide.length).toBeGreaterThan(0);
    for (const { where, s } of wide) {
      for (const action of actions(s)) {
        expect(onlyOnEveryResource[action], `${where} ${s.Sid}: ${action} on '*'`).toBeDefined();
      }
    }
  });

  it("names, in every other statement, ARNs of the action's own service in this account and region", () => {
    for (const { where, s } of allStatements(true)) {
      const resources = list(s.Resource);
      if (resources.includes('*')) continue;
      const services = new Set(actions(s).map((a) => a.split(':')[0]));
      for (const arn of arnTexts(resources)) {
        const at = `${where} ${s.Sid}: ${arn}`;
        // `${AWS::Region}` has colons of its own: `{Region}` while splitting.
        const [prefix, partition, service, region, account, ...rest] = arn
          .replace(/\$\{AWS::(\w+)\}/g, '{$1}')
          .split(':');
        const name = rest.join(':');
        expect(prefix, at).toBe('arn');
        expect([...services], at).toEqual([service]);
        if (region === '*' || account === '*') {
          // Only where the account cannot matter, and the region is pinned by a condition instead.
          expect(noResourcePolicies.has(service as string), at).toBe(true);
          expect(s.Condition?.StringEquals?.['aws:RequestedRegion'], at).toEqual({ Ref: 'AWS::Region' });
          expect(partition, at).toBe('*');
        } else {
          expect(partition, at).toBe('{Partition}');
          expect(region, at).toBe('{Region}');
          expect(account, at).toBe('{AccountId}');
        }
        if (name === '*' || name === '') {
          expect(accountWideStatements[s.Sid ?? ''], `${at} names every resource`).toBeDefined();
        }
      }
    }
  });

  it.each(Object.keys(functionActions))('grants %s exactly the actions its code calls', (id) => {
    expect(functionIds()).toContain(id);
    const declared = [...new Set([...(functionActions[id] ?? []), ...checkActions, ...observeActions])].sort();
    const granted = (enabled: boolean) =>
      [...new Set(functionStatements(id, enabled).flatMap((s) => (s.Effect === 'Allow' ? actions(s) : [])))].sort();

    // Every switch on (plan parameter, secrets, smoke tests, verdict events): exactly what the code calls.
    expect(granted(true)).toEqual(declared);
    // Every switch off: never more.
    expect(declared).toEqual(expect.arrayContaining(granted(false)));
  });

  it('declares for each function only actions of the SDK commands its code can reach', () => {
    const reachableFrom = (id: string) => [...reachable(entryOf(id))];
    for (const id of functionIds()) {
      const own = reachableFrom(id);
      const onDurable = own.some((f) => readFileSync(f, 'utf8').includes(`'${durableSdk}'`));
      // The durable function runs the analyses its entry functions start: their triggers' calls are its own.
      const files = [...own, ...(onDurable ? durableEntries.flatMap(reachableFrom) : [])].filter((f) =>
        f.startsWith('lib/aws/'),
      );
      const callable = new Set([...files.flatMap(commandsOf), ...(onDurable ? durableSdkActions : [])]);
      const declared = [...(functionActions[id] ?? []), ...checkActions, ...observeActions];
      expect(
        declared.filter((a) => !callable.has(a)),
        `${id} declares actions its code never sends`,
      ).toEqual([]);
    }
  });

  it('declares every SDK command the adapters send for some function', () => {
    const sent = readdirSync('lib/aws')
      .filter((f) => f.endsWith('.ts') && !(`lib/aws/${f}` in operatorOnlyAdapters))
      .flatMap((f) => commandsOf(`lib/aws/${f}`));
    const declared = new Set([...Object.values(functionActions).flat(), ...checkActions, ...observeActions]);
    for (const a of durableSdkActions) expect(declared.has(a), a).toBe(true);
    expect([...new Set(sent)].filter((a) => !declared.has(a))).toEqual([]);
  });
});

describe('adapters only the CLI uses', () => {
  it.each(Object.keys(operatorOnlyAdapters))('%s is reached by no function', (adapter) => {
    for (const id of functionIds()) {
      expect([...reachable(entryOf(id))], id).not.toContain(adapter);
    }
  });
});

describe('the state key in template.yaml', () => {
  it('is generated in the stack (64 characters), passed to the functions that carry state and readable by them only', () => {
    const secret = template.Resources.StateKeySecret;
    expect(secret?.Type).toBe('AWS::SecretsManager::Secret');
    const generate = secret?.Properties?.GenerateSecretString as { PasswordLength?: unknown } | undefined;
    expect(Number(generate?.PasswordLength)).toBe(64);
    expect(secret?.Properties?.SecretString).toBeUndefined();
    // The gates keep no state of their own any more: durable executions do (issue 13).
    const carriers = ['EcsLifecycleHookFunction'];
    for (const id of functionIds()) {
      const env = (template.Resources[id]?.Properties?.Environment as { Variables?: Record<string, unknown> })
        ?.Variables;
      const readers = functionStatements(id, true).filter((s) => actions(s).includes('secretsmanager:GetSecretValue'));
      if (carriers.includes(id)) {
        expect(env?.GREENLIGHT_STATE_KEY_SECRET_ARN, id).toEqual({ Ref: 'StateKeySecret' });
        expect(
          readers.map((s) => [actions(s), s.Resource]),
          id,
        ).toEqual([[['secretsmanager:GetSecretValue'], { Ref: 'StateKeySecret' }]]);
      } else {
        expect(env?.GREENLIGHT_STATE_KEY_SECRET_ARN, id).toBeUndefined();
        expect(readers, id).toEqual([]);
      }
    }
  });
});

describe('the durable function in template.yaml', () => {
  /** The durable function's name and ARN, as the template's `!Sub` texts spell them. */
  const durableName = `\${AWS::StackName}-durable-analysis`;
  const functionArn = `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${durableName}`;
  const durable = () => template.Resources.DurableAnalysisFunction;
  /** What the functions' roles may do (the ECS hook's invoke role, assumed by ECS, is not a function's). */
  const lambdaStatements = (action: string) =>
    functionIds().flatMap((where) =>
      functionStatements(where, true)
        .filter((s) => s.Effect === 'Allow' && actions(s).includes(action))
        .map((s) => ({ where, s })),
    );

  it('is a durable function: DurableConfig covering a 14-day PAUSE hook, history kept 14 days, the live alias, 15-minute invocations', () => {
    const p = durable()?.Properties ?? {};
    expect(durable()?.Type).toBe('AWS::Serverless::Function');
    expect(p.FunctionName).toEqual({ 'Fn::Sub': durableName });
    const config = p.DurableConfig as { ExecutionTimeout: number; RetentionPeriodInDays: number };
    // ECS lets a PAUSE hook wait up to 14 days; Lambda allows an execution up to 366 days.
    expect(Number(config.ExecutionTimeout)).toBeGreaterThanOrEqual(14 * 86_400);
    expect(Number(config.ExecutionTimeout)).toBe(15 * 86_400);
    expect(Number(config.RetentionPeriodInDays)).toBe(14);
    expect(p.AutoPublishAlias).toBe('live');
    expect(Number(p.Timeout)).toBe(900);
    expect(p.Runtime ?? template.Globals?.Function?.Runtime).toBe('nodejs24.x');
  });

  it('is started by the CodeDeploy hook, the PAUSE gate and the wait gate, on its alias (GREENLIGHT_DURABLE_FUNCTION)', () => {
    const starters = functionIds().filter(
      (id) =>
        (template.Resources[id]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables?.GREENLIGHT_DURABLE_FUNCTION !== undefined,
    );
    expect(starters.sort()).toEqual([...durableEntries].sort());
    for (const id of durableEntries) {
      const env = (template.Resources[id]?.Properties?.Environment as { Variables?: Record<string, unknown> })
        ?.Variables;
      expect(env?.GREENLIGHT_DURABLE_FUNCTION, id).toEqual({ Ref: 'DurableAnalysisFunction.Alias' });
      const starts = functionStatements(id, false).filter((s) => actions(s).includes('lambda:InvokeFunction'));
      expect(
        starts.map((s) => arnTexts(s.Resource)),
        id,
      ).toEqual([[`${functionArn}:live`]]);
    }
  });

  it('may be invoked on its alias only, and no function may invoke itself (no self-invocation chain)', () => {
    for (const { where, s } of lambdaStatements('lambda:InvokeFunction')) {
      if (s.Sid === 'SmokeTestInvoke') continue;
      expect(actions(s), `${where} ${s.Sid}`).toEqual(['lambda:InvokeFunction']);
      expect(arnTexts(s.Resource), `${where} ${s.Sid}`).toEqual([`${functionArn}:live`]);
    }
    for (const id of functionIds()) {
      const name = String((template.Resources[id]?.Properties?.FunctionName as { 'Fn::Sub'?: string })?.['Fn::Sub']);
      const own = functionStatements(id, true)
        .filter((s) => s.Sid !== 'SmokeTestInvoke' && actions(s).includes('lambda:InvokeFunction'))
        .flatMap((s) => arnTexts(s.Resource))
        .filter((arn) => arn.includes(`:function:${name}`) && arn !== `${functionArn}:live`);
      expect(own, id).toEqual([]);
      expect(template.Resources[id]?.Properties?.RecursiveLoop, id).toBeUndefined();
    }
  });

  it('checkpoints and reads the state of its own executions only (every version of itself, no other function)', () => {
    for (const action of durableSdkActions) {
      const grants = lambdaStatements(action);
      expect(grants.map((g) => g.where)).toEqual(['DurableAnalysisFunction']);
      // Lambda authorizes these on function:<name>:<version>/durable-execution/...: a qualified pattern.
      expect(grants.map((g) => arnTexts(g.s.Resource))).toEqual([[`${functionArn}:*`]]);
      expect(grants[0]?.s.Condition).toBeUndefined();
    }
  });

  it('outputs the function and alias ARNs', () => {
    const outputs = (template as { Outputs?: Record<string, { Value: unknown }> }).Outputs ?? {};
    expect(outputs.DurableAnalysisFunctionArn?.Value).toEqual({ 'Fn::GetAtt': ['DurableAnalysisFunction', 'Arn'] });
    expect(outputs.DurableAnalysisAliasArn?.Value).toEqual({ Ref: 'DurableAnalysisFunction.Alias' });
  });
});
