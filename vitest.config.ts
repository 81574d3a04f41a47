import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Tests start real servers (moto_server, fakes, HTTP targets) on loopback ports.
    pool: 'forks',
    unstubEnvs: true,
  },
});
