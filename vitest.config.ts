import { defineConfig } from "vitest/config";

// One runner for the whole workspace, three projects:
//   unit: *.test.ts beside the code; no cluster, no broker.
//   int:  *.int.test.ts; a real local control plane (started once per run by the global setup).
//   e2e:  e2e/specs/*.e2e.test.ts; user journeys against the same control plane.
//   images: hack/dev/src/images*.int.test.ts; builds the real nodes' images and the service images and runs them in
//         a containerd of its own (no control plane: `make images-test`).
const imageTests = "hack/dev/src/images*.int.test.ts";
const shared = {
  resolve: { conditions: ["@kubeplus/source"] },
};
const clusterSetup = "./libs/testing/src/global-setup.ts";
// Before each int and e2e file: what an earlier file left behind (webhook configurations, services) goes.
const fileSetup = "./libs/testing/src/file-setup.ts";

export default defineConfig({
  ...shared,
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: "unit",
          include: ["{libs,services,hack,cli}/**/src/**/*.test.ts", "hack/lint/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**", "**/dist/**"],
        },
      },
      {
        ...shared,
        test: {
          name: "int",
          include: ["{libs,services,hack,cli}/**/src/**/*.int.test.ts"],
          // Integration files share cluster-wide objects (CRDs, webhook configurations): one file at a time.
          fileParallelism: false,
          exclude: ["**/node_modules/**", "**/dist/**", imageTests],
          globalSetup: [clusterSetup],
          setupFiles: [fileSetup],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        ...shared,
        test: {
          name: "images",
          include: [imageTests],
          // Each file builds images (CPU-bound on 2 cores) and runs a containerd of its own: one file at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        ...shared,
        test: {
          name: "e2e",
          include: ["e2e/specs/**/*.e2e.test.ts"],
          // Journeys hold cluster-wide singletons (one provider per cluster, the kubeplus-crd-hook webhook
          // configurations, the kubeplus namespace of the installed chart): one file at a time.
          fileParallelism: false,
          globalSetup: [clusterSetup],
          setupFiles: [fileSetup],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
