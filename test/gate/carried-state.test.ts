import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AnalysisState, CheckState } from '../../lib/core/types.ts';
import {
  type CarriedState,
  canonicalJson,
  decodeState,
  encodeState,
  maxStateBytes,
  planDeadline,
  planFingerprint,
  scheduleMs,
  seal,
  unseal,
} from '../../lib/gate/carried-state.ts';
import { parsePlan } from '../../lib/plan/schema.ts';

const plan = parsePlan({
  version: 1,
  hooks: { POST_TEST_TRAFFIC_SHIFT: ['green-health', 'green-api'] },
  checks: {
    'green-health': { type: 'http', url: '{{testListenerUrl}}/health', count: 5, interval: '10s', timeout: '2s' },
    'green-api': { type: 'http', url: '{{testListenerUrl}}/api', count: 3, interval: '1m', initialDelay: '30s' },
  },
});
const checks = Object.values(plan.checks);
const now = 1_800_000_000_000;
const binding = { fingerprint: planFingerprint(checks, 'POST_TEST_TRAFFIC_SHIFT'), bind: 'arn:deployment|POST_TEST' };
const expected = { ...binding, checks };
const key = new TextEncoder().encode('k'.repeat(64));

function checkState(over: Partial<CheckState> = {}): CheckState {
  return {
    taken: 2,
    passes: 2,
    failures: 0,
    errors: 0,
    inconclusives: 0,
    consecutivePasses: 2,
    consecutiveErrors: 0,
    status: 'running',
    reason: '2 of 5 measurements taken',
    nextAt: now + 10_000,
    recent: [
      { outcome: 'pass', message: 'GET /health: 200', value: 200, startedAt: now - 10_000, durationMs: 12 },
      { outcome: 'pass', message: 'GET /health: 200', value: 200, startedAt: now, durationMs: 9 },
    ],
    ...over,
  };
}

function carried(over: Partial<CarriedState> = {}): CarriedState {
  const analysis: AnalysisState = {
    startedAt: now - 20_000,
    checks: { 'green-health': checkState(), 'green-api': checkState({ nextAt: now + 60_000 }) },
  };
  return { analysis, deadline: now + 10 * 60_000, legs: 2, ...over };
}

/** Re-signs an edited state with the key, as a bug in greenlight could: semantic checks must still catch it. */
function resign(state: Record<string, unknown>): Record<string, unknown> {
  const { mac: _drop, ...body } = state;
  const mac = createHmac('sha256', key)
    .update(`greenlight/state/v2\n${canonicalJson(body)}`)
    .digest('hex');
  return { ...body, mac };
}

