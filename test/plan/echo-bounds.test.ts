import { describe, expect, it } from 'vitest';
import { checksForHook, type Plan, parsePlan } from '../../lib/plan/schema.ts';
import { durationSettings, readDurationSetting } from '../../lib/runtime/settings.ts';

/**
 * A plan problem quotes at most 40 characters of a value the plan holds (`echo`), and a field path at
 * most 64 of a key (`join`): plan errors reach verdict reasons, logs and events, and a mistyped value
 * can be anything (a pasted token, a whole file).
 */

const filler = 'Q'.repeat(10 * 1024);
const tooLong = (n: number) => 'Q'.repeat(n + 1);

function problems(plan: Record<string, unknown>): string[] {
  try {
    parsePlan({ version: 1, hooks: { '*': [] }, checks: {}, ...plan });
    return [];
  } catch (error) {
    return [...((error as { issues?: string[] }).issues ?? [String(error)])];
  }
}

const check = (fields: Record<string, unknown>) => ({
  hooks: { '*': ['c'] },
  checks: { c: { type: 'http', url: 'https://example.com/', ...fields } },
});

describe('a 10 KB mistyped value in a plan is never echoed beyond 40 characters', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['version', { version: filler }, /^version: expected 1, got "Q{40}…"$/],
    [
      'a check type',
      { hooks: { '*': ['c'] }, checks: { c: { type: filler } } },
      /^checks\.c\.type: unknown check type "Q{40}…" \(expected one of/,
    ],
    [
      'expect.status',
      check({ expect: { status: [filler] } }),
      /^checks\.c\.expect\.status\[0\]: expected an integer 100-599.*, got "Q{40}…"$/,
    ],
    [
      'allow.hosts',
      { allow: { hosts: [`${'Q'.repeat(200)} x`] } },
      /^allow\.hosts\[0\]: expected a host name.*, got "Q{40}…"$/,
    ],
    [
      'allow.origins',
      { allow: { origins: [`https://${'Q'.repeat(280)} x`] } },
      /^allow\.origins\[0\]: expected an origin .*, got "https:\/\/Q{32}…"$/,
    ],
    [
      'a JSON range bound',
      check({ expect: { json: { latency: { max: filler } } } }),
      /^checks\.c\.expect\.json\.latency\.max: expected a number, got "Q{40}…"$/,
    ],
    [
      'a hook entry that names no check',
      { hooks: { '*': ['Q'.repeat(8000)] } },
      /^hooks\.\*\[0\]: unknown check "Q{40}…" \(plan has: no checks\)$/,
    ],
    ['a duration', check({ interval: filler }), /^checks\.c\.interval: expected a duration .*, got "Q{40}…"$/],
    [
      'a placeholder name',
      check({ url: `https://example.com/{{${'Q'.repeat(2000)}}}` }),
      /^checks\.c\.url: unknown placeholder \{\{…\}\} \(a string of 2000 characters\) \(known: /,
    ],
    [
      'a value pasted as a placeholder in a header',
      check({ headers: { authorization: 'Bearer {{sk-live-0123456789}}' } }),
      /^checks\.c\.headers\.authorization: unknown placeholder \{\{…\}\} \(a string of 18 characters\) \(known: /,
    ],
    [
      'a regular expression RE2 cannot read',
      check({ expect: { bodyMatches: `(${'Q'.repeat(900)}` } }),
      /^checks\.c\.expect\.bodyMatches: invalid regular expression \(RE2 syntax\): missing closing \): `\(Q{39}…`$/,
    ],
  ])('%s', (_name, plan, message) => {
    const issues = problems(plan);

    expect(issues).toEqual([expect.stringMatching(message)]);
    expect(issues.join('\n')).not.toContain(tooLong(40));
  });

  it('a duration setting from the environment', () => {
    expect(() => readDurationSetting(durationSettings.reserve, filler)).toThrow(/got "Q{40}…"$/);
  });

  it('a hook name asked of a plan', () => {
    const plan: Plan = parsePlan({ version: 1, hooks: { '*': [] }, checks: {} });

    expect(() => checksForHook(plan, filler)).toThrow(/hooks: "Q{40}…" is not a hook or stage greenlight runs$/);
  });
});

describe('a 10 KB key in a plan is cut at 64 characters in every field path', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown field', check({ [filler]: 1 }), /^checks\.c\.Q{64}…: unknown field/],
    [
      'a check name',
      { checks: { [filler]: { type: 'http', url: 'https://example.com/' } } },
      /^checks\.Q{64}…: check names use/,
    ],
    ['a hook name', { hooks: { [filler]: [] } }, /^hooks\.Q{64}…: unknown hook or stage/],
    ['a secret name', { secrets: { [filler]: { ssm: '/x' } } }, /^secrets\.Q{64}…: secret names start with a letter/],
  ])('%s', (_name, plan, message) => {
    const issues = problems(plan);

    expect(issues).toContainEqual(expect.stringMatching(message));
    expect(issues.join('\n')).not.toContain(tooLong(64));
  });

  it('lists the names of the plan, cut the same way, when a hook names an unknown check', () => {
    const issues = problems({ hooks: { '*': ['nope'] }, checks: { [filler]: { type: 'http', url: 'https://x/' } } });

    expect(issues).toContainEqual(expect.stringMatching(/^hooks\.\*\[0\]: unknown check "nope" \(plan has: Q{64}…\)$/));
    expect(issues.join('\n')).not.toContain(tooLong(64));
  });
});

describe('a header line written as a header name is refused by its shape, never quoted', () => {
  const line = 'X-Api-Key: sk-live-0123456789abcdef0123456789';

  it.each<[string, Record<string, unknown>, string]>([
    ['http headers', check({ headers: { [line]: '' } }), 'checks.c.headers'],
    ['http expect.headers', check({ expect: { headers: { [line]: 'x' } } }), 'checks.c.expect.headers'],
    [
      'prometheus headers',
      {
        hooks: { '*': ['c'] },
        checks: {
          c: { type: 'prometheus', url: 'https://p.example', query: 'up', threshold: 1, headers: { [line]: 'x' } },
        },
      },
      'checks.c.headers',
    ],
  ])('%s', (_name, plan, path) => {
    const issues = problems(plan);

    expect(issues).toEqual([
      `${path}: a header name is a string of ${line.length} characters that is not an HTTP field name (letters, digits and !#$%&'*+-.^_\`|~); write each header as Name: value`,
    ]);
    expect(issues.join('\n')).not.toContain('sk-live');
  });
});
