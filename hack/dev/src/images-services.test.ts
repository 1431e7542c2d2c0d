import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BUNDLE_BANNER, bundleOptions } from "./images-bundle.js";
import {
  cacheKey,
  CHART_IMAGE_REGISTRY,
  IMAGES,
  imageRefs,
  selectImages,
  SERVICE_IMAGES,
  umociConfigArgs,
  type BuildInputs,
  type ImageDefinition,
} from "./images.js";
import { repoRoot } from "./paths.js";

const SERVICES = ["crd-hook", "helmer", "kubeconfig-generator", "metrics-collector", "console"];
const chart = join(repoRoot, "deploy", "charts", "kubeplus");
const def = (name: string): ImageDefinition => {
  const found = SERVICE_IMAGES.find((d) => d.name === name);
  if (!found) throw new Error(`no service image ${name}`);
  return found;
};
const inputsOf = (name: string, more: Partial<BuildInputs> = {}): BuildInputs => ({
  recipe: 3,
  definition: def(name),
  version: "0.1.0",
  revision: "0123456789abcdef0123456789abcdef01234567",
  platform: { os: "linux", architecture: "amd64" },
  sources: { "bundle:/app/dist/main.js": "aa", "hack/images/nodejs/packages-amd64.lock": "bb" },
  umociVersion: "umoci version 0.4.7",
  debs: { "nodejs=20.19.2+dfsg-1+deb13u3": "cc" },
  esbuildVersion: "0.28.2",
  ...more,
});
const flagValues = (args: string[], flag: string): string[] =>
  args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ""] : []));

