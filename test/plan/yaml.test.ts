import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type DumpOptions, dump, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../lib/plan/yaml.ts';

const root = new URL('../../', import.meta.url).pathname;

function read(text: string): unknown {
  return parseYaml(text, 'plan.yaml');
}

/** What js-yaml makes of the text, or its error. */
function jsYaml(text: string): { value: unknown } | { error: string } {
  try {
    return { value: load(text) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Expects `parseYaml` to agree with js-yaml: the same value, or both failing. */
function expectSameAsJsYaml(text: string): void {
  const expected = jsYaml(text);
  if ('value' in expected) expect(read(text)).toStrictEqual(expected.value);
  else expect(() => read(text)).toThrow(/^plan\.yaml:\d+:\d+: /);
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

function readmeBlocks(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map(([, body = '']) => body);
}

describe('parseYaml against js-yaml', () => {
  const readme = readmeBlocks();
  const plans = readme.filter((b) => b.startsWith('version:') || b.includes('type:'));

  it('finds the README plans and the plans in the tests', () => {
    expect(plans.length).toBeGreaterThanOrEqual(5);
    expect(embeddedPlans().length).toBeGreaterThanOrEqual(15);
  });

  it.each(readme.map((b, i) => [i, b]))('reads README yaml block %i as js-yaml does (or both fail)', (_i, text) => {
    expectSameAsJsYaml(text);
  });

  it.each(plans.map((b, i) => [i, b]))('reads README plan %i', (_i, text) => {
    expect(read(text)).toStrictEqual(load(text));
  });

  it('reads the rehearsal plan', () => {
    const text = readFileSync(join(root, 'cli/rehearsal/plan.yaml'), 'utf8');
    expect(read(text)).toStrictEqual(load(text));
  });

  it.each(embeddedPlans().map((p, i) => [i, p]))('reads embedded plan %i as js-yaml does', (_i, text) => {
    expectSameAsJsYaml(text);
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
  ])('reads %j as js-yaml does', (text) => {
    expectSameAsJsYaml(text);
  });
});

describe('parseYaml where it differs from js-yaml on purpose', () => {
  it.each([
    // YAML 1.2 core schema: timestamps are strings, binary is not a number, signs are for decimals only.
    ['a: 2024-01-01', { a: '2024-01-01' }],
    ['a: 2024-01-01T10:00:00Z', { a: '2024-01-01T10:00:00Z' }],
    ['a: 0b101', { a: '0b101' }],
    ['a: -0x1F', { a: '-0x1F' }],
    ['a: +0x1', { a: '+0x1' }],
    ['a: +.5\nb: -.5\nc: -.5e1', { a: 0.5, b: -0.5, c: -5 }],
    // A document of only comments is no document, as the empty text is.
    ['# only a comment', undefined],
    ['   \n\n', undefined],
    ['---\n# c', null],
  ])('reads %j as %j', (text, expected) => {
    expect(read(text)).toStrictEqual(expected);
  });
});

describe('parseYaml errors', () => {
  it.each([
    // What is not supported, even though js-yaml reads it.
    ['a: &x 1', '1:4: anchors (&) are not supported'],
    ['a: 1\nb: *x', '2:4: aliases (*) are not supported'],
    ['a: !!str 1', '1:4: tags (!) are not supported'],
    ['a: [!x 1]', '1:5: tags (!) are not supported'],
    ['&a b: 1', '1:1: anchors (&) are not supported'],
    ['? a\n: 1', '1:1: complex keys (?) are not supported'],
    ['a: {? b: 1}', '1:5: complex keys (?) are not supported'],
    ['[a]: 1', '1:1: complex keys are not supported'],
    ['a:\n  {b: 1}: 2', '2:3: complex keys are not supported'],
    ['a: {[b]: 1}', '1:5: complex keys are not supported'],
    ['a: [[b]: 1]', '1:5: complex keys are not supported'],
    ['%YAML 1.2\n---\na: 1', '1:1: directives (%) are not supported'],
    ['a: 1\n---\nb: 2', '2:1: multiple documents are not supported'],
    ['a: 1\n...\nb: 2', '3:1: multiple documents are not supported'],
    ['<<: {a: 1}', '1:1: merge keys (<<) are not supported'],
    ['a: {<<: {b: 1}}', '1:5: merge keys (<<) are not supported'],
    ['a: .inf', '1:4: .inf is not supported (quote it for a string)'],
    ['a: [-.Inf]', '1:5: -.Inf is not supported (quote it for a string)'],
    ['a: .NaN', '1:4: .NaN is not supported (quote it for a string)'],
    ['a: 1e400', '1:4: 1e400 is out of range'],
    ['a: [-1e999]', '1:5: -1e999 is out of range'],
    // What YAML rejects too.
    ['version: 1\nchecks:\n  a: 1\n  a: 2', '4:3: duplicated mapping key "a"'],
    ['a: {b: 1, "b": 2}', '1:11: duplicated mapping key "b"'],
    ['1: a\n1.0: b', '2:1: duplicated mapping key "1"'],
    ['a:\n\tb: 1', '2:1: tab characters must not be used in indentation'],
    ['a:\n  b: 1\n  \tc: 2', '3:3: tab characters must not be used in indentation'],
    ['a:\n    b: 1\n  c: 2', "3:3: bad indentation (the mapping's keys are at column 1)"],
    ['  a: 1\nb: 2', '2:1: expected the end of the document (check the indentation)'],
    ['a: 1\n  b: 2', '2:4: unexpected ": " in a plain value (quote the value, or check the indentation)'],
    ['a: b: c', '1:5: unexpected ": " in a plain value (quote the value, or check the indentation)'],
    ['a: x # c\n  y', "2:3: bad indentation (the mapping's keys are at column 1)"],
    ['a: -', '1:4: a sequence entry cannot start here'],
    ['a: - b', '1:4: a sequence entry cannot start here'],
    ['a: 1\n- b', '2:1: expected a mapping key, found a sequence entry'],
    ['- a\nb: 1', '2:1: expected the end of the document (check the indentation)'],
    ['a\nb: 1', '2:2: unexpected ": " in a plain value (quote the value, or check the indentation)'],
    ['a: 1\nb', '2:2: expected ": " after a mapping key'],
    ['a: 1\nb:c', '2:4: expected ": " after a mapping key'],
    ['a: 1\n: b', '2:1: a mapping key is missing before ":"'],
    ['"a":1', '1:4: unexpected ":" after a value'],
    ['"a\nb": 1', '1:1: a mapping key must be on one line'],
    ['version: 1\nchecks: [unclosed', '2:9: unterminated flow sequence'],
    ['a: {b: [1, 2}', '1:13: expected "," or "]" in a flow sequence'],
    ['a: {b: 1', '1:4: unterminated flow mapping'],
    ['a: {b: 1 c: 2}', '1:11: expected "," or "}" in a flow mapping'],
    ['a: [1,,2]', '1:7: unexpected ","'],
    ['a: [-]', '1:5: a sequence entry cannot start here'],
    ['a: ]', '1:4: unexpected "]"'],
    ['a: @x', '1:4: a plain value cannot start with "@"; quote it'],
    ['a: `x`', '1:4: a plain value cannot start with "`"; quote it'],
    ['a: %x', '1:4: a plain value cannot start with "%"; quote it'],
    ["a: 'x\n\nb: 1", '1:4: unterminated single-quoted string'],
    ['a: "x', '1:4: unterminated double-quoted string'],
    ['a: "x" y', '1:8: unexpected "y" after a value'],
    ['a: [x] y', '1:8: unexpected "y" after a value'],
    ['a: "\\q"', '1:5: invalid escape \\q'],
    ['a: "\\x4"', '1:5: invalid escape \\x4"'],
    ['a: "\\UFFFFFFFF"', '1:5: invalid escape \\UFFFFFFFF'],
    ['a: |x', '1:5: invalid block scalar header (expected | or > with an optional 1-9 and - or +)'],
    ['a: |0\n x', '1:5: invalid block scalar header (expected | or > with an optional 1-9 and - or +)'],
    ['a: | x', '1:6: unexpected "x" after a block scalar header'],
    ['a: |\n    \n  x', '3:1: a leading blank line has more spaces than the block scalar'],
    ['a: |\n  x\n # c\n  y', "4:3: bad indentation (the mapping's keys are at column 1)"],
    ['a: [\n---\n]', '2:1: document marker inside a flow collection'],
    ['a: "\n---\n"', '2:1: document marker inside a quoted string'],
    ['url: {{testListenerUrl}}/health', '1:6: a value that starts with "{{" must be quoted'],
    ['a: [{{x}}]', '1:5: a value that starts with "{{" must be quoted'],
    ['a: \u0007', '1:4: control characters are not allowed'],
    ['a: "\u0000"', '1:5: control characters are not allowed'],
  ])('rejects %j at %s', (text, expected) => {
    expect(() => read(text)).toThrow(`plan.yaml:${expected}`);
  });

  it('puts the source first, then line and column', () => {
    expect(() => parseYaml('a: 1\na: 2', 'GREENLIGHT_PLAN')).toThrow(
      /^GREENLIGHT_PLAN:2:1: duplicated mapping key "a"$/,
    );
  });

  it('counts lines after CRLF line breaks and columns after a byte order mark', () => {
    expect(() => read('a: 1\r\nb: [x\r\n')).toThrow('plan.yaml:2:4: unterminated flow sequence');
    expect(() => read('\uFEFFa: *x')).toThrow('plan.yaml:1:4: aliases (*) are not supported');
  });

  it('caps nesting at 64 levels, in flows and in blocks', () => {
    expect(read(`${'['.repeat(64)}${']'.repeat(64)}`)).toBeInstanceOf(Array);
    expect(() => read(`${'['.repeat(65)}${']'.repeat(65)}`)).toThrow(
      'plan.yaml:1:65: nesting is deeper than 64 levels',
    );
    const block = (levels: number): string => Array.from({ length: levels }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(() => read(block(64))).not.toThrow();
    expect(() => read(block(65))).toThrow('plan.yaml:65:65: nesting is deeper than 64 levels');
    expect(() => read(`${'- '.repeat(65)}x`)).toThrow('plan.yaml:1:129: nesting is deeper than 64 levels');
    expect(() => read('['.repeat(100_000))).toThrow('nesting is deeper than 64 levels');
  });

  it('keeps __proto__ as an own key and leaves the prototype alone', () => {
    const value = read('__proto__: {polluted: true}\nb: {__proto__: 1}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(value.b as object, '__proto__')).toBe(true);
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
  // in a flow: there parseYaml must agree with js-yaml's load, and everywhere else give the original.
  it.each(variants.map((options, i) => [JSON.stringify(options), options, i]))(
    'round-trips 300 random values dumped with %s',
    (_name, options, i) => {
      const next = random(0x9e3779b9 + i);
      let exact = 0;
      for (let n = 0; n < 300; n++) {
        const original = { v: value(next, 0) };
        const text = dump(original, options as DumpOptions);
        const expected = jsYaml(text);
        if ('error' in expected) {
          expect(() => read(text), text).toThrow(/^plan\.yaml:\d+:\d+: /);
          continue;
        }
        let back: unknown;
        try {
          back = read(text);
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
