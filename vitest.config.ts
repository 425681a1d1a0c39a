import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Docker builds on 2 cores: generous per-test limits; speed targets live in `npm run bench`.
    testTimeout: 600_000,
    hookTimeout: 900_000,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
