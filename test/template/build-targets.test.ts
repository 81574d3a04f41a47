import { describe, expect, it } from 'vitest';
import { BuildTargetsError, buildTargets, entryPoint, readBuildTargets } from '../../local/build-targets.ts';

const makefile = (...targets: string[]) =>
  ['NODE := node_modules/.bin/node', 'BUILD = $(NODE) scripts/build.ts', '', ...targets].join('\n');

describe('the Makefile read as LogicalId to function folder', () => {
  it('reads each build-<LogicalId> target and the folder its $(BUILD) recipe names', () => {
    const targets = buildTargets(
      makefile(
        'build-CodeDeployHookFunction:',
        '\t$(BUILD) codedeploy-hook',
        '',
        'build-EcsPauseGateFunction:',
        '\t$(BUILD)  ecs-pause-gate',
      ),
    );

    expect([...targets]).toEqual([
      ['CodeDeployHookFunction', 'codedeploy-hook'],
      ['EcsPauseGateFunction', 'ecs-pause-gate'],
    ]);
    expect(entryPoint('codedeploy-hook')).toBe('functions/codedeploy-hook/index.ts');
  });

  it('ignores other rules and variables, and reads CRLF line ends', () => {
    const text = makefile('.PHONY: build-A', 'clean:', '\trm -rf dist', 'build-A:', '\t$(BUILD) a').replace(
      /\n/g,
      '\r\n',
    );

    expect([...buildTargets(text)]).toEqual([['A', 'a']]);
  });

  it.each([
    ['no recipe', makefile('build-A:', '')],
    ['a recipe of two lines', makefile('build-A:', '\t$(BUILD) a', '\techo done')],
    ['a recipe that is not $(BUILD) <folder>', makefile('build-A:', '\tnode scripts/build.ts a')],
    ['a folder that is not a folder name', makefile('build-A:', '\t$(BUILD) ../a')],
    ['a target written twice', makefile('build-A:', '\t$(BUILD) a', 'build-A:', '\t$(BUILD) b')],
    ['a folder built by two targets', makefile('build-A:', '\t$(BUILD) a', 'build-B:', '\t$(BUILD) a')],
  ])('refuses %s, naming the line', (_case, text) => {
    expect(() => buildTargets(text)).toThrow(BuildTargetsError);
    expect(() => buildTargets(text)).toThrow(/^Makefile line \d+: build-|^Makefile line \d+: a is built/);
  });

  it("reads the project's Makefile: a target for every function folder", async () => {
    const targets = await readBuildTargets();

    expect(targets.get('CodeDeployHookFunction')).toBe('codedeploy-hook');
    expect(targets.get('DurableAnalysisFunction')).toBe('durable-analysis');
  });
});
