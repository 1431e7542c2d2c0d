// `helm test`: crd-hook answers the apiserver through its Service. A server-side dry run (nothing is stored) of a
// ResourceComposition whose quota is not a quantity must come back refused by crd-hook's validating webhook, with
// its message. Until crd-hook has filled its webhook configuration (just after an install) the dry run is admitted
// without it, or fails calling it: retried for up to 120 s. Runs with the pod's ServiceAccount (the chart's).
import { readFileSync } from "node:fs";
import { request } from "node:https";

const SA = "/var/run/secrets/kubernetes.io/serviceaccount";
const namespace = readFileSync(`${SA}/namespace`, "utf8").trim();
const token = readFileSync(`${SA}/token`, "utf8").trim();
const ca = readFileSync(`${SA}/ca.crt`);
const host = process.env.KUBERNETES_SERVICE_HOST ?? "kubernetes.default.svc";
const port = Number(process.env.KUBERNETES_SERVICE_PORT ?? "443");
const DEADLINE = Date.now() + 120_000;
const resource = {
  kind: "HelmTestProbe",
  group: "platformapi.kubeplus",
  version: "v1alpha1",
  plural: "helmtestprobes",
};
const composition = {
  apiVersion: "workflows.kubeplus/v1alpha1",
  kind: "ResourceComposition",
  metadata: { name: "helm-test-probe", namespace },
  spec: {
    newResource: { resource, chartURL: "ftp://chart.invalid/probe-0.1.0.tgz", chartName: "probe" },
    respolicy: {
      apiVersion: "workflows.kubeplus/v1alpha1",
      kind: "ResourcePolicy",
      metadata: { name: "helm-test-probe" },
      spec: {
        resource,
        policy: {
          quota: {
            "requests.cpu": "lots",
            "requests.memory": "1Gi",
            "limits.cpu": "1",
            "limits.memory": "1Gi",
          },
        },
      },
    },
  },
};

function dryRunCreate() {
  const body = JSON.stringify(composition);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        ca,
        method: "POST",
        path: `/apis/workflows.kubeplus/v1alpha1/namespaces/${namespace}/resourcecompositions?dryRun=All&fieldManager=kubeplus-helm-test`,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
        timeout: 30_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer from the apiserver in 30 s")));
    req.on("error", reject);
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The apiserver's answer judged: PASS or FAIL (the run ends), or what to wait on. */
function judge(status, text) {
  let message = text;
  try {
    message = JSON.parse(text).message ?? text;
  } catch {
    // not a Status: keep the raw text
  }
  if (status >= 400 && /denied the request/.test(message)) {
    return /'lots' is not a Kubernetes quantity/.test(message)
      ? { pass: `crd-hook refused the composition (HTTP ${status}): ${message}` }
      : { fail: `refused, but not for the quota: ${message}` };
  }
  if (status === 401 || status === 403)
    return { fail: `the apiserver refused the test's identity (HTTP ${status}): ${message}` };
  return {
    wait: `HTTP ${status}: ${status < 300 ? "admitted without crd-hook's refusal" : message}`,
  };
}

let said = "";
for (;;) {
  let last;
  try {
    const { status, text } = await dryRunCreate();
    const verdict = judge(status, text);
    if (verdict.pass) {
      console.log(`PASS: ${verdict.pass}`);
      process.exit(0);
    }
    if (verdict.fail) {
      console.error(`FAIL: ${verdict.fail}`);
      process.exit(1);
    }
    last = verdict.wait;
  } catch (err) {
    last = String(err);
  }
  if (Date.now() > DEADLINE) {
    console.error(`FAIL: crd-hook did not refuse a bad composition within 120 s; last: ${last}`);
    process.exit(1);
  }
  if (last !== said) console.log(`waiting for crd-hook: ${last}`);
  said = last;
  await sleep(3_000);
}
