import { beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache, loadPlan, type PlanReaders, planSourceFromEnv } from '../../lib/plan/load.ts';
import { PlanError } from '../../lib/spec/errors.ts';

const planYaml = `version: 1
hooks:
  "*": [green-health]
checks:
  green-health:
    type: http
    url: "{{testListenerUrl}}/health"
`;

/** Readers that answer from maps and record what was asked. */
function fakeReaders(files: Record<string, string> = {}, parameters: Record<string, string | Error> = {}) {
  const asked: string[] = [];
  const readers: PlanReaders = {
    async readFile(path) {
      asked.push(`file:${path}`);
      const text = files[path];
      if (text === undefined)
        throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
      return text;
    },
    async readParameter(name) {
      asked.push(`parameter:${name}`);
      const value = parameters[name];
      if (value === undefined) {
        throw Object.assign(new Error(`Parameter ${name} not found.`), { name: 'ParameterNotFound' });
      }
      if (value instanceof Error) throw value;
      return value;
    },
  };
  return { readers, asked };
}

async function planErrorOf(work: Promise<unknown>): Promise<PlanError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PlanError);
  return error as PlanError;
}

beforeEach(() => {
  clearPlanCache();
});

describe('planSourceFromEnv', () => {
  it('reads the three variables, ignoring blank ones', () => {
    // Act
    const source = planSourceFromEnv({
      GREENLIGHT_PLAN: '  ',
      GREENLIGHT_PLAN_FILE: ' plan.yaml ',
      GREENLIGHT_PLAN_PARAMETER: '/greenlight/plan',
    });

    // Assert
    expect(source).toEqual({ file: 'plan.yaml', parameter: '/greenlight/plan' });
  });

  it('gives an empty source when nothing is set', () => {
    expect(planSourceFromEnv({})).toEqual({});
  });
});