describe("the service images", () => {
  it("are the five services, each built from its package and none of the nodes' images", () => {
    expect(SERVICE_IMAGES.map((d) => d.name)).toEqual(SERVICES);
    for (const d of SERVICE_IMAGES) {
      expect(d.service).toBe(d.name);
      expect(d.nodeBase).toBe(true);
      expect(d.busybox).toBe(false);
    }
    expect(IMAGES.some((d) => d.service)).toBe(false);
  });

  it("are tagged with the services' version, which is the chart's appVersion, under ours and the chart's names", () => {
    const appVersion = (
      parse(readFileSync(join(chart, "Chart.yaml"), "utf8")) as { appVersion: string }
    ).appVersion;
    for (const name of SERVICES) {
      const pkg = JSON.parse(
        readFileSync(join(repoRoot, "services", name, "package.json"), "utf8"),
      ) as { version: string };
      expect(pkg.version).toBe(appVersion);
      expect(imageRefs(def(name), pkg.version)).toEqual([
        `localhost/kubeplus/${name}:${appVersion}`,
        `${CHART_IMAGE_REGISTRY}/${name}:${appVersion}`,
      ]);
    }
  });

  it("use the registry and pull policy the chart's values name, so its defaults find them on a node", () => {
    const values = parse(readFileSync(join(chart, "values.yaml"), "utf8")) as {
      image: { registry: string; tag: string; pullPolicy: string };
    };
    expect(values.image.registry).toBe(CHART_IMAGE_REGISTRY);
    expect(values.image.tag).toBe("");
    expect(values.image.pullPolicy).toBe("IfNotPresent");
  });

  it("run node on the bundle as 65532, from /app, with no shell on PATH and the chart's ports", () => {
    const ports: Record<string, string[]> = {
      "crd-hook": ["8443/tcp", "8081/tcp"],
      helmer: ["8081/tcp"],
      "kubeconfig-generator": ["8081/tcp"],
      "metrics-collector": ["9090/tcp", "8081/tcp"],
      console: ["8080/tcp", "8081/tcp"],
    };
    for (const name of SERVICES) {
      const args = umociConfigArgs(inputsOf(name));
      expect(flagValues(args, "--config.user")).toEqual(["65532:65532"]);
      expect(flagValues(args, "--config.workingdir")).toEqual(["/app"]);
      expect(flagValues(args, "--config.entrypoint")).toEqual([
        "/usr/bin/node",
        "/app/dist/main.js",
      ]);
      expect(flagValues(args, "--config.exposedports")).toEqual(ports[name]);
      const env = flagValues(args, "--config.env");
      expect(env).toEqual(
        expect.arrayContaining([
          "PATH=/usr/local/bin:/usr/bin",
          "HOME=/tmp",
          "NODE_ENV=production",
        ]),
      );
      expect(flagValues(args, "--manifest.annotation")).toEqual(
        expect.arrayContaining([
          "org.opencontainers.image.source=https://github.com/cloud-ark/kubeplus",
          "org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567",
          "org.opencontainers.image.version=0.1.0",
          `org.opencontainers.image.title=${name}`,
        ]),
      );
    }
  });

  it("give the helmer its pinned helm and post-render forwarder, and tell it where they are", () => {
    const helmer = def("helmer");
    expect(helmer.helm).toBe("/usr/local/bin/helm");
    expect(helmer.goPrograms).toEqual({
      "/app/bin/kubeplus-post-render": "services/helmer/post-render-shim",
    });
    const env = flagValues(umociConfigArgs(inputsOf("helmer")), "--config.env");
    expect(env).toEqual(
      expect.arrayContaining([
        "HELM_BIN=/usr/local/bin/helm",
        "POST_RENDER_BIN=/app/bin/kubeplus-post-render",
      ]),
    );
    for (const other of SERVICES.filter((s) => s !== "helmer"))
      expect(def(other).helm).toBeUndefined();
  });

  it("give the console its built single-page app and tell it where it is; no other service has assets", () => {
    const image = def("console");
    expect(image.assets).toEqual({ "/app/dist/web": "services/console/dist/web" });
    expect(image.helm).toBeUndefined();
    const env = flagValues(umociConfigArgs(inputsOf("console")), "--config.env");
    expect(env).toContain("CONSOLE_WEB_DIR=/app/dist/web");
    for (const other of SERVICES.filter((s) => s !== "console")) {
      expect(def(other).assets).toBeUndefined();
      expect(flagValues(umociConfigArgs(inputsOf(other)), "--config.env").join(" ")).not.toMatch(
        /CONSOLE_/,
      );
    }
    // A changed page makes another image.
    const page = (hash: string): Partial<BuildInputs> => ({
      sources: { "bundle:/app/dist/main.js": "aa", "asset:/app/dist/web/app.js": hash },
    });
    expect(cacheKey(inputsOf("console", page("1")))).not.toBe(
      cacheKey(inputsOf("console", page("2"))),
    );
  });

  it("get another key when the bundle, a pinned package, helm or esbuild changes", () => {
    const base = cacheKey(inputsOf("helmer"));
    const changed: Partial<BuildInputs>[] = [
      {
        sources: {
          "bundle:/app/dist/main.js": "zz",
          "hack/images/nodejs/packages-amd64.lock": "bb",
        },
      },
      { debs: { "nodejs=20.19.3+dfsg-1": "cc" } },
      { helm: { version: "v4.3.1", sha256: "ee" } },
      { esbuildVersion: "0.28.3" },
    ];
    for (const more of changed) expect(cacheKey(inputsOf("helmer", more))).not.toBe(base);
  });

  it("are built by --services, picked by name, and left out of the nodes' default build", () => {
    expect(selectImages({ services: true }).map((d) => d.name)).toEqual(SERVICES);
    expect(selectImages({ only: ["helmer", "pause"] }).map((d) => d.name)).toEqual([
      "pause",
      "helmer",
    ]);
    expect(selectImages({}).some((d) => d.service)).toBe(false);
    expect(() => selectImages({ only: ["nginx"] })).toThrow(
      /unknown image nginx; .*crd-hook, helmer/,
    );
  });
});

describe("the service bundle", () => {
  it("is one ES module for Node 20 from the service's compiled entry point, with Node's require for CommonJS", () => {
    const o = bundleOptions("helmer", "/tmp/out/main.js");
    expect(o.entryPoints).toEqual([join(repoRoot, "services", "helmer", "dist", "main.js")]);
    expect(o).toMatchObject({ bundle: true, platform: "node", format: "esm", target: "node20" });
    expect(o.absWorkingDir).toBe(repoRoot);
    expect(o.minifyIdentifiers).toBeUndefined();
    expect(o.banner).toEqual({ js: BUNDLE_BANNER });
    expect(BUNDLE_BANNER).toContain("createRequire");
  });
});