describe('the carried analysis state', () => {
  it('round-trips, with statuses and reasons recomputed from the counters', () => {
    const encoded = encodeState(carried(), binding, key);

    const back = decodeState(JSON.parse(JSON.stringify(encoded)), expected, now, key);

    expect(back.deadline).toBe(now + 10 * 60_000);
    expect(back.legs).toBe(2);
    expect(back.analysis.checks['green-health']).toMatchObject({ taken: 2, passes: 2, status: 'running' });
    expect(back.analysis.checks['green-health']?.recent).toHaveLength(2);
  });

  it('survives a round trip that reorders keys', () => {
    const encoded = encodeState(carried(), binding, key);
    const reordered = Object.fromEntries(Object.entries(encoded).reverse());

    expect(() => decodeState(reordered, expected, now, key)).not.toThrow();
  });

  it('refuses an edited counter (MAC)', () => {
    const encoded = encodeState(carried(), binding, key) as { checks: Record<string, Record<string, unknown>> };
    (encoded.checks['green-health'] as Record<string, unknown>).passes = 5;

    expect(() => decodeState(encoded, expected, now, key)).toThrow(/state\.mac does not verify/);
  });

  it('refuses counters that do not add up even when re-signed', () => {
    const encoded = encodeState(carried(), binding, key) as { checks: Record<string, Record<string, unknown>> };
    (encoded.checks['green-health'] as Record<string, unknown>).passes = 5;

    expect(() => decodeState(resign(encoded), expected, now, key)).toThrow(/do not add up/);
  });

  it('refuses more measurements than the plan allows even when re-signed', () => {
    const encoded = encodeState(carried(), binding, key) as { checks: Record<string, Record<string, unknown>> };
    Object.assign(encoded.checks['green-api'] as Record<string, unknown>, {
      taken: 9,
      passes: 9,
      consecutivePasses: 9,
    });

    expect(() => decodeState(resign(encoded), expected, now, key)).toThrow(/green-api.taken: expected an integer/);
  });

  it('issue 11: carries retried errors beyond count, within count × (consecutiveErrorLimit + 1)', () => {
    // Arrange: count 3 with one error in a row retried: error, pass, error, pass is 4 taken, 2 measured
    const retrying = parsePlan({
      version: 1,
      hooks: { POST_TEST_TRAFFIC_SHIFT: ['probe'] },
      checks: { probe: { type: 'http', url: 'http://a.example/', count: 3, consecutiveErrorLimit: 1 } },
    });
    const probe = Object.values(retrying.checks);
    const bound = { fingerprint: planFingerprint(probe, 'POST_TEST_TRAFFIC_SHIFT'), bind: binding.bind };
    const state = carried({
      analysis: {
        startedAt: now - 20_000,
        checks: { probe: checkState({ taken: 4, passes: 2, errors: 2, consecutivePasses: 1, recent: [] }) },
      },
    });

    // Act
    const decoded = decodeState(encodeState(state, bound, key), { ...bound, checks: probe }, now, key);

    // Assert: still running, since errors do not count toward count
    expect(decoded.analysis.checks.probe).toMatchObject({ taken: 4, errors: 2, status: 'running' });
  });

  it('refuses an unknown or missing check even when re-signed', () => {
    const encoded = encodeState(carried(), binding, key) as { checks: Record<string, unknown> };
    encoded.checks.intruder = encoded.checks['green-api'];

    expect(() => decodeState(resign(encoded), expected, now, key)).toThrow(/unexpected check intruder/);
  });

  it('refuses state from another plan', () => {
    const encoded = encodeState(carried(), { ...binding, fingerprint: 'aaaaaaaaaaaaaaaaaaaaaaaa' }, key);

    expect(() => decodeState(encoded, expected, now, key)).toThrow(/another plan/);
  });

  it('refuses state from another deployment', () => {
    const encoded = encodeState(carried(), { ...binding, bind: 'arn:other|POST_TEST' }, key);

    expect(() => decodeState(encoded, expected, now, key)).toThrow(/another deployment/);
  });

  it('fails closed once the deadline has passed', () => {
    const encoded = encodeState(carried({ deadline: now - 1_000 }), binding, key);

    expect(() => decodeState(encoded, expected, now, key)).toThrow(/deadline passed/);
  });

  it('refuses a deadline beyond the longest analysis allowed', () => {
    const encoded = encodeState(carried({ deadline: now + 30 * 3_600_000 }), binding, key);

    expect(() => decodeState(encoded, expected, now, key)).toThrow(/state.deadline/);
  });

  it('refuses an oversized state before reading it', () => {
    const encoded = { ...encodeState(carried(), binding, key), padding: 'x'.repeat(maxStateBytes) };

    expect(() => decodeState(encoded, expected, now, key)).toThrow(/larger than 16384 bytes/);
  });

  it('refuses what is not a state at all', () => {
    for (const junk of [null, 'a string', [1, 2], 42, { v: 1 }]) {
      expect(() => decodeState(junk, expected, now, key)).toThrow();
    }
  });

  it('drops recent measurements, then fails, rather than exceed the size bound', () => {
    const long = 'm'.repeat(199);
    const many: Record<string, CheckState> = {};
    for (let i = 0; i < 40; i++) {
      many[`c${i}`] = checkState({
        recent: [
          { outcome: 'pass', message: long, startedAt: now, durationMs: 1 },
          { outcome: 'pass', message: long, startedAt: now, durationMs: 1 },
        ],
      });
    }
    const encoded = encodeState(
      { analysis: { startedAt: now, checks: many }, deadline: now + 1, legs: 1 },
      binding,
      key,
    );
    expect(JSON.stringify(encoded).length).toBeLessThanOrEqual(maxStateBytes);

    const huge: Record<string, CheckState> = {};
    for (let i = 0; i < 200; i++) huge[`check-with-a-long-name-${i}`] = checkState({ recent: [] });
    expect(() =>
      encodeState({ analysis: { startedAt: now, checks: huge }, deadline: now + 1, legs: 1 }, binding, key),
    ).toThrow(/does not fit/);
  });
});

