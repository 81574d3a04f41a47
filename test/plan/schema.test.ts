import { describe, expect, it } from 'vitest';
import { checksForHook, defaultPolicy, type Plan, parsePlan, parsePlanText } from '../../lib/plan/schema.ts';
import { PlanError } from '../../lib/spec/errors.ts';

const examplePlanYaml = `version: 1
hooks:
  AfterAllowTestTraffic: [green-health]
  "*": [green-health]
checks:
  green-health:
    type: http
    url: "{{testListenerUrl}}/health"
    expect:
      status: [200]
    count: 3
    interval: 1s
`;

const examplePlanObject = {
  version: 1,
  hooks: { AfterAllowTestTraffic: ['green-health'], '*': ['green-health'] },
  checks: {
    'green-health': {
      type: 'http',
      url: '{{testListenerUrl}}/health',
      expect: { status: [200] },
      count: 3,
      interval: '1s',
    },
  },
};

/** The example plan with one check's fields replaced or added. */
function withCheck(fields: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return {
    ...examplePlanObject,
    ...extra,
    checks: { 'green-health': { ...examplePlanObject.checks['green-health'], ...fields } },
  };
}

/** The issues of the PlanError that `act` throws; fails the test when it throws nothing or something else. */
function issuesOf(act: () => unknown): readonly string[] {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as PlanError).issues;
  }
  throw new Error('expected a PlanError, nothing was thrown');
}

/** The issues of the PlanError that `work` rejects with; fails the test when it resolves or rejects otherwise. */
async function issuesOfAsync(work: Promise<unknown>): Promise<readonly string[]> {
  try {
    await work;
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as PlanError).issues;
  }
  throw new Error('expected a PlanError, nothing was thrown');
}

function planWithHooks(hooks: Record<string, string[]>): Plan {
  return parsePlan({
    version: 1,
    hooks,
    checks: {
      a: { type: 'http', url: 'http://a.example/health' },
      b: { type: 'http', url: 'http://b.example/health' },
    },
  });
}

describe('parsePlanText', () => {
  it('parses the example plan written in YAML', async () => {
    // Act
    const plan = await parsePlanText(examplePlanYaml, 'plan.yaml');

    // Assert
    expect(plan.version).toBe(1);
    expect(plan.hooks).toEqual({ AfterAllowTestTraffic: ['green-health'], '*': ['green-health'] });
    expect(plan.checks['green-health']).toEqual({
      name: 'green-health',
      type: 'http',
      policy: { ...defaultPolicy, count: 3, intervalMs: 1000 },
      spec: {
        url: '{{testListenerUrl}}/health',
        method: 'GET',
        headers: {},
        expect: { status: [[200, 200]] },
        followRedirects: 0,
        maxBodyBytes: 1024 * 1024,
      },
    });
  });

  it('parses the same plan written in JSON to the same result', async () => {
    // Act
    const fromJson = await parsePlanText(JSON.stringify(examplePlanObject, null, 2), 'plan.json');

    // Assert
    expect(fromJson).toEqual(await parsePlanText(examplePlanYaml, 'plan.yaml'));
  });

  it('keeps the plan description', async () => {
    // Act
    const plan = await parsePlanText(`description: green checks\n${examplePlanYaml}`, 'plan.yaml');

    // Assert
    expect(plan.description).toBe('green checks');
  });

  it.each([
    ['YAML', 'version: 1\nchecks: [unclosed'],
    ['JSON', '{"version": 1,'],
  ])('rejects invalid %s with a PlanError naming the source', async (_format, text) => {
    // Act
    const issues = await issuesOfAsync(parsePlanText(text, 'GREENLIGHT_PLAN'));

    // Assert
    expect(issues).toEqual([expect.stringMatching(/^GREENLIGHT_PLAN: not valid JSON or YAML: /)]);
  });

  it('rejects text that is not a mapping', async () => {
    // Act
    const issues = await issuesOfAsync(parsePlanText('just some text', 'GREENLIGHT_PLAN'));

    // Assert
    expect(issues).toEqual(['plan: expected an object, got a string of 14 characters']);
  });

  it('rejects a plan larger than 256 KiB before parsing it', async () => {
    // Arrange
    const huge = `# ${'x'.repeat(256 * 1024)}\n${examplePlanYaml}`;

    // Act
    const issues = await issuesOfAsync(parsePlanText(huge, 'plan.yaml'));

    // Assert
    expect(issues).toEqual(['plan.yaml: plan is larger than 256 KiB']);
  });
});

