// ESLint flat config: type-aware typescript-eslint rules, module boundaries, and the process.env rule.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

/** The services of the design; none may import another. */
const SERVICES = ["crd-hook", "helmer", "kubeconfig-generator", "metrics-collector"];

/**
 * Module boundaries (docs/style: services never import each other; the test harness stays in tests).
 * @type {import("eslint").Linter.RulesRecord}
 */
export const boundaryRules = {
  "no-restricted-imports": [
    "error",
    {
      patterns: [
        {
          // By package name, or by a relative path that climbs into a sibling service.
          regex: `^(@kubeplus/|(\\.\\./)+(services/)?)(${SERVICES.join("|")})(/|$)`,
          message: "Services never import each other; talk through @kubeplus/contracts.",
        },
        {
          group: ["@kubeplus/*/src/*", "@kubeplus/*/dist/*"],
          message: "Import a package by its name, not past its exports.",
        },
        {
          group: ["@kubeplus/testing", "@kubeplus/testing/*"],
          message: "@kubeplus/testing is for test files only.",
        },
      ],
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/dist/**",
      "**/src/generated/**",
      "**/coverage/**",
      ".run/**",
      "bin/**",
      "hack/tools/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      // @kubernetes/client-node's generated models are classes used as plain data shapes; object literals are the
      // library's own documented usage, so this rule would flag every Kubernetes object we build.
      "@typescript-eslint/no-unsafe-class-instance-assignment": "off",
      "@typescript-eslint/explicit-module-boundary-types": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
      complexity: ["error", 12],
      "max-depth": ["error", 3],
      "max-params": ["error", 4],
      ...boundaryRules,
      "no-restricted-properties": [
        "error",
        {
          object: "process",
          property: "env",
          message: "Read the environment only in main.ts or config.ts.",
        },
      ],
    },
  },
  {
    // Entry points and configuration modules may read the environment (the chart's `helm test` scripts are entry points).
    files: [
      "**/main.ts",
      "**/config.ts",
      "**/cli.ts",
      "**/global-setup.ts",
      "deploy/charts/*/files/tests/*.mjs",
    ],
    rules: { "no-restricted-properties": "off" },
  },
  {
    // Tests may use the harness, and may be longer and looser than production code.
    files: ["**/*.test.ts", "libs/testing/**", "e2e/**", "bench/**"],
    rules: {
      "no-restricted-imports": "off",
      "no-restricted-properties": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "max-params": "off",
    },
  },
  {
    // Plain JavaScript: the config files, and the chart's `helm test` scripts (files/tests/*.mjs, run by node in a pod).
    files: ["**/*.js", "**/*.mjs", "**/*.config.ts"],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
