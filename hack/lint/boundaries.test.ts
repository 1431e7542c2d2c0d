// The module boundaries of docs/style are enforced by ESLint; this test lints synthetic imports so that the
// rules cannot silently rot (a pattern that stops matching would otherwise go unnoticed).
import { Linter } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";
import config, { boundaryRules } from "../../eslint.config.js";

const linter = new Linter({ configType: "flat" });

function lint(code: string, filename: string): string[] {
  const messages = linter.verify(
    code,
    [
      {
        files: ["**/*.ts"],
        languageOptions: { parser: tseslint.parser },
        rules: boundaryRules,
      },
    ],
    { filename },
  );
  return messages.map((m) => m.message);
}

describe("module boundaries", () => {
  it("are part of the workspace's ESLint configuration", () => {
    const applied = (config as { rules?: Record<string, unknown> }[]).some(
      (entry) => entry.rules?.["no-restricted-imports"] === boundaryRules["no-restricted-imports"],
    );
    expect(applied).toBe(true);
  });

  it.each([
    [
      'import { x } from "../../helmer/src/x.js";',
      "services/crd-hook/src/a.ts",
      /Services never import each other/,
    ],
    [
      'import { x } from "../../../services/helmer/src/x.js";',
      "e2e/specs/a.ts",
      /Services never import each other/,
    ],
    [
      'import { x } from "@kubeplus/helmer";',
      "services/crd-hook/src/a.ts",
      /Services never import each other/,
    ],
    [
      'import { x } from "@kubeplus/api/src/gvk.js";',
      "services/helmer/src/a.ts",
      /not past its exports/,
    ],
    [
      'import { waitFor } from "@kubeplus/testing";',
      "services/helmer/src/a.ts",
      /for test files only/,
    ],
  ])("rejects %s in %s", (code, file, message) => {
    expect(lint(code, file).join("\n")).toMatch(message);
  });

  it("accepts imports through a package's public name", () => {
    expect(
      lint('import { createLogger } from "@kubeplus/runtime";', "services/helmer/src/a.ts"),
    ).toEqual([]);
  });
});
