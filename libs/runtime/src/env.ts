/** One row of a service's table of environment variables: its default (undefined: required) and its meaning. */
export interface EnvEntry {
  readonly default: string | undefined;
  readonly doc: string;
}

/** Reads one variable of the table as a positive number (a whole one with `integer`). */
export type PositiveReader<T> = (
  name: keyof T & string,
  options?: { readonly integer?: boolean },
) => number;

/**
 * A reader of the variables of `table` that must be positive numbers: each is taken from `env`, else from the
 * table's default. A bad value is added to `problems`, so that a service reports every configuration problem
 * together, and is returned as read (the caller refuses to start when `problems` is not empty).
 */
export function positiveNumbers<T extends Readonly<Record<string, EnvEntry>>>(
  env: NodeJS.ProcessEnv,
  table: T,
  problems: string[],
): PositiveReader<T> {
  return (name, options = {}) => {
    const raw = env[name] ?? table[name]?.default ?? "";
    const value = raw.trim() === "" ? Number.NaN : Number(raw);
    const valid = options.integer ? Number.isInteger(value) : Number.isFinite(value);
    if (!valid || value <= 0)
      problems.push(
        `${name} must be a positive ${options.integer ? "whole number" : "number"} (got '${raw}')`,
      );
    return value;
  };
}
