import type { InstanceUsage } from "@kubeplus/contracts";
import { parsePrometheusText } from "./prom-text.js";

/** The composition's `resmonitor.spec.appEndpoints`: which pods, which path, which metric names. */
export interface AppEndpoints {
  /** Equality label selector, e.g. `app=web` or `app=web,tier=front`. */
  readonly label: string;
  /** HTTP path of the Prometheus text endpoint, with or without a leading slash (`metrics`). */
  readonly endpoint: string;
  readonly metrics: readonly string[];
}

/** One place to scrape: a pod of the instance and the URL its application metrics are served at. */
export interface AppTarget {
  readonly pod: string;
  readonly url: string;
}

interface LabelledPod {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly hostIP?: string;
  readonly running: boolean;
}

interface LabelledService {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly nodePorts: readonly number[];
}

/** Parses an equality-based selector (`k=v,k2==v2`); undefined when it is not one. */
export function parseEqualitySelector(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(",").map((p) => p.trim())) {
    if (!part) continue;
    const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)\s*==?\s*([-A-Za-z0-9_.]*)$/.exec(part);
    if (!m?.[1]) return undefined;
    out[m[1]] = m[2] ?? "";
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const selects = (
  selector: Record<string, string>,
  labels: Readonly<Record<string, string>>,
): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * Where the application metrics of an instance's pods are, as KubePlus users know it: the pods matching the label,
 * reached at their node's address on the NodePort of the first Service with that label. Pure; what cannot be
 * scraped becomes a warning that says what to change.
 */
export function appTargets(
  spec: AppEndpoints,
  pods: readonly LabelledPod[],
  services: readonly LabelledService[],
): { targets: AppTarget[]; warnings: string[] } {
  const selector = parseEqualitySelector(spec.label);
  if (!selector)
    return {
      targets: [],
      warnings: [
        `appEndpoints: label '${spec.label}' is not an equality selector such as app=web; no application metrics`,
      ],
    };
  const service = services.find((s) => selects(selector, s.labels) && s.nodePorts.length > 0);
  if (!service)
    return {
      targets: [],
      warnings: [
        `appEndpoints: no Service labelled ${spec.label} with a NodePort in the instance's namespace; expose the metrics port with a NodePort Service carrying that label`,
      ],
    };
  const port = service.nodePorts[0] ?? 0;
  const path = spec.endpoint.startsWith("/") ? spec.endpoint : `/${spec.endpoint}`;
  const warnings: string[] = [];
  const targets = pods
    .filter((p) => p.running && selects(selector, p.labels))
    .flatMap((p) => {
      if (!p.hostIP) {
        warnings.push(`appEndpoints: pod ${p.name} has no host address yet; not scraped`);
        return [];
      }
      const host = p.hostIP.includes(":") ? `[${p.hostIP}]` : p.hostIP;
      return [{ pod: p.name, url: `http://${host}:${String(port)}${path}` }];
    });
  return { targets, warnings };
}

/** The samples of the named metrics in one pod's exposition (a name matches its samples whatever their labels). */
export function pickAppMetrics(
  text: string,
  names: readonly string[],
  pod: string,
): InstanceUsage["custom"] {
  const wanted = new Set(names.map((n) => n.split("{")[0]?.trim() ?? n));
  const sums = new Map<string, number>();
  for (const s of parsePrometheusText(text))
    if (wanted.has(s.name) && Number.isFinite(s.value))
      sums.set(s.name, (sums.get(s.name) ?? 0) + s.value);
  return [...sums].map(([name, value]) => ({ name, pod, value }));
}
