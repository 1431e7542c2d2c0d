import { describe, expect, it } from "vitest";
import { appTargets, parseEqualitySelector, pickAppMetrics } from "./index.js";

const spec = { label: "app=web", endpoint: "metrics", metrics: ["requests_total"] };
const pod = (
  name: string,
  labels: Record<string, string>,
  running = true,
  hostIP = "10.0.0.7",
) => ({
  name,
  labels,
  running,
  hostIP,
});

describe("appTargets", () => {
  it("scrapes each running labelled pod at its node's address on the first labelled Service's NodePort", () => {
    const { targets, warnings } = appTargets(
      spec,
      [
        pod("web-1", { app: "web" }),
        pod("web-2", { app: "web" }, false),
        pod("db-1", { app: "db" }),
      ],
      [
        { name: "internal", labels: { app: "web" }, nodePorts: [] },
        { name: "web", labels: { app: "web" }, nodePorts: [31080, 31081] },
      ],
    );
    expect(targets).toEqual([{ pod: "web-1", url: "http://10.0.0.7:31080/metrics" }]);
    expect(warnings).toEqual([]);
  });

  it("says what to change when no NodePort Service carries the label, or the label is not a selector", () => {
    expect(appTargets(spec, [pod("web-1", { app: "web" })], []).warnings).toEqual([
      "appEndpoints: no Service labelled app=web with a NodePort in the instance's namespace; expose the metrics port with a NodePort Service carrying that label",
    ]);
    expect(appTargets({ ...spec, label: "app in (web)" }, [], []).warnings[0]).toContain(
      "is not an equality selector",
    );
  });
});

describe("parseEqualitySelector", () => {
  it.each([
    ["app=web", { app: "web" }],
    [
      "app.kubernetes.io/component==web, tier=front",
      { "app.kubernetes.io/component": "web", tier: "front" },
    ],
    ["app!=web", undefined],
    ["", undefined],
  ])("%s", (text, expected) => {
    expect(parseEqualitySelector(text)).toEqual(expected);
  });
});

describe("pickAppMetrics", () => {
  it("keeps the named metrics, summing their series, and ignores the rest", () => {
    const text = [
      "# HELP requests_total Requests.",
      "# TYPE requests_total counter",
      'requests_total{code="200"} 40',
      'requests_total{code="500"} 2',
      "other_metric 7",
    ].join("\n");
    expect(pickAppMetrics(text, ["requests_total", "missing"], "web-1")).toEqual([
      { name: "requests_total", pod: "web-1", value: 42 },
    ]);
  });
});