describe('the plan deadline', () => {
  it('is the longest schedule plus a margin for the gaps between invocations', () => {
    // green-api: 2.5s jitter + 30s + 2 x 1m + 5s timeout = 157.5s; green-health: 4 x 10s + 2s + 2.5s = 44.5s
    expect(scheduleMs(checks)).toBe(157_500);
    // The schedule, a minute and a tenth of it for the gaps between calls, and 15 minutes for throttled retakes.
    expect(planDeadline(checks, now)).toEqual({
      deadline: now + 157_500 + 60_000 + 15_750 + 15 * 60_000,
      scheduleMs: 157_500,
    });
  });

  it('never runs past the 24 hours an ECS hook analysis may take, nor cuts the schedule short of its margin', () => {
    const day = 24 * 3_600_000;
    const long = parsePlan({
      version: 1,
      hooks: { '*': ['slow'] },
      // About 21.65 h: with its margin under 24 h, with the throttle allowance over it.
      checks: { slow: { type: 'http', url: 'http://127.0.0.1/', count: 1300, interval: '1m', timeout: '1s' } },
    });
    const { deadline, scheduleMs: schedule } = planDeadline(Object.values(long.checks), now);
    expect(schedule + 60_000 + Math.ceil(schedule / 10)).toBeLessThan(day);
    expect(deadline - now).toBe(day);
  });

  it('issue 11: makes room for every retried error: count × (consecutiveErrorLimit + 1) measurements', () => {
    // Arrange: 3 measurements 1 min apart, each retried up to twice: 9 attempts, 8 intervals, the last timeout
    const retrying = parsePlan({
      version: 1,
      hooks: { POST_TEST_TRAFFIC_SHIFT: ['probe'] },
      checks: { probe: { type: 'http', url: 'http://a.example/', count: 3, interval: '1m', consecutiveErrorLimit: 2 } },
    });

    // Act + Assert
    expect(scheduleMs(Object.values(retrying.checks))).toBe(2_500 + 8 * 60_000 + 5_000);
  });

  it('changes the fingerprint when a policy or the stage changes', () => {
    const other = parsePlan({
      version: 1,
      hooks: { POST_TEST_TRAFFIC_SHIFT: ['green-health'] },
      checks: { 'green-health': { type: 'http', url: '{{testListenerUrl}}/health', count: 6, interval: '10s' } },
    });
    expect(planFingerprint(Object.values(other.checks), 'POST_TEST_TRAFFIC_SHIFT')).not.toBe(binding.fingerprint);
    expect(planFingerprint(checks, 'PRE_PRODUCTION_TRAFFIC_SHIFT')).not.toBe(binding.fingerprint);
    expect(planFingerprint(checks, 'POST_TEST_TRAFFIC_SHIFT')).toBe(binding.fingerprint);
  });
});

describe('authenticated carried state', () => {
  it('refuses a state whose plain SHA-256 digest was recomputed, as anyone can', () => {
    const { mac: _mac, ...body } = encodeState(carried(), binding, key);
    const v1 = { ...body, v: 1 };
    const digest = createHash('sha256').update(canonicalJson(v1)).digest('hex').slice(0, 32);

    expect(() => decodeState({ ...v1, digest }, expected, now, key)).toThrow(/state\.v: expected 2/);
    expect(() => decodeState({ ...body, mac: digest }, expected, now, key)).toThrow(/state\.mac: missing or malformed/);
  });

  it('refuses a state made under another key, or with a truncated MAC', () => {
    const other = encodeState(carried(), binding, new TextEncoder().encode('o'.repeat(64)));
    const mine = encodeState(carried(), binding, key);

    expect(() => decodeState(other, expected, now, key)).toThrow(/state\.mac does not verify/);
    expect(() => decodeState({ ...mine, mac: String(mine.mac).slice(0, 32) }, expected, now, key)).toThrow(
      /state\.mac: missing or malformed/,
    );
  });

  it('refuses a state that started in the future', () => {
    const future = encodeState(
      carried({ analysis: { startedAt: now + 3_600_000, checks: carried().analysis.checks } }),
      binding,
      key,
    );

    expect(() => decodeState(future, expected, now, key)).toThrow(/state\.startedAt/);
  });

  it('seals a payload for one purpose, and refuses it altered, for another purpose, expired or from the future', () => {
    const sealed = seal({ deploymentId: 'd-AAAAAAAAA', hop: 3 }, key, 'wait', now);

    expect(unseal(JSON.parse(JSON.stringify(sealed)), key, 'wait', now + 1_000, 60_000)).toEqual({
      deploymentId: 'd-AAAAAAAAA',
      hop: 3,
      issuedAt: now,
    });
    expect(() => unseal({ ...sealed, hop: 0 }, key, 'wait', now, 60_000)).toThrow(/wait\.mac does not verify/);
    expect(() => unseal(sealed, key, 'pause', now, 60_000)).toThrow(/pause\.mac does not verify/);
    expect(() => unseal(sealed, key, 'wait', now + 61_000, 60_000)).toThrow(/wait expired: issued 61 s ago/);
    const ahead = seal({ hop: 1 }, key, 'wait', now + 3_600_000);
    expect(() => unseal(ahead, key, 'wait', now, 60_000)).toThrow(/issuedAt is in the future/);
  });
});
