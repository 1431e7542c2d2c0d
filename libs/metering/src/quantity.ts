const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

/** A Kubernetes quantity ("250m", "1Gi", "2", "1e3") in base units; NaN when it does not parse. */
export function parseQuantity(text: string): number {
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(text.trim());
  if (!m?.[1]) return NaN;
  const factor = SUFFIX[m[2] ?? ""];
  // 12 significant digits: "350m" is 0.35, not 0.35000000000000003.
  return factor === undefined ? NaN : Number((Number(m[1]) * factor).toPrecision(12));
}
