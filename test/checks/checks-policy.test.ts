import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTemplate, resolver, type Template } from '../../local/template.ts';
import { libraryActions } from '../support/library-actions.ts';

/** The check kinds' adapters and the IAM prefix of the service each one calls. */
const adapters = {
  'lib/aws/ecs-checks.ts': 'ecs',
  'lib/aws/target-health.ts': 'elasticloadbalancing',
  'lib/aws/cloudwatch.ts': 'cloudwatch',
  'lib/aws/lambda.ts': 'lambda',
} as const;
// The plans' secrets (lib/aws/secrets.ts) are read with ssm.ts's getParameter, and the prometheus kind's
// SigV4 requests (lib/aws/sigv4.ts) are HTTP calls, not SDK commands: both are in libraryActions.
/** SDK command names whose IAM action is spelled differently. */
const actionOf: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction' };

let template: Template;

beforeAll(async () => {
  template = await readTemplate();
});

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };

/** The policy's statements with `!If [condition, statement, AWS::NoValue]` taken as `enabled` says. */
function statements(enabled: boolean): Statement[] {
  const policy = template.Resources.ChecksReadPolicy?.Properties?.PolicyDocument as { Statement: unknown[] };
  return policy.Statement.flatMap((s) => {
    const choice = (s as { 'Fn::If'?: [string, Statement, unknown] })['Fn::If'];
    if (!choice) return [s as Statement];
    return enabled ? [choice[1]] : [];
  });
}

async function actionsTheAdaptersCall(): Promise<string[]> {
  const actions = new Set<string>([
    // GetParameters reads the plan library (PlanLibraryReadPolicy), never a check's secret.
    ...(libraryActions['lib/aws/ssm.ts'] ?? []).filter((a) => a !== 'ssm:GetParameters'),
    ...(libraryActions['lib/aws/sigv4.ts'] ?? []),
  ]);
  for (const [file, prefix] of Object.entries(adapters)) {
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(/new (\w+)Command\(/g)) {
      const action = `${prefix}:${m[1]}`;
      actions.add(actionOf[action] ?? action);
    }
  }
  return [...actions].sort();
}

describe('ChecksReadPolicy in template.yaml', () => {
  it('grants exactly the actions the check adapters call, no more', async () => {
    const granted = statements(true)
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
      .sort();

    expect(granted).toEqual(await actionsTheAdaptersCall());
  });

  it('grants no write action besides the opt-in smoke invocation', () => {
    const granted = statements(true).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

    // aps:QueryMetrics is a Read action (Service Authorization Reference), like Describe, List and Get.
    expect(granted.filter((a) => !/:(Describe|List|Get|QueryMetrics$)/.test(a))).toEqual(['lambda:InvokeFunction']);
  });

  it('lets no function be invoked unless SmokeTestFunctions names some', () => {
    expect(template.Parameters?.SmokeTestFunctions?.Default).toBe('');
    expect(statements(false).map((s) => s.Sid)).not.toContain('SmokeTestInvoke');
    const invoke = statements(true).find((s) => s.Sid === 'SmokeTestInvoke');
    // Each name of the list, and its versions and aliases, in this account and region (a bare `function:`
    // is a padding entry that names no function).
    const { resolve } = resolver(
      template,
      { SmokeTestFunctions: 'orders-*,payments-api' },
      { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '111122223333' },
    );
    const arns = new Set(resolve(invoke?.Resource) as string[]);
    const prefix = 'arn:aws:lambda:eu-west-1:111122223333:function:';
    expect([...arns].filter((a) => !/:function::?\*?$/.test(a)).sort()).toEqual(
      [`${prefix}orders-*`, `${prefix}orders-*:*`, `${prefix}payments-api`, `${prefix}payments-api:*`].sort(),
    );
  });

  it('lets no Prometheus workspace be queried unless PrometheusWorkspaces names some, and only those', () => {
    expect(template.Parameters?.PrometheusWorkspaces?.Default).toBe('');
    expect(statements(false).map((s) => s.Sid)).not.toContain('QueryPrometheusWorkspaces');
    const query = statements(true).find((s) => s.Sid === 'QueryPrometheusWorkspaces');
    expect(query?.Action).toBe('aps:QueryMetrics');
    expect(JSON.stringify(query?.Resource)).toMatch(
      /:aps:\$\{AWS::Region\}:\$\{AWS::AccountId\}:workspace\/\$\{PrometheusWorkspaces\}"/,
    );
  });

  it('is attached to the CodeDeploy hook function', () => {
    const policies = template.Resources.CodeDeployHookFunction?.Properties?.Policies as unknown[];

    expect(policies).toContainEqual({ Ref: 'ChecksReadPolicy' });
  });
});
