/** Decimal suffixes as powers of ten, and binary suffixes as powers of two (Kubernetes resource.Quantity). */
const DECIMAL_EXPONENT: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_EXPONENT: Record<string, number> = {
  Ki: 10,
  Mi: 20,
  Gi: 30,
  Ti: 40,
  Pi: 50,
  Ei: 60,
};

const QUANTITY =
  /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

/**
 * Parses a Kubernetes resource quantity ("100m", "1Gi", "2", "1e3") into a number of base units (cores, bytes).
 * Returns undefined when the text is not a valid quantity. Decimal forms are read as one decimal number
 * ("350m" is `Number("350e-3")`, exactly 0.35, not 350 * 0.001 = 0.35000000000000003), so figures compare and print
 * as written; binary forms are exact multiples of a power of two.
 */
export function parseQuantity(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  const match = QUANTITY.exec(value.trim());
  const mantissa = match?.[1];
  if (!match || mantissa === undefined) return undefined;
  const suffix = match[3] ?? "";
  const binary = BINARY_EXPONENT[suffix];
  if (binary !== undefined) return Number(mantissa) * 2 ** binary;
  const exponent = match[2] ?? String(DECIMAL_EXPONENT[suffix] ?? 0);
  return Number(`${mantissa}e${exponent}`);
}
