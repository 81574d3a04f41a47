import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../lib/plan/schema.ts';
import { describe as describeValue, echo, Fields, formatDuration, join, parseDuration } from '../../lib/spec/fields.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    [' 3s ', 3000],
    ['0s', 0],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', 's', '5 s', '5sec', '-1s', '1d', '1e3ms', '5S'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [3_600_000, '1h'],
    [120_000, '2m'],
    [5000, '5s'],
    [1500, '1500ms'],
    [0, '0ms'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('join', () => {
  it.each<[string, string | number, string]>([
    ['', 'checks', 'checks'],
    ['checks', 'a', 'checks.a'],
    ['checks.a.expect.status', 0, 'checks.a.expect.status[0]'],
  ])('joins %j and %j as %j', (path, key, joined) => {
    expect(join(path, key)).toBe(joined);
  });
});

describe('describe', () => {
  it.each<[unknown, string]>([
    [undefined, 'nothing'],
    [null, 'null'],
    [[1], 'a list'],
    [{}, 'an object'],
    ['abc', 'a string of 3 characters'],
    ['x', 'a string of 1 character'],
    ['', 'an empty string'],
    [42, 'a number'],
    [true, 'true'],
  ])('describes %j as %s, never quoting what it holds', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});

describe('echo', () => {
  it.each<[unknown, string]>([
    ['5 sec', '"5 sec"'],
    [42, '42'],
    [{}, 'an object'],
  ])('shows %j, for fields whose values are never secret, as %s', (value, text) => {
    expect(echo(value)).toBe(text);
  });

  it('shortens a long string', () => {
    expect(echo('x'.repeat(100))).toBe(`"${'x'.repeat(40)}…"`);
  });
});

describe('plan errors never quote a value that may be a credential', () => {
  const secretish = 'sk-live-4f1d9a7c2b8e6035a1b2';
  const planIssues = (check: Record<string, unknown>): string => {
    try {
      parsePlan({ version: 1, hooks: { '*': ['a'] }, checks: { a: { type: 'http', ...check } } });
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected a plan error');
  };

  it.each<[string, Record<string, unknown>, string]>([
    [
      'headers written as a string',
      { url: 'https://a.example/', headers: `X-Api-Key: ${secretish}` },
      'checks.a.headers: expected an object, got a string of 39 characters',
    ],
    [
      'a header value written as a number',
      { url: 'https://a.example/', headers: { 'X-Pin': 73_519_402 } },
      'checks.a.headers.X-Pin: expected a string, got a number',
    ],
    [
      'a URL written as a list',
      { url: [`https://u:${secretish}@a.example/`] },
      'checks.a.url: expected a string, got a list',
    ],
    ['a URL written as a number', { url: 4_111_111_111_111_111 }, 'checks.a.url: expected a string, got a number'],
  ])('names the shape, not the value, of %s', (_name, check, issue) => {
    const message = planIssues(check);

    expect(message).toContain(issue);
    expect(message).not.toContain(secretish.slice(0, 8));
    expect(message).not.toMatch(/73519402|4111111111111111/);
  });

  it('still shows what was written in a field whose values are never secret', () => {
    const message = planIssues({ url: 'https://a.example/', method: 'GETT', interval: '5 sec' });

    expect(message).toMatch(/checks\.a\.method: expected one of GET, .*, got "GETT"/);
    expect(message).toMatch(/checks\.a\.interval: expected a duration .*, got "5 sec"/);
  });
});

describe('Fields', () => {
  it('collects every problem with its path instead of stopping at the first', () => {
    // Arrange
    const f = new Fields();

    // Act
    f.integer('3', 'a.count', 0, 10);
    f.boolean('yes', 'a.dryRun');
    f.oneOf('GETT', 'a.method', ['GET', 'POST']);

    // Assert
    expect(f.issues).toEqual([
      'a.count: expected an integer 0-10, got "3"',
      'a.dryRun: expected true or false, got "yes"',
      'a.method: expected one of GET, POST, got "GETT"',
    ]);
  });

  it.each<[string, (f: Fields) => unknown, string]>([
    ['an integer out of range', (f) => f.integer(11, 'p', 0, 10), 'p: expected an integer 0-10, got 11'],
    ['a fractional integer', (f) => f.integer(1.5, 'p', 0, 10), 'p: expected an integer 0-10, got 1.5'],
    ['a number that is not finite', (f) => f.number(Number.NaN, 'p', 0, 1), 'p: expected a number 0-1, got NaN'],
    ['an empty string', (f) => f.string('', 'p'), 'p: must not be empty'],
    ['a string too long', (f) => f.string('abcd', 'p', { max: 3 }), 'p: must be at most 3 characters'],
    ['a string not a string', (f) => f.string(3, 'p'), 'p: expected a string, got a number'],
    [
      'a string against a pattern',
      (f) => f.string('x', 'p', { pattern: /^\d+$/, patternText: 'digits' }),
      'p: expected digits',
    ],
    ['a duration too long', (f) => f.duration('2h', 'p', 3_600_000), 'p: must be at most 1h'],
    ['a list that is not one', (f) => f.array({}, 'p'), 'p: expected a list, got an object'],
    ['a list too long', (f) => f.array([1, 2, 3], 'p', 2), 'p: must have at most 2 entries'],
    ['an object that is a list', (f) => f.object([], 'p'), 'p: expected an object, got a list'],
    ['a bad regular expression', (f) => f.regex('(', 'p'), 'p: invalid regular expression: '],
  ])('names the field for %s', (_name, read, issue) => {
    // Arrange
    const f = new Fields();

    // Act
    const value = read(f);

    // Assert
    expect(value).toBeUndefined();
    expect(f.issues).toHaveLength(1);
    expect(f.issues[0]).toContain(issue);
  });

  it('names each entry of a string map whose value is not a string', () => {
    // Arrange
    const f = new Fields();

    // Act
    const map = f.stringMap({ ok: 'yes', bad: 1 }, 'checks.a.headers');

    // Assert
    expect(map).toEqual({ ok: 'yes' });
    expect(f.issues).toEqual(['checks.a.headers.bad: expected a string, got a number']);
  });

  it('names each unknown key of an object and lists the allowed ones', () => {
    // Arrange
    const f = new Fields();

    // Act
    const record = f.object({ url: 'x', urll: 'y' }, 'checks.a', ['url', 'method']);

    // Assert
    expect(record).toEqual({ url: 'x', urll: 'y' });
    expect(f.issues).toEqual(['checks.a.urll: unknown field (expected one of: url, method)']);
  });

  it('returns valid values and records nothing', () => {
    // Arrange
    const f = new Fields();

    // Act
    const values = [
      f.integer(3, 'a', 0, 10),
      f.duration('5s', 'b'),
      f.stringMap({ 'x-a': '' }, 'c'),
      f.oneOf('GET', 'd', ['GET']),
    ];

    // Assert
    expect(values).toEqual([3, 5000, { 'x-a': '' }, 'GET']);
    expect(f.issues).toEqual([]);
  });
});
