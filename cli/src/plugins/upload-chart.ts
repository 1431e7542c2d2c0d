import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import {
  chartNameOf,
  digestOf,
  inspectChartArchive,
  UPLOADED_CHART_DIGEST_ANNOTATION,
  UPLOADED_CHART_FILE_ANNOTATION,
  UPLOADED_CHART_KEY,
  UPLOADED_CHART_LABEL,
  UPLOADED_CHART_MAX_BYTES,
  uploadedChartConfigMapName,
} from "@kubeplus/charts";
import { ClusterIO } from "@kubeplus/access";
import { findKubeplusNamespace, runPlugin, UsageError, type PluginIO } from "../common/plugin.js";
import { parsePluginArgs } from "../common/args.js";

export const UPLOAD_HELP = `Store a chart archive in the cluster, so that a ResourceComposition can use chartURL: file:///<file>.tgz. It is
checked first (a valid chart, within ${Math.floor(UPLOADED_CHART_MAX_BYTES / 1024)} KiB) and survives restarts of every service.

Usage:
  kubectl upload chart <chart.tgz> [<provider-kubeconfig>] [-k <kubeconfig>] [-n <kubeplus-namespace>]
`;

export function runUploadChart(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("upload chart", io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: {
          namespace: { type: "string", short: "n" },
        },
        formats: [],
        help: UPLOAD_HELP,
      },
      io.out,
    );
    if (!args) return;
    const { values, positionals } = args;
    const [file, kubeconfig, ...rest] = positionals;
    if (!file || rest.length > 0) throw new UsageError("expected: <chart.tgz> [<kubeconfig>]");
    if (!file.endsWith(".tgz")) throw new UsageError(`${file} is not a .tgz chart archive`);
    const archive = await readFile(file).catch(() => {
      throw new UsageError(`cannot read ${file}`);
    });
    if (archive.length > UPLOADED_CHART_MAX_BYTES)
      throw new Error(
        `${file} is ${Math.ceil(archive.length / 1024)} KiB; an uploaded chart may be at most ${Math.floor(UPLOADED_CHART_MAX_BYTES / 1024)} KiB (serve larger charts over https:// or oci://)`,
      );
    const chart = await inspectChartArchive(archive, chartNameOf(archive));
    const kc = await io.loadKubeconfig({
      ...args.target,
      kubeconfig: kubeconfig ?? args.target.kubeconfig,
    });
    const namespace = await findKubeplusNamespace(kc, values.namespace);
    const name = basename(file);
    await new ClusterIO(kc, "kubectl-kubeplus").apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: uploadedChartConfigMapName(name),
        namespace,
        labels: { [UPLOADED_CHART_LABEL]: "true" },
        annotations: {
          [UPLOADED_CHART_FILE_ANNOTATION]: name,
          [UPLOADED_CHART_DIGEST_ANNOTATION]: digestOf(archive),
        },
      },
      binaryData: { [UPLOADED_CHART_KEY]: archive.toString("base64") },
    });
    io.out(
      `chart ${chart.metadata.name} ${chart.metadata.version} uploaded to ${namespace}: use chartURL: file:///${name}\n`,
    );
  });
}
