import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unqualified } from '../../lib/aws/durable-read.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('what greenlight status reads, and the policy that lets it', () => {
  it('the documented read-only policy allows every AWS call status makes, and nothing that writes', () => {
    const ops = read('docs/operations.md');
    const section = ops.slice(ops.indexOf('## Watching a deployment'));
    const policy = JSON.parse(
      section.slice(section.indexOf('```json') + 7, section.indexOf('```', section.indexOf('```json') + 7)),
    ) as {
      Statement: { Action: string[] }[];
    };
    const allowed = new Set(policy.Statement.flatMap((s) => s.Action));
    // The calls, read from the adapters status uses: every `new XCommand` in its read adapters, and the
    // CodeDeploy and ECS reads it makes through the shared adapters.
    const called = [
      ...['lib/aws/durable-read.ts', 'lib/aws/service-deployments.ts'].flatMap((f) =>
        [...read(f).matchAll(/new (\w+)Command\(/g)].map((m) => `${f.includes('durable') ? 'lambda' : 'ecs'}:${m[1]}`),
      ),
      'codedeploy:GetDeployment',
      'codedeploy:ListDeploymentTargets',
      'codedeploy:GetDeploymentTarget',
      'ecs:DescribeServiceDeployments',
    ];
    expect(called).toContain('lambda:GetDurableExecutionHistory');
    expect(called).toContain('ecs:ListServiceDeployments');
    expect(called.filter((c) => !allowed.has(c))).toEqual([]);
    expect([...allowed].filter((a) => !/:(Get|List|Describe)/.test(a))).toEqual([]);
  });

  it('lists the executions of the durable function whichever alias started them: the qualifier is dropped', () => {
    expect(unqualified('arn:aws:lambda:us-east-1:123456789012:function:gl-durable:live')).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:gl-durable',
    );
    expect(unqualified('arn:aws:lambda:us-east-1:123456789012:function:gl-durable')).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:gl-durable',
    );
    expect(unqualified('gl-durable:live')).toBe('gl-durable');
    expect(unqualified('123456789012:function:gl-durable:7')).toBe('123456789012:function:gl-durable');
    expect(unqualified('gl-durable')).toBe('gl-durable');
  });
});
