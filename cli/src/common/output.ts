import { stringify } from "yaml";

/** Columns padded like kubectl's tables (three spaces between columns, no trailing blanks). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
        .join("")
        .trimEnd(),
    )
    .join("\n");
}

export const OUTPUTS = ["table", "json", "yaml"] as const;
export type Output = (typeof OUTPUTS)[number];

/** Checks an -o value against what the plugin supports. */
export function outputOf(value: string | undefined, allowed: readonly string[] = OUTPUTS): Output {
  const v = value ?? "table";
  if (!allowed.includes(v))
    throw new Error(`unknown output format "${v}": use one of ${allowed.join(", ")}`);
  return v as Output;
}

/** Data as JSON or YAML (for scripts), or the table the plugin built. */
export function render(output: Output, data: unknown, tableText: () => string): string {
  if (output === "json") return `${JSON.stringify(data, null, 2)}\n`;
  if (output === "yaml") return stringify(data);
  return `${tableText()}\n`;
}
