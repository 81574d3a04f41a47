import { describe, expect, it } from 'vitest';
import { deadlineFor } from '../../lib/runtime/deadline.ts';

const left = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

describe('deadlineFor', () => {
  it.each([0, 1, 100, 300, 400, 499, 500, 1_000, 2_000, 10_000, 900_000])(
    'keeps time to deliver the verdict after the analysis, within the %i ms left',
    (remaining) => {
      const now = 1_000_000;
      const d = deadlineFor(left(remaining), now, '500ms');
      d.dispose();

      expect(d.analysisEndsAt).toBeGreaterThanOrEqual(now);
      expect(d.reportBy).toBeGreaterThanOrEqual(d.analysisEndsAt);
      expect(d.reportBy).toBeLessThanOrEqual(now + remaining);
      // The report gets at least half its reserve (the reserve is at most half of what is left).
      expect(d.reportBy - d.analysisEndsAt).toBeGreaterThanOrEqual(Math.floor(Math.min(500, remaining / 2) / 2));
    },
  );

  it('gives the analysis all but the reserve, and the report all of it but a 250 ms margin, when there is time', () => {
    const d = deadlineFor(left(60_000), 0, '5s');
    d.dispose();

    expect(d).toMatchObject({ analysisEndsAt: 55_000, reportBy: 59_750 });
  });

  it('keeps time for the report after the analysis with a reserve smaller than the margin', () => {
    const d = deadlineFor(left(60_000), 0, '100ms');
    d.dispose();

    expect(d).toMatchObject({ analysisEndsAt: 59_900, reportBy: 59_950 });
  });

  it('aborts the analysis, saying so, when its time is up', async () => {
    const d = deadlineFor(left(80), Date.now(), '1s');

    await new Promise((r) => setTimeout(r, 100));

    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as Error).message).toMatch(
      /deadline reached: stopped with \d+ ms left to deliver the verdict/,
    );
    d.dispose();
  });
});
