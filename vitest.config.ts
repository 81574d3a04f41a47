import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Loads the RE2 engine that plans with bodyMatches need before a synchronous parse (see the file).
    setupFiles: ['test/support/load-pattern-engine.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Tests start real servers (moto_server, fakes, HTTP targets) on loopback ports.
    pool: 'forks',
    unstubEnvs: true,
    // Handlers publish verdict events and metrics by default; tests that check them turn them on, with
    // a loopback EventBridge endpoint. Everywhere else nothing may reach a real bus or clutter stdout.
    env: { GREENLIGHT_PUBLISH_VERDICTS: 'false', POWERTOOLS_METRICS_DISABLED: 'true' },
  },
});
