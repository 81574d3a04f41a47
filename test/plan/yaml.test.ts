import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import * as jsYaml from 'js-yaml';
import { CORE_SCHEMA, type DumpOptions, dump, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { checkGuard, parseYaml, YamlError } from '../../lib/plan/yaml.ts';
import { codeBlocks } from '../docs/docs.ts';

// The plan reader is js-yaml with the YAML 1.2 core schema, behind a guard that refuses what a plan must
// not use. These tests pin that contract: what it reads (as the core schema does), what it refuses and
// where (line and column), and that a JSON plan never loads it.

const root = new URL('../../', import.meta.url).pathname;

function read(text: string): Promise<unknown> {
  return parseYaml(text, 'plan.yaml');
}

/** What js-yaml's core schema alone (no guard) makes of the text, or its error. */
function coreSchema(text: string): { value: unknown } | { error: string } {
  try {
    return { value: load(text, { schema: CORE_SCHEMA }) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Expects the reader to agree with the core schema: the same value, or both failing (with a position). */
async function expectAsCoreSchema(text: string): Promise<void> {
  const expected = coreSchema(text);
  if ('value' in expected) expect(await read(text)).toStrictEqual(expected.value);
  else await expect(read(text)).rejects.toThrow(/^plan\.yaml:\d+:\d+: /);
}

/** The message the reader rejects the text with. */
async function refusal(text: string, source = 'plan.yaml'): Promise<string> {
  const error = await parseYaml(text, source).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(YamlError);
  return (error as YamlError).message;
}
function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, suffix);
    return name.endsWith(suffix) ? [path] : [];
  });
}

/** The text of a JavaScript string literal body (the escapes tests use). */
function stringValue(body: string): string {
  return body.replace(/\\(u\{[\da-fA-F]+\}|u[\da-fA-F]{4}|x[\da-fA-F]{2}|[\s\S])/g, (_all, e: string) => {
    if (e.startsWith('u{')) return String.fromCodePoint(Number.parseInt(e.slice(2, -1), 16));
    if (e.length > 1) return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    return { n: '\n', t: '\t', r: '\r', '0': '\0' }[e] ?? e;
  });
}