describe('parsePlan', () => {
  it('names the field and the expected range for an out-of-range status', () => {
    // Act
    const issues = issuesOf(() => parsePlan(withCheck({ expect: { status: [700] } })));

    // Assert
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain('checks.green-health.expect.status[0]: expected an integer 100-599');
  });

  it('names a misspelled field and lists the fields allowed there', () => {
    // Act
    const issues = issuesOf(() => parsePlan(withCheck({ intervall: '1s' })));

    // Assert
    expect(issues).toEqual([
      expect.stringMatching(/^checks\.green-health\.intervall: unknown field \(expected one of: .*interval,/),
    ]);
  });

  it('names a misspelled field inside expect', () => {
    // Act
    const issues = issuesOf(() => parsePlan(withCheck({ expect: { stauts: [200] } })));

    // Assert
    expect(issues).toEqual([expect.stringContaining('checks.green-health.expect.stauts: unknown field')]);
  });

  it('names a misspelled top-level field', () => {
    // Act
    const issues = issuesOf(() => parsePlan({ ...examplePlanObject, check: {} }));

    // Assert
    expect(issues).toEqual([expect.stringContaining('check: unknown field (expected one of: version, description')]);
  });

  it('names an unknown check type and lists the known ones', () => {
    // Act
    const issues = issuesOf(() => parsePlan(withCheck({ type: 'htp' })));

    // Assert
    expect(issues).toEqual([
      'checks.green-health.type: unknown check type "htp" (expected one of: http, ecs-service, ecs-tasks, target-health, cloudwatch-alarms, cloudwatch-metric, lambda-invoke, compare, prometheus, datadog)',
    ]);
  });

  it('names a check that has no type', () => {
    // Act
    const issues = issuesOf(() => parsePlan(withCheck({ type: undefined })));

    // Assert
    expect(issues).toEqual([expect.stringContaining('checks.green-health.type: unknown check type (missing)')]);
  });

  it('names an unknown placeholder and the field it is in', () => {
    // Act
    const issues = issuesOf(() => parsePlan(withCheck({ url: '{{nope}}/health' })));

    // Assert
    expect(issues).toEqual([
      expect.stringMatching(/^checks\.green-health\.url: unknown placeholder \{\{nope\}\} \(known: .*testListenerUrl/),
    ]);
  });

  it('names a hook that lists a check the plan does not have', () => {
    // Act
    const issues = issuesOf(() =>
      parsePlan({ ...examplePlanObject, hooks: { AfterAllowTestTraffic: ['green-health', 'blue-health'] } }),
    );

    // Assert
    expect(issues).toEqual(['hooks.AfterAllowTestTraffic[1]: unknown check "blue-health" (plan has: green-health)']);
  });

  it('names a check listed twice for one hook', () => {
    // Act
    const issues = issuesOf(() =>
      parsePlan({ ...examplePlanObject, hooks: { AfterAllowTestTraffic: ['green-health', 'green-health'] } }),
    );

    // Assert
    expect(issues).toEqual(['hooks.AfterAllowTestTraffic[1]: check "green-health" is listed twice']);
  });

  it('names an unknown hook key', () => {
    // Act
    const issues = issuesOf(() =>
      parsePlan({ ...examplePlanObject, hooks: { AfterAllowTestTrafic: ['green-health'] } }),
    );

    // Assert
    expect(issues).toEqual([
      expect.stringMatching(
        /^hooks\.AfterAllowTestTrafic: unknown hook or stage \(expected one of: .*AfterAllowTestTraffic/,
      ),
    ]);
  });

  it.each([
    ['missing', undefined, 'version: expected 1, got nothing'],
    ['2', 2, 'version: expected 1, got 2'],
    ['the string "1"', '1', 'version: expected 1, got "1"'],
  ])('rejects version %s', (_name, version, issue) => {
    // Act
    const issues = issuesOf(() => parsePlan({ ...examplePlanObject, version }));

    // Assert
    expect(issues).toEqual([issue]);
  });

  it('requires hooks', () => {
    // Act
    const issues = issuesOf(() => parsePlan({ version: 1, checks: examplePlanObject.checks }));

    // Assert
    expect(issues).toEqual(['hooks: expected an object, got nothing']);
  });

  it.each([
    ['a bare number', 5, 'got 5'],
    ['words', '5 seconds', 'got "5 seconds"'],
    ['a negative', '-1s', 'got "-1s"'],
  ])('rejects a duration given as %s, naming the field', (_name, interval, got) => {
    // Act
    const issues = issuesOf(() => parsePlan(withCheck({ interval })));

    // Assert
    expect(issues).toEqual([`checks.green-health.interval: expected a duration such as 500ms, 5s, 2m or 1h, ${got}`]);
  });

  it('rejects a timeout of zero', () => {
    // Act
    const issues = issuesOf(() => parsePlan(withCheck({ timeout: '0s' })));

    // Assert
    expect(issues).toEqual(['checks.green-health.timeout: must be more than 0']);
  });

  it('rejects consecutiveSuccesses greater than count', () => {
    // Act
    const issues = issuesOf(() => parsePlan(withCheck({ count: 3, consecutiveSuccesses: 4 })));

    // Assert
    expect(issues).toEqual(['checks.green-health.consecutiveSuccesses: cannot exceed count (3)']);
  });

  it('rejects a check name with characters outside the allowed set', () => {
    // Act
    const issues = issuesOf(() =>
      parsePlan({ version: 1, hooks: {}, checks: { 'green health': { type: 'http', url: 'http://x/' } } }),
    );

    // Assert
    expect(issues).toEqual([expect.stringMatching(/^checks\.green health: check names use letters/)]);
  });

  it('reports several problems at once, each with its field', () => {
    // Act
    const issues = issuesOf(() =>
      parsePlan({
        hooks: { Nope: ['green-health'] },
        checks: {
          'green-health': { type: 'http', url: '{{nope}}', count: -1, expect: { status: [700] } },
          other: { type: 'smtp' },
        },
      }),
    );

    // Assert
    expect(issues).toEqual(
      expect.arrayContaining([
        'version: expected 1, got nothing',
        expect.stringContaining('checks.green-health.url: unknown placeholder {{nope}}'),
        'checks.green-health.count: must be at least 1, got -1: a check passes only on a measurement that passed',
        expect.stringContaining('checks.green-health.expect.status[0]: expected an integer 100-599'),
        expect.stringContaining('checks.other.type: unknown check type "smtp"'),
        expect.stringContaining('hooks.Nope: unknown hook or stage'),
      ]),
    );
    expect(issues).toHaveLength(6);
  });

  it('puts every issue in the error message', () => {
    // Act
    const error = (() => {
      try {
        parsePlan({ hooks: {}, checks: { a: { type: 'smtp' } } });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();

    // Assert
    expect(error?.message).toBe(
      'invalid plan: version: expected 1, got nothing; checks.a.type: unknown check type "smtp" (expected one of: http, ecs-service, ecs-tasks, target-health, cloudwatch-alarms, cloudwatch-metric, lambda-invoke, compare, prometheus, datadog)',
    );
  });

  describe('policy', () => {
    it('applies the defaults when a check sets nothing', () => {
      // Act
      const plan = parsePlan({ version: 1, hooks: {}, checks: { a: { type: 'http', url: 'http://x/' } } });

      // Assert
      expect(plan.checks.a?.policy).toEqual(defaultPolicy);
    });

    it('reads every policy field of a check', () => {
      // Act: under no hook, so that neither dryRun nor the long schedule meets a hook's rules
      const plan = parsePlan(
        withCheck(
          {
            initialDelay: '500ms',
            count: 10,
            interval: '2m',
            timeout: '1.5s',
            failureLimit: 2,
            consecutiveErrorLimit: 3,
            consecutiveSuccesses: 4,
            inconclusiveLimit: 5,
            dryRun: true,
          },
          { hooks: {} },
        ),
      );

      // Assert
      expect(plan.checks['green-health']?.policy).toEqual({
        initialDelayMs: 500,
        count: 10,
        intervalMs: 120_000,
        timeoutMs: 1500,
        failureLimit: 2,
        consecutiveErrorLimit: 3,
        consecutiveSuccesses: 4,
        inconclusiveLimit: 5,
        dryRun: true,
      });
    });

    it('takes plan-wide defaults, which a check overrides', () => {
      // Act
      const plan = parsePlan({
        version: 1,
        defaults: { timeout: '2s', failureLimit: 1 },
        hooks: {},
        checks: {
          a: { type: 'http', url: 'http://x/' },
          b: { type: 'http', url: 'http://x/', failureLimit: 0 },
        },
      });

      // Assert
      expect(plan.checks.a?.policy).toMatchObject({ timeoutMs: 2000, failureLimit: 1 });
      expect(plan.checks.b?.policy).toMatchObject({ timeoutMs: 2000, failureLimit: 0 });
    });

    it('names a misspelled field in defaults', () => {
      // Act
      const issues = issuesOf(() => parsePlan({ ...examplePlanObject, defaults: { timout: '2s' } }));

      // Assert
      expect(issues).toEqual([expect.stringContaining('defaults.timout: unknown field')]);
    });
  });
});

describe('checksForHook', () => {
  it('takes the checks of the hook’s own entry over the fallback', () => {
    // Arrange
    const plan = planWithHooks({ AfterAllowTestTraffic: ['a'], '*': ['b'] });

    // Act
    const { key, checks } = checksForHook(plan, 'AfterAllowTestTraffic');

    // Assert
    expect(key).toBe('AfterAllowTestTraffic');
    expect(checks.map((c) => c.name)).toEqual(['a']);
  });

  it('falls back to "*" for a hook without an entry', () => {
    // Arrange
    const plan = planWithHooks({ AfterAllowTestTraffic: ['a'], '*': ['a', 'b'] });

    // Act
    const { key, checks } = checksForHook(plan, 'BeforeInstall');

    // Assert
    expect(key).toBe('*');
    expect(checks.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it.each([
    ['PreTraffic', 'BeforeAllowTraffic'],
    ['PostTraffic', 'AfterAllowTraffic'],
  ])('uses the SAM alias %s for %s', (alias, hook) => {
    // Arrange
    const plan = planWithHooks({ [alias]: ['b'], '*': ['a'] });

    // Act
    const { key, checks } = checksForHook(plan, hook);

    // Assert
    expect(key).toBe(alias);
    expect(checks.map((c) => c.name)).toEqual(['b']);
  });

  it('issue 11: refuses a plan that maps a hook under both its name and its SAM alias', () => {
    // Act: before, the function ran one entry and `greenlight check --hook PreTraffic` the other
    const issues = issuesOf(() => planWithHooks({ PreTraffic: ['b'], BeforeAllowTraffic: ['a'] }));

    // Assert
    expect(issues).toEqual([
      "hooks.PreTraffic: PreTraffic is SAM's name for BeforeAllowTraffic, which the plan also maps: give the hook one entry",
    ]);
  });

  it.each([
    ['BeforeAllowTraffic', 'PreTraffic'],
    ['AfterAllowTraffic', 'PostTraffic'],
  ])('resolves %s and %s to the same entry, whichever name the plan uses', (hook, alias) => {
    for (const key of [hook, alias]) {
      // Arrange
      const plan = planWithHooks({ [key]: ['a'], '*': ['b'] });

      // Act + Assert
      expect(checksForHook(plan, hook)).toMatchObject({ key, checks: [{ name: 'a' }] });
      expect(checksForHook(plan, alias)).toMatchObject({ key, checks: [{ name: 'a' }] });
    }
  });

  it('throws a PlanError naming the hook and the keys the plan has when nothing applies', () => {
    // Arrange
    const plan = planWithHooks({ AfterAllowTestTraffic: ['a'], PreTraffic: ['b'] });

    // Act
    const issues = issuesOf(() => checksForHook(plan, 'BeforeInstall'));

    // Assert
    expect(issues).toEqual([
      'hooks: no entry for BeforeInstall and no "*" fallback (plan has: AfterAllowTestTraffic, PreTraffic)',
    ]);
  });

  it('says so when the plan has no hooks at all', () => {
    // Act
    const issues = issuesOf(() => checksForHook(planWithHooks({}), 'BeforeInstall'));

    // Assert
    expect(issues).toEqual(['hooks: no entry for BeforeInstall and no "*" fallback (plan has: no hooks)']);
  });

  it('gives zero checks for an explicit empty list, without falling back', () => {
    // Arrange
    const plan = planWithHooks({ BeforeInstall: [], '*': ['a'] });

    // Act
    const { key, checks } = checksForHook(plan, 'BeforeInstall');

    // Assert
    expect(key).toBe('BeforeInstall');
    expect(checks).toEqual([]);
  });
});

describe('plan reading edge cases', () => {
  it('rejects a YAML plan that defines the same check twice', async () => {
    const text =
      'version: 1\nhooks: {"*": [a]}\nchecks:\n  a: {type: http, url: "http://x"}\n  a: {type: http, url: "http://y"}\n';

    await expect(parsePlanText(text, 'plan.yaml')).rejects.toThrow(/duplicated mapping key/);
  });

  it('finds a BeforeAllowTraffic entry when asked for its SAM name PreTraffic', () => {
    const plan = parsePlan({
      version: 1,
      hooks: { BeforeAllowTraffic: ['a'] },
      checks: { a: { type: 'http', url: 'http://x' } },
    });

    expect(checksForHook(plan, 'PreTraffic').key).toBe('BeforeAllowTraffic');
  });
});

describe('evidence: what a plan must give a check to pass (issue 11)', () => {
  it('refuses count 0 on a check, naming the field', () => {
    expect(issuesOf(() => parsePlan(withCheck({ count: 0 })))).toEqual([
      'checks.green-health.count: must be at least 1, got 0: a check passes only on a measurement that passed',
    ]);
  });

  it('refuses count 0 in defaults, which would give it to every check', () => {
    // Act
    const issues = issuesOf(() => parsePlan({ ...examplePlanObject, defaults: { count: 0 } }));

    // Assert
    expect(issues).toContain(
      'defaults.count: must be at least 1, got 0: a check passes only on a measurement that passed',
    );
  });

  it('refuses a hook entry whose checks are all dryRun: nothing would decide', () => {
    // Act
    const issues = issuesOf(() => parsePlan(withCheck({ dryRun: true })));

    // Assert
    expect(issues).toContainEqual(
      expect.stringMatching(/^hooks\.AfterAllowTestTraffic: every check listed is dryRun, so nothing decides/),
    );
  });

  it('accepts an explicit empty entry: the plan says the hook needs no checks', () => {
    expect(checksForHook(planWithHooks({ BeforeInstall: [] }), 'BeforeInstall')).toEqual({
      key: 'BeforeInstall',
      checks: [],
    });
  });
});

describe('plan names are own properties (issue 11)', () => {
  it.each(['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf'])(
    'refuses "%s" listed under a hook when the plan has no such check',
    (name) => {
      // Act: before, `"*": ["toString"]` with no checks validated and failed at run time with a TypeError
      const issues = issuesOf(() => parsePlan({ version: 1, hooks: { '*': [name] }, checks: {} }));

      // Assert
      expect(issues).toEqual([`hooks.*[0]: unknown check "${name}" (plan has: no checks)`]);
    },
  );

  it.each(['toString', 'constructor', 'hasOwnProperty'])('runs a check named "%s" as any other check', (name) => {
    // Act
    const plan = parsePlan({
      version: 1,
      hooks: { '*': [name] },
      checks: { [name]: { type: 'http', url: 'http://a.example/health' } },
    });

    // Assert
    const { checks } = checksForHook(plan, 'AfterAllowTestTraffic');
    expect(checks.map((c) => [c.name, c.type])).toEqual([[name, 'http']]);
    expect(Object.keys(plan.checks)).toEqual([name]);
  });

  it('refuses "__proto__" as a check name without touching the prototype of the checks', () => {
    // Arrange: JSON.parse makes "__proto__" an own key, as a plan read from JSON has it
    const raw = JSON.parse(
      '{"version":1,"hooks":{"*":["__proto__"]},"checks":{"__proto__":{"type":"http","url":"http://a.example/"}}}',
    );

    // Act
    const issues = issuesOf(() => parsePlan(raw));

    // Assert
    expect(issues).toContainEqual(expect.stringMatching(/^checks\.__proto__: check names use letters/));
    expect(({} as Record<string, unknown>).type).toBeUndefined();
  });

  it.each(['toString', 'constructor', 'hasOwnProperty', '__proto__'])(
    'refuses "%s" as a hook name, and never resolves it',
    (name) => {
      // Arrange
      const raw = JSON.parse(
        `{"version":1,"hooks":{${JSON.stringify(name)}:["a"]},"checks":{"a":{"type":"http","url":"http://a.example/"}}}`,
      );

      // Act + Assert
      expect(issuesOf(() => parsePlan(raw))).toEqual([expect.stringMatching(/: unknown hook or stage/)]);
      expect(issuesOf(() => checksForHook(planWithHooks({ '*': ['a'] }), name))).toEqual([
        `hooks: ${JSON.stringify(name)} is not a hook or stage greenlight runs`,
      ]);
    },
  );

  it('resolves only own entries of a plan built by hand', () => {
    // Arrange: a Plan literal, whose records have Object.prototype
    const plan: Plan = { version: 1, hooks: { '*': ['toString'] }, checks: {} };

    // Act + Assert: a PlanError, not a TypeError
    expect(issuesOf(() => checksForHook(plan, 'BeforeInstall'))).toEqual(['hooks.*: unknown check "toString"']);
  });
});

describe('schedules that cannot fit their trigger (issue 11)', () => {
  it('refuses a 60-minute bake on a CodeDeploy hook, in minutes', () => {
    // Act
    const issues = issuesOf(() =>
      parsePlan({
        version: 1,
        hooks: { AfterAllowTestTraffic: ['bake'] },
        checks: { bake: { type: 'http', url: 'http://a.example/', count: 61, interval: '1m' } },
      }),
    );

    // Assert
    expect(issues).toEqual([
      'hooks.AfterAllowTestTraffic: the schedule can take up to 60.2 min (bake), longer than the 59 min codedeploy-hook allows: CodeDeploy waits at most an hour for a hook (a schedule longer than one invocation runs on a Lambda durable execution; a minute is kept to read the deployment and report); shorten count, interval or initialDelay',
    ]);
  });

  it('counts retried errors in the schedule: count × (consecutiveErrorLimit + 1) measurements', () => {
    // Act: 20 measurements a minute apart fit; each retried up to twice they may not
    const issues = issuesOf(() =>
      parsePlan({
        version: 1,
        hooks: { PreTraffic: ['bake'] },
        checks: {
          bake: { type: 'http', url: 'http://a.example/', count: 20, interval: '1m', consecutiveErrorLimit: 2 },
        },
      }),
    );

    // Assert
    expect(issues).toEqual([
      expect.stringMatching(
        /^hooks\.PreTraffic: the schedule can take up to 59\.2 min \(bake, retries of errors included\)/,
      ),
    ]);
  });

  it('accepts the same bake on an ECS stage, which carries the analysis across invocations', () => {
    // Act
    const plan = parsePlan({
      version: 1,
      hooks: { POST_TEST_TRAFFIC_SHIFT: ['bake'] },
      checks: { bake: { type: 'http', url: 'http://a.example/', count: 61, interval: '1m' } },
    });

    // Assert
    expect(Object.keys(plan.hooks)).toEqual(['POST_TEST_TRAFFIC_SHIFT']);
  });

  it('leaves "*" to the trigger that falls back to it (a plan cannot say which function runs it)', () => {
    expect(() =>
      parsePlan({
        version: 1,
        hooks: { '*': ['bake'] },
        checks: { bake: { type: 'http', url: 'http://a.example/', count: 61, interval: '1m' } },
      }),
    ).not.toThrow();
  });
});

describe('evidence from green: the test listener reaches blue before test traffic moves', () => {
  const plan = (hook: string) => ({
    version: 1,
    hooks: { [hook]: ['green-health'] },
    checks: { 'green-health': { type: 'http', url: '{{testListenerUrl}}/health' } },
  });

  it.each(['BeforeInstall', 'AfterInstall', 'RECONCILE_SERVICE', 'PRE_SCALE_UP', 'POST_SCALE_UP'])(
    'refuses a check probing {{testListenerUrl}} mapped to %s, where it would measure blue',
    (hook) => {
      const issues = issuesOf(() => parsePlan(plan(hook)));
      expect(issues).toEqual([expect.stringMatching(/\{\{testListenerUrl\}\} does not reach green at/)]);
    },
  );

  it.each([
    'AfterAllowTestTraffic',
    'BeforeAllowTraffic',
    'PreTraffic',
    'AfterAllowTraffic',
    'TEST_TRAFFIC_SHIFT',
    'POST_TEST_TRAFFIC_SHIFT',
    'ReadyWait',
  ])('accepts it at %s, where the test listener reaches green', (hook) => {
    expect(() => parsePlan(plan(hook))).not.toThrow();
  });
});

describe('deeply nested plans', () => {
  it('refuses a JSON plan nested 3,000 levels deep with a plan error, not a stack overflow', async () => {
    const deep = `${'['.repeat(3000)}${']'.repeat(3000)}`;
    const text = `{"version":1,"hooks":{"*":[]},"checks":{},"description":${deep}}`;

    const issues = await issuesOfAsync(parsePlanText(text, 'plan.json'));

    expect(issues).toEqual(['plan: nested deeper than 64 levels']);
  });
});
