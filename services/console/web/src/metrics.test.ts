import { describe, expect, it } from "vitest";
import {
  addSample,
  formatValue,
  gauge,
  rate,
  releaseName,
  scalePoints,
  usageSample,
  type UsageSample,
} from "./metrics.js";

const cm = (usage: Record<string, unknown>) => ({ data: { "usage.json": JSON.stringify(usage) } });
const sample = (at: number, rx: number | null, cpu: number | null = 0.1): UsageSample => ({
  at,
  cpuCores: cpu,
  memoryBytes: 1024,
  storageBytes: 0,
  networkReceiveBytes: rx,
  networkTransmitBytes: 0,
});

describe("usageSample", () => {
  it("reads the latest pass, keeping figures that were not measured as null", () => {
    const s = usageSample(
      cm({
        collectedAt: "2026-12-03T12:00:00Z",
        cpuCores: 0.25,
        memoryBytes: null,
        storageBytes: 1024,
      }),
    );
    expect(s).toEqual({
      at: Date.parse("2026-12-03T12:00:00Z"),
      cpuCores: 0.25,
      memoryBytes: null,
      storageBytes: 1024,
      networkReceiveBytes: null,
      networkTransmitBytes: null,
    });
  });

  it.each([{}, { data: {} }, { data: { "usage.json": "{bad" } }, cm({ cpuCores: 1 })])(
    "reads nothing from %j",
    (configMap) => {
      expect(usageSample(configMap)).toBeUndefined();
    },
  );
});

describe("releaseName", () => {
  it("takes the release from status.helmrelease, else the instance's name", () => {
    expect(releaseName({ helmrelease: "shop-3f9a1c07:shop" }, "x")).toBe("shop");
    expect(releaseName({}, "x")).toBe("x");
  });
});

describe("series", () => {
  it("keeps passes in time order, once each, at most max", () => {
    let s: readonly UsageSample[] = [];
    for (const at of [3000, 1000, 2000, 2000, 4000]) s = addSample(s, sample(at, 0), 3);
    expect(s.map((x) => x.at)).toEqual([2000, 3000, 4000]);
  });

  it("leaves out passes that did not measure a gauge", () => {
    expect(gauge([sample(1000, 0, 0.5), sample(2000, 0, null)], "cpuCores")).toEqual([
      { at: 1000, value: 0.5 },
    ]);
  });

  it("turns a counter into a rate per second, counting from zero after a reset", () => {
    const points = rate(
      [sample(0, 1000), sample(10_000, 3000), sample(20_000, null), sample(30_000, 500)],
      "networkReceiveBytes",
    );
    expect(points).toEqual([
      { at: 10_000, value: 200 },
      { at: 30_000, value: 25 },
    ]);
  });
});

describe("formatValue", () => {
  it.each<[number, "cores" | "bytes" | "bytes/s", string]>([
    [0.1234, "cores", "0.123 cores"],
    [512, "bytes", "512 B"],
    [1536, "bytes", "1.5 KiB"],
    [3 * 1024 ** 3, "bytes/s", "3.0 GiB/s"],
  ])("prints %d %s as %s", (v, unit, text) => {
    expect(formatValue(v, unit)).toBe(text);
  });
});

describe("scalePoints", () => {
  it("maps the first point to the left, the last to the right, the largest value to the top", () => {
    const { path, max } = scalePoints(
      [
        { at: 0, value: 0 },
        { at: 5, value: 2 },
        { at: 10, value: 1 },
      ],
      100,
      50,
    );
    expect(max).toBe(2);
    expect(path).toBe("0.0,50.0 50.0,0.0 100.0,25.0");
  });
});