describe('loadPlan', () => {
  it('fails naming the environment variables when no source is configured', async () => {
    // Act
    const error = await planErrorOf(loadPlan({}, fakeReaders().readers));

    // Assert
    expect(error.message).toContain('GREENLIGHT_PLAN');
    expect(error.message).toContain('GREENLIGHT_PLAN_FILE');
    expect(error.message).toContain('GREENLIGHT_PLAN_PARAMETER');
  });

  it('fails when more than one source is configured, naming them', async () => {
    // Arrange
    const { readers, asked } = fakeReaders({ 'plan.yaml': planYaml });

    // Act
    const error = await planErrorOf(loadPlan({ inline: planYaml, file: 'plan.yaml' }, readers));

    // Assert
    expect(error.issues).toEqual([
      'more than one plan configured (GREENLIGHT_PLAN, GREENLIGHT_PLAN_FILE): set exactly one',
    ]);
    expect(asked).toEqual([]);
  });

  it('parses an inline plan', async () => {
    // Act
    const plan = await loadPlan({ inline: planYaml }, fakeReaders().readers);

    // Assert
    expect(Object.keys(plan.checks)).toEqual(['green-health']);
  });

  it.each([
    [
      '"*": [toString] with no checks',
      'version: 1\nhooks:\n  "*": [toString]\n',
      /hooks\.\*\[0\]: unknown check "toString"/,
    ],
    [
      'defaults: {count: 0}',
      planYaml.replace('hooks:', 'defaults: { count: 0 }\nhooks:'),
      /defaults\.count: must be at least 1, got 0/,
    ],
  ])('issue 11: refuses %s when loading, before a trigger runs it', async (_name, text, issue) => {
    const { readers } = fakeReaders();

    const error = await planErrorOf(loadPlan({ inline: text }, readers));

    expect(error.issues).toEqual([expect.stringMatching(issue)]);
  });

  it('reads a file plan through the injected readFile', async () => {
    // Arrange
    const { readers, asked } = fakeReaders({ '/var/task/plan.yaml': planYaml });

    // Act
    const plan = await loadPlan({ file: '/var/task/plan.yaml' }, readers);

    // Assert
    expect(asked).toEqual(['file:/var/task/plan.yaml']);
    expect(plan.hooks).toEqual({ '*': ['green-health'] });
  });

  it('fails with a PlanError naming the file when it cannot be read', async () => {
    // Act
    const error = await planErrorOf(loadPlan({ file: 'missing.yaml' }, fakeReaders().readers));

    // Assert
    expect(error.issues).toEqual(['GREENLIGHT_PLAN_FILE: cannot read missing.yaml: ENOENT']);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('reads a parameter plan through the injected readParameter, passing the signal on', async () => {
    // Arrange
    const signals: (AbortSignal | undefined)[] = [];
    const readers: PlanReaders = {
      readFile: () => Promise.reject(new Error('not used')),
      readParameter: async (_name, signal) => {
        signals.push(signal);
        return planYaml;
      },
    };
    const signal = new AbortController().signal;

    // Act
    const plan = await loadPlan({ parameter: '/greenlight/plan' }, readers, signal);

    // Assert
    expect(plan.checks['green-health']?.type).toBe('http');
    expect(signals).toEqual([signal]);
  });

  it('turns a parameter read failure into a PlanError naming the parameter and the cause', async () => {
    // Arrange
    const denied = Object.assign(new Error('not authorized to perform ssm:GetParameter'), {
      name: 'AccessDeniedException',
    });
    const { readers } = fakeReaders({}, { '/greenlight/plan': denied });

    // Act
    const error = await planErrorOf(loadPlan({ parameter: '/greenlight/plan' }, readers));

    // Assert
    expect(error.issues).toEqual([
      "GREENLIGHT_PLAN_PARAMETER: cannot read SSM parameter /greenlight/plan: AccessDeniedException: not authorized to perform ssm:GetParameter (greenlight's role may read only the parameter the stack's PlanParameterName parameter names)",
    ]);
    expect(error.cause).toBe(denied);
  });

  it('turns invalid YAML into a PlanError naming the source', async () => {
    // Arrange
    const { readers } = fakeReaders({ 'plan.yaml': 'version: 1\nhooks: [unclosed' });

    // Act
    const error = await planErrorOf(loadPlan({ file: 'plan.yaml' }, readers));

    // Assert
    expect(error.issues).toEqual([expect.stringMatching(/^plan\.yaml: not valid JSON or YAML: /)]);
  });

  it('reports schema problems of a loaded plan', async () => {
    // Act
    const error = await planErrorOf(loadPlan({ inline: 'version: 2\nhooks: {}' }, fakeReaders().readers));

    // Assert
    expect(error.issues).toEqual(['version: expected 1, got 2']);
  });

  it('reads a file plan once per container', async () => {
    // Arrange
    const { readers, asked } = fakeReaders({ 'plan.yaml': planYaml });

    // Act
    await loadPlan({ file: 'plan.yaml' }, readers);
    await loadPlan({ file: 'plan.yaml' }, readers);

    // Assert
    expect(asked).toEqual(['file:plan.yaml']);
  });

  it('asks readParameter for a parameter plan every time (its cache decides), and takes an edited plan at once', async () => {
    // Arrange
    const parameters: Record<string, string> = { '/p': planYaml };
    const { readers, asked } = fakeReaders({}, parameters);

    // Act
    const first = await loadPlan({ parameter: '/p' }, readers);
    const same = await loadPlan({ parameter: '/p' }, readers);
    parameters['/p'] = planYaml.replace('green-health', 'green-ready').replace('green-health', 'green-ready');
    const edited = await loadPlan({ parameter: '/p' }, readers);

    // Assert
    expect(asked).toEqual(['parameter:/p', 'parameter:/p', 'parameter:/p']);
    expect(same).toBe(first);
    expect(Object.keys(edited.checks)).toEqual(['green-ready']);
  });

  it('does not cache a plan that failed to load', async () => {
    // Arrange
    const files: Record<string, string> = { 'plan.yaml': 'version: 2\nhooks: {}' };
    const { readers } = fakeReaders(files);
    await planErrorOf(loadPlan({ file: 'plan.yaml' }, readers));
    files['plan.yaml'] = planYaml;

    // Act
    const plan = await loadPlan({ file: 'plan.yaml' }, readers);

    // Assert
    expect(plan.version).toBe(1);
  });
});
