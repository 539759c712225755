// Test runner settings: ONNX Runtime's native binding runs in forked processes, not worker threads.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    // A fork holding ONNX Runtime sessions can take over the default 10 s to exit on a busy machine; vitest then
    // logs a termination timeout although every test passed.
    teardownTimeout: 30_000,
  },
});
