import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts", "tools/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real brokers, daemons and ONNX sessions; on a 2-core box
    // running files in parallel mostly adds contention.
    fileParallelism: false,
  },
});
