import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Subjects } from "./subjects.js";

/** A schema's file name (`instance-usage`) from its title (`InstanceUsage`). */
const fileOf = (schema: Record<string, unknown>): string =>
  String(schema.title)
    .replace(/([a-z])([A-Z])/g, "$1-$2")
    .toLowerCase();

/** The row docs/architecture.md must have for each subject, derived from the registry. */
function expectedRow(def: (typeof Subjects)[keyof typeof Subjects]): string[] {
  if (def.pattern === "request")
    return [
      `\`${def.subject}\``,
      `request/reply, queue \`${def.queue}\``,
      `\`${fileOf(def.requestSchema)}\` -> \`${fileOf(def.replySchema)}\``,
      `${def.requestedBy.join(", ")} -> ${def.servedBy}`,
    ];
  const subscribers: readonly string[] = def.subscribedBy;
  const to = [
    ...subscribers.filter((s) => s !== "provider"),
    ...(subscribers.includes("provider") ? ["subscribers"] : []),
  ];
  return [
    `\`${def.subject}\``,
    "event",
    `\`${fileOf(def.requestSchema)}\``,
    `${def.publishedBy} -> ${to.join(", ")}`,
  ];
}

const rows = readFileSync(new URL("../../../docs/architecture.md", import.meta.url), "utf8")
  .split("\n")
  .filter((line) => line.startsWith("| `kubeplus."))
  .map((line) =>
    line
      .slice(1, -1)
      .split(" | ")
      .map((cell) => cell.trim()),
  );

describe("docs/architecture.md's NATS subject table", () => {
  it.each(Object.entries(Subjects))("has %s as the registry defines it", (_name, def) => {
    expect(rows.filter((row) => row[0] === `\`${def.subject}\``)).toEqual([expectedRow(def)]);
  });

  it("lists no subject the registry does not have", () => {
    const known = new Set(Object.values(Subjects).map((def) => `\`${def.subject}\``));
    expect(rows.map((row) => row[0]).filter((subject) => !known.has(subject ?? ""))).toEqual([]);
  });
});
