// Vitest setup file (vitest.config.ts `setupFiles`): many unit tests read plans with the synchronous
// parsePlan, or a check kind's own parse, which need the RE2 engine that production loads only for plans
// using bodyMatches (lib/checks/body-expect.ts). Production paths are proven to load it themselves in a
// fresh module graph, without this file: test/plan/pattern-engine.test.ts.
import { loadPatternEngine } from '../../lib/checks/body-expect.ts';

await loadPatternEngine();
