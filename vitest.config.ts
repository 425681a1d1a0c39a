import { defineConfig } from 'vitest/config';

/** Tests that need a Docker engine (or a slow stand-in of one): everything else is a fast unit test. */
const ENGINE_TESTS = ['test/**/*.docker.test.ts', 'test/engine-faults.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          // `npm run test:unit`: no engine set-up, short limits (a unit test that needs longer is an engine test).
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...ENGINE_TESTS, 'test/**/*.podman.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          globalSetup: ['test/support/unit-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'engine',
          include: ENGINE_TESTS,
          // Docker builds on 2 cores: generous per-test limits; speed targets live in `npm run bench`.
          testTimeout: 600_000,
          hookTimeout: 900_000,
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          // Podman 4.3 (rootful, its Docker-compatible service on the socket scripts/setup.sh starts).
          name: 'podman',
          include: ['test/**/*.podman.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          globalSetup: ['test/support/podman-setup.ts'],
        },
      },
    ],
  },
});
