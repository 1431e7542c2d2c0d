import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PLUGINS } from "./plugins.js";

/** The first cell of each row of cli/README.md's command table. */
const commandCells = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
  .split("\n")
  .filter((line) => line.startsWith("| `kubectl "))
  .map((line) => line.split(" | ")[0] ?? "");

describe("cli/README.md", () => {
  it.each(PLUGINS.map((p) => [p.command.replace(/^kubectl-/, "kubectl ").replaceAll("-", " ")]))(
    "documents %s in its command table",
    (command) => {
      expect(commandCells.some((cell) => cell.includes(`\`${command}`))).toBe(true);
    },
  );
});
