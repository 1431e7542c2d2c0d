// Plugins benchmark (issue: the kubectl plugins): how fast each bundled plugin answers for an instance of 50 objects,
// and how fast a plugin process starts, on the local control plane with the real helmer.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CoreV1Api } from "@kubernetes/client-node";
import { repoRoot, type ClusterState } from "@kubeplus/dev";
import {
  compositionManifest,
  kubeConfigFromFile,
  makeArchive,
  chartYaml,
  serveFiles,
  serviceEnv,
  startService,
} from "@kubeplus/testing";
import { stringify } from "yaml";
import { installPlatformCrds, kubectl } from "./platform.js";
import { percentile, type Figure } from "./report.js";

const run = promisify(execFile);
const RUNS = 10;
const OBJECTS = 50;

/** A chart of exactly OBJECTS objects: a Deployment, a Service and ConfigMaps. */
function fiftyObjectChart(): Promise<Buffer> {
  const configMaps = Array.from({ length: OBJECTS - 2 }, (_, i) =>
    stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `{{ .Release.Name }}-cm-${i}` },
      data: { index: String(i) },
    }),
  ).join("---\n");
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: "{{ .Release.Name }}"}}
  template:
    metadata: {labels: {app: "{{ .Release.Name }}"}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  type: NodePort
  selector: {app: "{{ .Release.Name }}"}
  ports: [{port: 80}]
`;
  return makeArchive([
    { name: "fifty/Chart.yaml", content: chartYaml("fifty") },
    { name: "fifty/values.yaml", content: "replicas: 2\n" },
    { name: "fifty/templates/web.yaml", content: deployment },
    { name: "fifty/templates/configmaps.yaml", content: configMaps },
  ]);
}

async function timed(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = process.hrtime.bigint();
  await run(file, args, { env });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function sample(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) times.push(await timed(file, args, env));
  return times.sort((a, b) => a - b);
}

function figure(name: string, target: string, times: number[], limitMs: number): Figure {
  const p50 = percentile(times, 50);
  const max = times[times.length - 1] ?? Number.NaN;
  return {
    benchmark: "plugins",
    figure: name,
    target,
    measured: `p50 ${Math.round(p50)} ms, max ${Math.round(max)} ms (${times.length} runs)`,
    value: max,
    unit: "ms",
    met: max <= limitMs,
  };
}

/** Polls a kubectl get until it prints True. */
async function waitFor(state: ClusterState, args: string[], what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await run(state.tools.kubectl, ["--kubeconfig", state.kubeconfig, ...args]).catch(
      () => ({
        stdout: "",
      }),
    );
    if (r.stdout === "True") return;
    if (Date.now() > deadline) throw new Error(`${what} never became ready`);
    await new Promise((r2) => setTimeout(r2, 500));
  }
}

export async function benchPlugins(state: ClusterState): Promise<Figure[]> {
  const kc = kubeConfigFromFile(state.kubeconfig);
  await installPlatformCrds(state);
  const kp = `bench-plugins-${Date.now().toString(36)}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: kp } } });
  const charts = await serveFiles({ "/fifty-0.1.0.tgz": await fiftyObjectChart() });
  const dir = mkdtempSync(join(tmpdir(), "bench-plugins-"));
  const helmer = await startService(
    "helmer",
    serviceEnv(state, {
      KUBEPLUS_NAMESPACE: kp,
      CHART_CACHE_DIR: join(dir, "cache"),
      LOG_LEVEL: "info",
    }),
    (l) => l.msg === "helmer started",
  );
  try {
    const pluginDir = join(dir, "plugins");
    await run("node", [join(repoRoot, "cli", "dist", "install-plugins", "main.js"), pluginDir]);
    const manifests = join(dir, "objects.json");
    const rc = compositionManifest({
      name: "fifty",
      namespace: kp,
      kind: "FiftyApp",
      plural: "fiftyapps",
      chartURL: `${charts.url}/fifty-0.1.0.tgz`,
      chartName: "fifty",
    });
    const instance = {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "FiftyApp",
      metadata: { name: "bench1", namespace: kp },
      spec: { replicas: 2 },
    };
    writeFileSync(manifests, JSON.stringify(rc));
    await kubectl(state, ["create", "-f", manifests]);
    await waitFor(
      state,
      [
        "get",
        "crd",
        "fiftyapps.platformapi.kubeplus",
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Established')].status}",
      ],
      "the FiftyApp CRD",
    );
    writeFileSync(manifests, JSON.stringify(instance));
    await kubectl(state, ["create", "-f", manifests]);
    await waitFor(
      state,
      [
        "get",
        "fiftyapps",
        "bench1",
        "-n",
        kp,
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
      ],
      "the 50-object instance",
    );

    const env = { ...process.env, KUBECONFIG: state.kubeconfig };
    const plugin = (name: string): string => join(pluginDir, `kubectl-${name}`);
    const commands: [string, string[]][] = [
      ["appresources", ["FiftyApp", "bench1", kp]],
      ["appstatus", ["FiftyApp", "bench1", kp]],
      ["appurl", ["FiftyApp", "bench1", kp]],
      ["man", ["FiftyApp"]],
    ];
    const figures: Figure[] = [];
    for (const [name, args] of commands)
      figures.push(
        figure(
          `kubectl ${name}, instance of ${OBJECTS} objects`,
          "<= 1 s",
          await sample(plugin(name), args, env),
          1000,
        ),
      );
    figures.push(
      figure(
        "plugin process startup (appresources --help)",
        "<= 150 ms",
        await sample(plugin("appresources"), ["--help"], env),
        150,
      ),
    );
    return figures;
  } finally {
    // While the helmer runs: it finalizes the instance and the composition.
    await kubectl(state, ["delete", "fiftyapps", "--all", "-n", kp, "--timeout=60s"]).catch(
      () => undefined,
    );
    await kubectl(state, [
      "delete",
      "resourcecomposition",
      "--all",
      "-n",
      kp,
      "--timeout=60s",
    ]).catch(() => undefined);
    await helmer.stop();
    await charts.close();
    await kubectl(state, ["delete", "namespace", kp, "--wait=false"]).catch(() => undefined);
  }
}