/** Plans written into the tests and the CLI as string literals; `${...}` becomes a plain word. */
function embeddedPlans(): string[] {
  const files = [...filesUnder(join(root, 'test'), '.ts'), ...filesUnder(join(root, 'cli'), '.ts')].filter(
    (file) => !file.endsWith('yaml.test.ts'),
  );
  const plans: string[] = [];
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const [, body = ''] of source.matchAll(/`((?:[^`\\]|\\[\s\S])*)`/g)) {
      if (!body.includes('version: 1')) continue;
      plans.push(stringValue(body.replace(/\$\{[^}]*\}/g, 'x1')));
    }
    for (const [, body = ''] of source.matchAll(/'((?:[^'\\\n]|\\.)*)'/g)) {
      if (body.includes('version: 1')) plans.push(stringValue(body));
    }
  }
  return [...new Set(plans)];
}

describe('parseYaml reads plans as the YAML 1.2 core schema does', () => {
  // Every yaml block of README.md, SECURITY.md and docs/*.md, named by where it is written.
  const blocks = codeBlocks('yaml').map((b) => [`${b.file}:${b.line}`, b.body] as const);
  const plans = blocks.filter(([, b]) => b.startsWith('version:') || b.includes('type:'));

  it('finds the plans of the docs and the plans in the tests', () => {
    expect(plans.length).toBeGreaterThanOrEqual(15);
    expect(embeddedPlans().length).toBeGreaterThanOrEqual(15);
  });

  it.each(blocks)('reads the yaml block at %s as the core schema does (or both fail)', async (_at, text) => {
    await expectAsCoreSchema(text);
  });

  it.each(plans)('reads the plan at %s', async (_at, text) => {
    expect(await read(text)).toStrictEqual(load(text, { schema: CORE_SCHEMA }));
  });

  it('reads the rehearsal plan', async () => {
    const text = readFileSync(join(root, 'cli/rehearsal/plan.yaml'), 'utf8');
    expect(await read(text)).toStrictEqual(load(text, { schema: CORE_SCHEMA }));
  });

  it.each(embeddedPlans().map((p, i) => [i, p]))('reads embedded plan %i as the core schema does', async (_i, text) => {
    await expectAsCoreSchema(text);
  });

  it.each([
    // Block mappings and sequences.
    'a: 1\nb: two\nc:\n  d: [x, y]\n  e:\n    - 1\n    - f: g\n      h: i\n',
    'a:\n- b\n- c\nd: 1',
    '- a\n- b: 1\n  c: 2\n- - x\n  - y\n-\n  - z\n-\n- last',
    '- a:\n  b: 1',
    '- a:\n    b: 1',
    '- a:\n  - b\n  c: d',
    '  a: 1\n  b: 2',
    'a:\n  b:\n    c:\n      d: deep',
    'a: 1\n\n\nb: 2\n',
    'a:   \n  b',
    'a: x\n  y\n\n  z\n\n\nb: 1',
    '- a\n  - b',
    'a   : 1',
    '"a b": 1\n\'c\': 2\n"*": [x]\n"": empty',
    '1: a\n1.5: b\ntrue: c\nnull: d\n~: e\n0x10: f',
    'a:\tb\nc: d\t# tab before the comment',
    'a: b\r\nc: d\r\n',
    '\uFEFFa: 1',
    // Flow collections.
    'a: [a, "b", 3, [c, [d]], {e: f}]',
    'a: { a: 1, b: [x], "c": {d: e} }',
    'a: [a: 1, b]',
    'a: [{b}]',
    'a: {b, c: }',
    'a: {b: 1,}\nc: [1,]',
    'a: [\n  1,\n  2\n]',
    'a: {\n  "b": 1\n}',
    'a: [a\n  b, c]',
    'a: [a #comment\n , b]',
    'a: ["a":1, {"b":2}]',
    'a: {"b":1}',
    'a: [http://x/y?z=1, a:b, :c, -1, -x]',
    'a: []\nb: {}',
    '[a, b]',
    '{a: 1}',
    'a: [x]#c',
    // Scalars.
    'a: plain text with: colons and # hashes\nb: a#b\nc: x:y',
    'a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: ""',
    'a: true\nb: True\nc: TRUE\nd: false\ne: False\nf: FALSE\ng: yes\nh: no\ni: on\nj: tRUE',
    'a: 1\nb: -2\nc: +3\nd: 1.5\ne: .5\nf: 5.\ng: 1e3\nh: 1.5E-3\ni: 08\nj: 017\nk: 00\nl: -0\nm: -0.0\nn: 0.',
    'a: 0x1F\nb: 0o17\nc: 0x\nd: 0o\ne: 0xg\nf: 12e03\ng: .e3\nh: 1e3.5\ni: 1.2.3',
    'a: 1s\nb: 500ms\nc: 2xx\nd: 200-299\ne: 1_000\nf: 1_0.5\ng: 12345678901234567890',
    "a: 'it''s'\nb: 'a \"b\" #c'\nc: ''",
    'a: "\\" \\\\ \\n \\t \\u00e9 \\x41 \\U0001F600 \\/ \\0 \\a \\b \\e \\f \\r \\v \\N \\_ \\L \\P \\ "',
    'a: "\\ud83d\\ude00"',
    'a: "x\n  y\n\n  z"',
    "a: 'x\n  y\n\n\n  z'",
    'a: "x \\\n  y"',
    'a: "x   \n   y"',
    'a: "tab\there"',
    'a: "x"#c',
    'a: "x" # c',
    'a: é ü 日本',
    // Block scalars.
    'a: |\n  x\n  y\n\nb: >-\n  p\n  q\n',
    'a: |\n  x\n    \n  y',
    'a: |+\n  x\n    \n',
    'a: |\n  x',
    'a: |+\n  x',
    'a: >\n  x\n    \n  y',
    'a: >\n\n  x\n\n',
    'a: >+\n\n  x\n\n',
    'a: >\n  x\n\n   y\n  z',
    'a: >\n  one\n  two\n\n  three\n   indented\n  four\n\n\n',
    'a: |2-\n   x',
    'a: |-2\n   x',
    '|2\n   x\n  y',
    '- |2\n   x\n  y',
    '|1\n  x',
    '|1\n x\n  y',
    '--- |1\n  x',
    '- |1\n  x',
    '|1\n\n  x\n',
    'a:\n  - |1\n    x',
    'a: |  # c\n  x',
    'a:\n  |\n   x',
    '- |\n x\n- >\n y',
    'a: |+\n\n\nb: 1',
    'a: >+\n\n\nb: 1',
    'a: |-\n\n\nb: 1',
    'a: |\n  x\n # comment\nb: 1',
    'a: |\n  \tx',
    'a: |\n  # not a comment\n  x: y\n  [z]',
    'a: |',
    'a: >\n  folded\n  text\nb: |-\n  keep\n  lines\n',
    // Comments and documents.
    '# c\na: 1 # d\n# e\nb: # f\n  c # g\n',
    '---\na: 1',
    '--- # c\na: 1\n...\n',
    '--- |\n  x',
    '---',
    '---\n',
    'a: 1\n...\n# after\n',
    'just some text',
    'text\n  on two lines',
    '"quoted"',
    '',
    // Both fail.
    'a: [1',
    'a: {b: 1',
    "a: 'x",
    'a: "x',
    'a: 1\na: 2',
    'a: {b: 1, b: 2}',
    'a:\n\tb: 1',
    'a: 1\n b: 2',
    'a:\n    b: 1\n  c: 2',
    'a: b: c',
    'a: -',
    'a: - b',
    'a: "x" y',
    'a: [x] y',
    'a: [1,,2]',
    'a: |x',
    'a: |0\n x',
    'a: |\n    \n  x',
    'a: >\n   x\n  y',
    'a: |\n\n  x\n b: 1',
    'a: x #c\n  y',
    'a: *x',
    'a: !t 1',
    '---\na: 1\n---\nb: 1',
    'a: "\\q"',
    'a: "\\x4"',
    'a: {{x}}/h',
    'a: x\ny',
    'a\nb: 1',
    'a: 1\n- b',
    '- a\nb: 1',
    '"a":1',
    'a: "x"\n  y: 1',
    'a: \u0007',
  ])('reads %j as the core schema does', async (text) => {
    await expectAsCoreSchema(text);
  });
});

describe("parseYaml values (the core schema, not YAML 1.1 and not js-yaml's default schema)", () => {
  it.each([
    // Timestamps stay strings; yes/no/on/off are strings; binary, octal and hex are integers.
    ['a: 2024-01-01\nb: 2024-01-01T10:00:00Z', { a: '2024-01-01', b: '2024-01-01T10:00:00Z' }],
    ['a: yes\nb: no\nc: on\nd: off\ne: y', { a: 'yes', b: 'no', c: 'on', d: 'off', e: 'y' }],
    ['a: 0b101\nb: 0o17\nc: 0x1F\nd: -0x1F\ne: 017\nf: 08', { a: 5, b: 15, c: 31, d: -31, e: 17, f: 8 }],
    ['a: 1_000\nb: 1s\nc: 2xx\nd: 200-299', { a: '1_000', b: '1s', c: '2xx', d: '200-299' }],
    // A float out of range is no float: it stays a string (the plan's schema then asks for a number).
    ['a: 1e400\nb: [-1e999]', { a: '1e400', b: ['-1e999'] }],
    ['a: ~\nb: null\nc:\nd: ""', { a: null, b: null, c: null, d: '' }],
    // A document of only comments is null; no text at all is no document.
    ['# only a comment', null],
    ['---\n# c', null],
    ['', undefined],
    // What only looks like an anchor, alias, tag, key or merge key is text.
    [
      'a: x&y\nb: what?\nc: "&x"\nd: wow!\ne: 2*3\nf: x ? y\ng: "!t"\nh: \'*a\'\ni: a<<b\nj: "<<"\nk: [x?, "? y"]\nl: |\n  &not an anchor\n  !not a tag\n',
      {
        a: 'x&y',
        b: 'what?',
        c: '&x',
        d: 'wow!',
        e: '2*3',
        f: 'x ? y',
        g: '!t',
        h: '*a',
        i: 'a<<b',
        j: '<<',
        k: ['x?', '? y'],
        l: '&not an anchor\n!not a tag\n',
      },
    ],
    ['url: "{{testListenerUrl}}/health"\nb: [\'{{x}}\']', { url: '{{testListenerUrl}}/health', b: ['{{x}}'] }],
    // The YAML 1.2 directive, and a closing bracket left of its flow (js-yaml warns, the meaning is plain).
    ['%YAML 1.2\n---\na: 1', { a: 1 }],
    ['a: [\n  1,\n  2\n]', { a: [1, 2] }],
  ])('reads %j as %j', async (text, expected) => {
    expect(await read(text)).toStrictEqual(expected);
  });
});

describe('parseYaml refusals, each at its line and column', () => {
  it.each([
    // What a plan must not use, even though YAML has it.
    ['a: &x 1', '1:4: anchors (&) are not supported'],
    ['&a b: 1', '1:1: anchors (&) are not supported'],
    ['a:\n  - &anchor\n    b: 1\n  - *anchor', '2:5: anchors (&) are not supported'],
    ['a: 1\nb: *x', '2:4: aliases (*) are not supported'],
    ['a: !!str 1', '1:4: tags (!) are not supported'],
    ['a: !!int 1', '1:4: tags (!) are not supported'],
    ['a: ! 1', '1:4: tags (!) are not supported'],
    ['a: [!x 1]', '1:5: tags (!) are not supported'],
    ['a: !<tag:yaml.org,2002:str> 1', '1:4: tags (!) are not supported'],
    ['b:\n  # c\n  !!map\n  c: 1', '3:3: tags (!) are not supported'],
    ['%TAG !e! tag:example.com,2000:\n---\na: !e!x 1', '3:4: tags (!) are not supported'],
    ['<<: {a: 1}', '1:1: merge keys (<<) are not supported'],
    ['a: {<<: {b: 1}}', '1:5: merge keys (<<) are not supported'],
    ['- <<: *x', '1:3: merge keys (<<) are not supported'],
    ['? a\n: 1', '1:1: explicit keys (?) are not supported'],
    ['a: 1\n? b\n: 2', '2:1: explicit keys (?) are not supported'],
    ['a: {? b: 1}', '1:5: explicit keys (?) are not supported'],
    ['? [a]\n: 1', '1:1: explicit keys (?) are not supported'],
    ['[a]: 1', '1:1: complex keys (a collection as a key) are not supported'],
    ['{a: 1}: b', '1:1: complex keys (a collection as a key) are not supported'],
    ['a:\n  {b: 1}: 2', '2:3: complex keys (a collection as a key) are not supported'],
    ['a: {[b]: 1}', '1:5: complex keys (a collection as a key) are not supported'],
    ['a: [[b]: 1]', '1:5: complex keys (a collection as a key) are not supported'],
    ['a: 1\n---\nb: 2', '3:1: several documents are not supported (one plan, one document)'],
    ['a: 1\n...\nb: 2', '3:1: several documents are not supported (one plan, one document)'],
    ['a: 1\n---\n', '3:1: several documents are not supported (one plan, one document)'],
    ['--- a\n--- b', '2:5: several documents are not supported (one plan, one document)'],
    ['a: .inf', '1:4: .inf is not supported (quote it for a string)'],
    ['a: [-.Inf]', '1:5: -.Inf is not supported (quote it for a string)'],
    ['a: .NaN', '1:4: .NaN is not supported (quote it for a string)'],
    ['url: {{testListenerUrl}}/health', '1:6: a value that starts with "{{" must be quoted'],
    ['url: {{testListenerUrl}}', '1:6: a value that starts with "{{" must be quoted'],
    ['a: [{{x}}]', '1:5: a value that starts with "{{" must be quoted'],
    ['%FOO bar\n---\na: 1', '2:1: unknown document directive "FOO"'],
    ['%YAML 1.3\n---\na: 1', '2:1: unsupported YAML version of the document'],
    // What YAML rejects too (js-yaml's words and position).
    ['version: 1\nchecks:\n  a: 1\n  a: 2', '4:3: duplicated mapping key'],
    ['a: {b: 1, "b": 2}', '1:11: duplicated mapping key'],
    ['1: a\n1.0: b', '2:1: duplicated mapping key'],
    ['a:\n\tb: 1', '2:1: tab characters must not be used in indentation'],
    ['a: 1\n  b: 2', '2:4: bad indentation of a mapping entry'],
    ["a: 'x", '2:1: unexpected end of the stream within a single quoted scalar'],
    ['a: "\\q"', '1:6: unknown escape sequence'],
    ['a: [1,,2]', "1:7: expected the node content, but found ','"],
    ['a: \u0007', '1:5: the stream contains non-printable characters'],
  ])('refuses %j at %s', async (text, expected) => {
    expect(await refusal(text)).toBe(
      `plan.yaml:${expected}`.replace(
        / must be quoted$/,
        ' must be quoted (YAML reads "{" as the start of a flow mapping)',
      ),
    );
  });

  it('puts the source first, then line and column, on one line', async () => {
    expect(await refusal('a: 1\na: 2', 'GREENLIGHT_PLAN')).toBe('GREENLIGHT_PLAN:2:1: duplicated mapping key');
  });

  it("gives the position as numbers too, and js-yaml's error as the cause", async () => {
    const error = await parseYaml('a: 1\n  b: 2', 'plan.yaml').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'YamlError', line: 2, column: 4 });
    expect((error as Error).cause).toMatchObject({ name: 'YAMLException' });
  });

  it('counts lines after CRLF line breaks and columns after a byte order mark', async () => {
    expect(await refusal('a: 1\r\nb: &x 1\r\n')).toBe('plan.yaml:2:4: anchors (&) are not supported');
    expect(await refusal('\uFEFFa: *x')).toBe('plan.yaml:1:4: aliases (*) are not supported');
  });

  it('caps nesting at 64 nodes, in flows and in blocks, without exhausting the stack', async () => {
    const block = (levels: number): string => Array.from({ length: levels }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(await read(`${'['.repeat(63)}${']'.repeat(63)}`)).toBeInstanceOf(Array);
    expect(await refusal(`${'['.repeat(64)}${']'.repeat(64)}`)).toBe('plan.yaml:1:64: nesting exceeded maxDepth (64)');
    expect(await read(block(63))).toBeInstanceOf(Object);
    expect(await refusal(block(64))).toBe('plan.yaml:64:64: nesting exceeded maxDepth (64)');
    expect(await refusal('['.repeat(100_000))).toContain('nesting exceeded maxDepth (64)');
  });

  it('keeps __proto__ as an own key and leaves the prototype alone', async () => {
    const value = (await read('__proto__: {polluted: true}\nb: {__proto__: 1}')) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(value.b as object, '__proto__')).toBe(true);
  });
});

describe('loading the YAML reader', () => {
  it('holds on the installed js-yaml', () => {
    expect(() => checkGuard(jsYaml)).not.toThrow();
  });

  it('fails closed on a js-yaml the guard cannot watch (a release that no longer calls the listener)', () => {
    const deaf = {
      ...jsYaml,
      load: (text: string, options?: jsYaml.LoadOptions) => load(text, { ...options, listener: () => {} }),
    };

    expect(() => checkGuard(deaf as typeof jsYaml)).toThrow('the plan reader cannot refuse anchors with this js-yaml');
  });

  it('does not load js-yaml for a JSON plan, and loads it for a YAML plan', () => {
    // A fresh process records every module it resolves while it parses a JSON plan, then a YAML plan.
    const script = `
      import { registerHooks } from 'node:module';
      const resolved = [];
      registerHooks({ resolve(specifier, context, next) { resolved.push(specifier); return next(specifier, context); } });
      const { parsePlanText } = await import(${JSON.stringify(join(root, 'lib/plan/schema.ts'))});
      const plan = '{"version": 1, "hooks": {"*": ["a"]}, "checks": {"a": {"type": "http", "url": "http://x/"}}}';
      await parsePlanText(plan, 'plan.json');
      const afterJson = resolved.includes('js-yaml');
      await parsePlanText('version: 1\\nhooks: {}\\n', 'plan.yaml');
      console.log(JSON.stringify({ afterJson, afterYaml: resolved.includes('js-yaml') }));
    `;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ afterJson: false, afterYaml: true });
  });
});

describe('parseYaml reads what js-yaml dump writes', () => {
  /** A small seeded generator (xorshift32), so that failures reproduce. */
  function random(seed: number): () => number {
    let x = seed || 1;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
  }

  const tricky = [
    '',
    ' ',
    'null',
    '~',
    'true',
    'False',
    'yes',
    'no',
    'on',
    '1s',
    '08',
    '1_000',
    '0x1F',
    '.5',
    '-',
    '- a',
    'a: b',
    '#x',
    'x #y',
    '{{a}}/b',
    '2024-01-01',
    '.inf',
    '<<',
    '*',
    '&a',
    '!t',
    '? x',
    '|',
    '>',
    '%',
    '@',
    '"',
    "'",
    '---',
    '...',
    ' leading',
    'trailing ',
    'line\n',
    '\nline',
    'two\nlines',
    'two\n\nparagraphs\n',
    ' indented\nfirst',
    'tab\there',
    'back\\slash',
    'é ü 日本 😀',
    'a long line of words that js-yaml folds when the line width is small enough to make it fold',
  ];
  const alphabet = 'ab Z09:#-?[]{},"\'\n\t\\é*&!|>%@`.~ ';

  function value(next: () => number, depth: number): unknown {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const roll = next();
    if (depth < 4 && roll < 0.2) {
      return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
    }
    if (depth < 4 && roll < 0.4) {
      const map: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 4); i > 0; i--) map[key(next)] = value(next, depth + 1);
      return map;
    }
    if (roll < 0.45) return null;
    if (roll < 0.5) return next() < 0.5;
    if (roll < 0.55) return Math.floor((next() - 0.5) * 2_000_000);
    if (roll < 0.6) return pick([0.5, -1.25, 1e21, 1.5e-7, 2.5, 100.0, -0.001]);
    if (roll < 0.75) return pick(tricky);
    return Array.from({ length: Math.floor(next() * 12) }, () => pick([...alphabet])).join('');
  }

  function key(next: () => number): string {
    const text = value(next, 99);
    return typeof text === 'string' ? text : String(text);
  }

  const variants: DumpOptions[] = [
    {},
    { flowLevel: 0 },
    { flowLevel: 1 },
    { flowLevel: 2 },
    { lineWidth: 20 },
    { lineWidth: -1 },
    { quotingType: '"' },
    { forceQuotes: true },
    { noArrayIndent: true },
    { indent: 4 },
    { noCompatMode: true },
    { condenseFlow: true, flowLevel: 1 },
  ];

  // js-yaml's dump sometimes writes what YAML (and its own load) reads otherwise, e.g. a plain `a:{b}`
  // in a flow: there parseYaml must agree with the core schema's load, and everywhere else give the original.
  it.each(variants.map((options, i) => [JSON.stringify(options), options, i]))(
    'round-trips 300 random values dumped with %s',
    async (_name, options, i) => {
      const next = random(0x9e3779b9 + i);
      let exact = 0;
      for (let n = 0; n < 300; n++) {
        const original = { v: value(next, 0) };
        const text = dump(original, options as DumpOptions);
        const expected = coreSchema(text);
        if ('error' in expected) {
          await expect(read(text), text).rejects.toThrow(/^plan\.yaml:\d+:\d+: /);
          continue;
        }
        let back: unknown;
        try {
          back = await read(text);
        } catch (error) {
          throw new Error(`${(error as Error).message}\n--- text ---\n${text}`);
        }
        expect(back, text).toStrictEqual(expected.value);
        if (isDeepStrictEqual(back, original)) exact++;
      }
      expect(exact).toBeGreaterThanOrEqual(200);
    },
  );
});
