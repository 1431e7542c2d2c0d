import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sharedChart as shared } from "@kubeplus/testing";
import { DEFAULT_LIMITS, inspectChartArchive } from "./archive.js";
import { chartYaml, makeArchive, minimalChart } from "@kubeplus/testing";

describe("inspectChartArchive with real charts", () => {
  it("reads the walkthrough's WordPress chart: metadata, values, digest", async () => {
    const chart = await inspectChartArchive(shared("wordpress-chart-0.0.4.tgz"), "wordpress-chart");
    expect(chart.metadata).toMatchObject({ name: "wordpress-chart", version: "0.0.4" });
    expect(chart.values).toEqual({ resourceName: "wp-stack1" });
    expect(chart.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect([...chart.files.keys()]).toContain("templates/wordpress-deployment.yaml");
  });

  it("reads a chart with a subchart, keeping the subchart's values.schema.json out of the parent's", async () => {
    const chart = await inspectChartArchive(shared("custom-mysql-1.0-10.1.0.tgz"), "custom-mysql");
    expect(chart.files.has("charts/mysql/values.schema.json")).toBe(true);
    expect(chart.valuesSchema).toBeUndefined();
  });

  it("collects crds/ documents of the chart and of its subcharts", async () => {
    const crd = (n: string): string =>
      `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${n}\n`;
    const archive = await minimalChart("with-crds", [
      {
        name: "with-crds/crds/a.yaml",
        content: `${crd("as.example.com")}---\n${crd("bs.example.com")}`,
      },
      { name: "with-crds/charts/sub/Chart.yaml", content: chartYaml("sub") },
      { name: "with-crds/charts/sub/crds/c.yaml", content: crd("cs.example.com") },
      { name: "with-crds/templates/crds/not-a-crd.yaml", content: crd("template.example.com") },
    ]);
    const chart = await inspectChartArchive(archive, "with-crds");
    expect(chart.crds.map((c) => (c.metadata as { name: string }).name)).toEqual([
      "cs.example.com",
      "as.example.com",
      "bs.example.com",
    ]);
  });
});

describe("inspectChartArchive refuses hostile archives with a clear reason", () => {
  it.each([
    [
      "path traversal",
      [{ name: "evil/../../etc/passwd", content: "x" }],
      /climbs out of the chart/,
    ],
    [
      "an absolute path",
      [{ name: "/etc/cron.d/evil", content: "x" }],
      /absolute path '\/etc\/cron.d\/evil'/,
    ],
    [
      "a symlink out of the chart",
      [{ name: "evil/templates/link.yaml", type: "symlink" as const, linkname: "/etc/shadow" }],
      /symbolic link 'evil\/templates\/link.yaml' -> '\/etc\/shadow'/,
    ],
    [
      "a hard link",
      [{ name: "evil/values2.yaml", type: "link" as const, linkname: "evil/values.yaml" }],
      /hard link/,
    ],
    [
      "a device file",
      [{ name: "evil/dev", type: "character-device" as const }],
      /character-device entry/,
    ],
    [
      "an entry outside the chart folder",
      [{ name: "other/file.yaml", content: "x" }],
      /outside the folder 'evil\/'/,
    ],
  ])("%s", async (_label, extra, message) => {
    const archive = await minimalChart("evil", extra);
    await expect(inspectChartArchive(archive, "evil")).rejects.toThrow(message);
  });

  it("an archive whose top folder is not the chartName, saying which name to use", async () => {
    const archive = await minimalChart("wordpress-chart");
    await expect(inspectChartArchive(archive, "wordpress")).rejects.toThrow(
      "chartName is 'wordpress' but the archive's top folder is 'wordpress-chart'; set chartName to 'wordpress-chart'",
    );
  });

  it("a Chart.yaml that names another chart", async () => {
    const archive = await makeArchive([{ name: "a/Chart.yaml", content: chartYaml("b") }]);
    await expect(inspectChartArchive(archive, "a")).rejects.toThrow(
      /Chart.yaml names the chart 'b'/,
    );
  });

  it("an oversized file and an oversized archive", async () => {
    const big = "x".repeat(2048);
    const archive = await minimalChart("big", [{ name: "big/files/blob", content: big }]);
    await expect(
      inspectChartArchive(archive, "big", { ...DEFAULT_LIMITS, maxFileBytes: 1024 }),
    ).rejects.toThrow(/'big\/files\/blob' is 2048 bytes; the limit per file is 1024/);
    await expect(
      inspectChartArchive(archive, "big", { ...DEFAULT_LIMITS, maxArchiveBytes: 100 }),
    ).rejects.toThrow(/the limit is 100/);
  });

  it("a compression bomb", async () => {
    const bomb = gzipSync(Buffer.alloc(3 * 1024 * 1024));
    await expect(
      inspectChartArchive(bomb, "x", { ...DEFAULT_LIMITS, maxTotalBytes: 1024 * 1024 }),
    ).rejects.toThrow(/expands beyond/);
  });

  it("deeply nested folders and subcharts", async () => {
    const deep = `deep/${Array.from({ length: 25 }, (_, i) => `d${i}`).join("/")}/f.yaml`;
    await expect(
      inspectChartArchive(await minimalChart("deep", [{ name: deep, content: "x" }]), "deep"),
    ).rejects.toThrow(/nested 26 folders deep; the limit is 20/);
    const nested = `n/${Array.from({ length: 6 }, (_, i) => `charts/s${i}`).join("/")}/Chart.yaml`;
    await expect(
      inspectChartArchive(await minimalChart("n", [{ name: nested, content: "x" }]), "n"),
    ).rejects.toThrow(/nests subcharts 6 levels deep/);
  });

  it("something that is not a chart archive at all", async () => {
    await expect(inspectChartArchive(Buffer.from("<html>404</html>"), "x")).rejects.toThrow(
      /not a gzip-compressed tar file/,
    );
  });
});
