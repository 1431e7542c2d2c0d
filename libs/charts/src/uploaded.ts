/**
 * Uploaded charts (`kubectl upload chart x.tgz`, then `chartURL: file:///x.tgz`) live in the cluster, so that they
 * survive restarts of every service: one ConfigMap per chart in the KubePlus namespace, the archive in binaryData.
 */
export const UPLOADED_CHART_LABEL = "kubeplus.dev/uploaded-chart";
export const UPLOADED_CHART_FILE_ANNOTATION = "kubeplus.dev/chart-file";
export const UPLOADED_CHART_DIGEST_ANNOTATION = "kubeplus.dev/chart-digest";
export const UPLOADED_CHART_KEY = "chart.tgz";
/** A ConfigMap holds at most 1 MiB; the archive must fit. */
export const UPLOADED_CHART_MAX_BYTES = 1024 * 1024 - 16 * 1024;

/** The ConfigMap name of an uploaded chart file (a DNS-1123 name derived from the file name). */
export function uploadedChartConfigMapName(file: string): string {
  const base = file
    .toLowerCase()
    .replace(/\.tgz$/, "")
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `chart-${base}`.slice(0, 253);
}
