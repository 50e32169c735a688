// The suite that runs against a real Kubernetes control plane. Started by test-real/run.ts
// (`npm run test:real-k8s`), which sets REAL_K8S_KUBECONFIG. Files run one after another: they
// share one cluster, and the scheduler tests change node state.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test-real/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
