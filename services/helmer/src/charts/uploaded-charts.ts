import { CoreV1Api, type KubeConfig, type V1ConfigMap } from "@kubernetes/client-node";
import {
  UPLOADED_CHART_DIGEST_ANNOTATION,
  UPLOADED_CHART_KEY,
  UPLOADED_CHART_LABEL,
  uploadedChartConfigMapName,
} from "@kubeplus/charts";
import { startCache, type WatchedCache } from "@kubeplus/kube";

/** Uploaded charts, read from their ConfigMaps in the KubePlus namespace (watched, so a re-upload is noticed). */
export interface UploadedCharts {
  load(file: string): Promise<Buffer | undefined>;
  digest(file: string): string | undefined;
  stop(): Promise<void>;
}

export async function watchUploadedCharts(
  kc: KubeConfig,
  namespace: string,
  onError: (err: unknown) => void,
): Promise<UploadedCharts> {
  const core = kc.makeApiClient(CoreV1Api);
  const cache: WatchedCache<V1ConfigMap> = await startCache({
    kc,
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    list: () => core.listNamespacedConfigMap({ namespace, labelSelector: UPLOADED_CHART_LABEL }),
    labelSelector: UPLOADED_CHART_LABEL,
    onError,
  });
  const find = (file: string): V1ConfigMap | undefined =>
    cache.get(uploadedChartConfigMapName(file), namespace);
  return {
    load: (file) => {
      const data = find(file)?.binaryData?.[UPLOADED_CHART_KEY];
      return Promise.resolve(data ? Buffer.from(data, "base64") : undefined);
    },
    digest: (file) => find(file)?.metadata?.annotations?.[UPLOADED_CHART_DIGEST_ANNOTATION],
    stop: () => cache.stop(),
  };
}
