// The console in a real headless Chromium (Debian's, driven by playwright-core: docs/adr/0009-browser-tests.md),
// against the real platform: the helmer (as the provider's identity), crd-hook (which records each instance's
// creator, so that its consumer may read the release's pods, logs and usage), the metrics-collector reading the
// kubelet of a real node, and the console itself, which holds no Kubernetes credential of its own. Alice orders a
// tenant-echo instance through the form generated from the kind's schema, sees the apiserver's refusal of a bad value
// next to its field, watches it become Ready on the real node, reads its usage charts and its container's log, edits
// it and deletes it; Bob does not see her instances, and his forged request for them is refused by the apiserver;
// hostile strings in a tenant's log and in a condition's message are shown as text; the provider sees the fleet. Every page passes
// axe-core and fits 375 px; the screenshots in docs/console.md are taken here.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccessNames,
  ClusterIO,
  deleteIdentity,
  grantConsumerKinds,
  issueKubeconfig,
  setUpConsumer,
  setUpProvider,
  type IdentityRef,
} from "@kubeplus/access";
import {
  compositionManifest,
  exampleChart,
  expectAccessible,
  expectNoHorizontalScroll,
  freePort,
  instanceNamespace,
  launchBrowser,
  ManifestDir,
  MOBILE_VIEWPORT,
  DESKTOP_VIEWPORT,
  platformNamespace,
  screenshot,
  serveFiles,
  serviceEnv,
  startConsole,
  startCrdHook,
  startHelmer,
  startService,
  tearDownPlatform,
  TestCluster,
  waitFor,
  waitForCrd,
  watchPageErrors,
  type PageErrors,
  type RunningService,
  type TestBrowser,
} from "@kubeplus/testing";

type Page = Awaited<ReturnType<TestBrowser["newPage"]>>;

const cluster = new TestCluster();
const io = new ClusterIO(cluster.kc, "test");
const manifests = new ManifestDir("console-e2e");
const work = mkdtempSync(join(tmpdir(), "console-e2e-"));
const GROUP = "platformapi.kubeplus";
const KIND = "EchoShop";
const PLURAL = "echoshops";
const CRD = `${PLURAL}.${GROUP}`;
const RUN = Date.now().toString(36).slice(-5);
const teams = { alice: `shop-a-${RUN}`, bob: `shop-b-${RUN}` } as const;
const consumers: Record<keyof typeof teams, IdentityRef> = {
  alice: { namespace: teams.alice, serviceAccount: "alice" },
  bob: { namespace: teams.bob, serviceAccount: "bob" },
};
/** Alice's instance, ordered through the form. */
const SHOP = "shop";
/** Alice's instance whose tenant name (which tenant-echo prints in its log) is hostile markup. */
const XSS = "xss";
/** Alice's instance whose container resources the apiserver refuses at install: a failing instance. */
const BROKEN = "broken";
const HOSTILE_TENANT = "<img src=x onerror=__xss=1><script>__xss=2</script>";
const HOSTILE_MESSAGE = `<img src=x onerror="window.__xss=3"> <script>window.__xss=4</script> & "quotes"`;
const REAL_NODE_LABEL = "kubeplus.dev/real-node";
/**
 * Where the screenshots go: with KUBEPLUS_UPDATE_SCREENSHOTS=1, this checkout's docs/ (the ones docs/console.md shows,
 * whatever the working directory); otherwise a temporary folder, so that a test run leaves the checkout as it was
 * (the pages hold random namespace names and ages: every run's pictures differ).
 */
const SHOTS =
  process.env.KUBEPLUS_UPDATE_SCREENSHOTS === "1"
    ? fileURLToPath(new URL("../../docs/console-screenshots/", import.meta.url))
    : mkdtempSync(join(tmpdir(), "console-screenshots-"));

let kp = "";
let provider: IdentityRef;
const kubeconfigs: Record<"provider" | keyof typeof teams, string> = {
  provider: "",
  alice: "",
  bob: "",
};
let helmer: RunningService;
let hook: RunningService | undefined;
let collector: RunningService | undefined;
let consoleService: (RunningService & { url: string }) | undefined;
let charts: Awaited<ReturnType<typeof serveFiles>> | undefined;
let browser: TestBrowser | undefined;
let alice: Page;
let aliceErrors: PageErrors;

/** A consumer's or the provider's kubeconfig (JSON), and its file for kubectl. */
async function kubeconfigFor(ref: IdentityRef): Promise<string> {
  const issued = await issueKubeconfig(io, ref, { clusterName: "prod", durationSeconds: 3600 });
  const text = JSON.stringify(issued.config);
  writeFileSync(join(work, `${ref.serviceAccount}.json`), text, { mode: 0o600 });
  return text;
}
const kubeconfigFile = (who: string): string => join(work, `${who}.json`);

function startCollector(port: number): Promise<RunningService> {
  return startService(
    "metrics-collector",
    serviceEnv(cluster.state, {
      KUBEPLUS_NAMESPACE: kp,
      PORT: String(port),
      HOST: "127.0.0.1",
      INTERVAL_SECONDS: "2",
      KUBELET_ACCESS: "direct",
      KUBELET_CA_FILE: join(cluster.state.runDir, "pki", "ca.crt"),
      POD_NAME: `metrics-collector-${kp}`,
    }),
    (l) => l.msg === "metrics-collector started",
  );
}

/** Creates one of Alice's instances with her own kubeconfig (as `kubectl create` would, past crd-hook). */
async function createAsAlice(name: string, spec: Record<string, unknown>): Promise<void> {
  const manifest = {
    apiVersion: `${GROUP}/v1alpha1`,
    kind: KIND,
    metadata: { name, namespace: teams.alice },
    spec: {
      nodeSelector: { [REAL_NODE_LABEL]: "true" },
      tolerations: [{ key: REAL_NODE_LABEL, operator: "Exists" }],
      ...spec,
    },
  };
  const created = await cluster.kubectl(
    ["create", "-f", manifests.write(name, manifest)],
    kubeconfigFile("alice"),
  );
  expect(created.stderr).toBe("");
}

/** What the page shows in its <main>, for a failing wait's message. */
async function pageText(page: Page): Promise<string> {
  const text = await page
    .locator("main")
    .innerText({ timeout: 2000 })
    .catch((e: unknown) => `(no text: ${String(e)})`);
  return `page ${page.url()} shows:\n${text.slice(0, 3000)}`;
}

/** Waits until the element's text matches; fails with what the page shows and the services' logs. */
async function seeText(
  page: Page,
  selector: string,
  expected: RegExp,
  timeoutMs = 30_000,
): Promise<string> {
  return waitFor(
    async () => {
      const el = page.locator(selector).first();
      if ((await el.count()) === 0) return undefined;
      const text = await el.innerText({ timeout: 1000 });
      return expected.test(text) ? text : undefined;
    },
    {
      what: `${selector} to show ${String(expected)}`,
      timeoutMs,
      intervalMs: 250,
      diagnose: () => pageText(page),
    },
  );
}

/** Waits until the selector matches a visible element. */
async function see(page: Page, selector: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await page.locator(selector).first().isVisible()) || undefined, {
    what: `${selector} on the page`,
    timeoutMs,
    intervalMs: 250,
    diagnose: () => pageText(page),
  });
}

/**
 * The checks every page gets: axe-core (every rule it runs by default), no sideways scroll at 375 px, and, when
 * named, its screenshot for docs/console.md (desktop width, the visible part).
 */
async function checkPage(
  page: Page,
  what: string,
  shot?: string,
  scrollTo?: string,
): Promise<void> {
  await expectAccessible(page, what);
  await page.setViewportSize({ ...MOBILE_VIEWPORT });
  try {
    await expectNoHorizontalScroll(page, what);
    await expectAccessible(page, `${what} at 375 px`);
  } finally {
    await page.setViewportSize({ ...DESKTOP_VIEWPORT });
  }
  if (scrollTo)
    await page.evaluate(
      `document.querySelector(${JSON.stringify(scrollTo)}).scrollIntoView({ block: "center" })`,
    );
  if (shot) await screenshot(page, join(SHOTS, `${shot}.png`), { fullPage: false });
}

async function signIn(page: Page, kubeconfig: string, user: string): Promise<void> {
  await page.goto("/");
  await see(page, '[data-testid="page-sign-in"]');
  await page.locator("#kubeconfig").fill(kubeconfig);
  await page.locator("#sign-in").click();
  await seeText(page, "#session-user", new RegExp(user));
}

async function openInstance(page: Page, name: string): Promise<void> {
  await page.goto(`/#/kinds/${PLURAL}/${name}`);
  await see(page, '[data-testid="page-instance"]');
}

/** The script errors and CSP refusals the page logged: none are expected. */
function expectNoPageErrors(errors: PageErrors): void {
  expect(errors.all(), "script errors or CSP violations in the page").toEqual([]);
}

beforeAll(async () => {
  expect(
    cluster.state.realNodes.length,
    "the control plane has no real node (up --real-nodes)",
  ).toBeGreaterThan(0);
  kp = await platformNamespace(cluster, "kpcon");
  provider = { namespace: kp, serviceAccount: AccessNames.Provider };
  await setUpProvider(io, provider, []);
  kubeconfigs.provider = await kubeconfigFor(provider);
  for (const who of ["alice", "bob"] as const) {
    await setUpConsumer(io, consumers[who]);
    kubeconfigs[who] = await kubeconfigFor(consumers[who]);
  }
  charts = await serveFiles({
    "/tenant-echo-0.1.0.tgz": exampleChart(cluster.state.tools.helm, "tenant-echo"),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"), {
    KUBECONFIG: kubeconfigFile(AccessNames.Provider),
  });
  hook = await startCrdHook(cluster, kp, await freePort());
  collector = await startCollector(await freePort());
  const rc = compositionManifest({
    name: "echo-shop",
    namespace: kp,
    kind: KIND,
    plural: PLURAL,
    chartURL: `${charts.url}/tenant-echo-0.1.0.tgz`,
    chartName: "tenant-echo",
  });
  const created = await waitFor(
    async () => {
      const r = await cluster.kubectl(
        ["create", "-f", manifests.write("rc", rc)],
        kubeconfigFile(AccessNames.Provider),
      );
      // crd-hook renders the chart through the helmer: right after both start, it may ask to retry.
      return r.code === 0 ? r : undefined;
    },
    { what: "crd-hook to admit the composition", timeoutMs: 60_000 },
  );
  expect(created.stderr).toBe("");
  await waitForCrd(cluster, CRD);
  await grantConsumerKinds(io, [PLURAL], GROUP);
  // The hostile instances start now, so that their pods run while the journey goes on.
  await createAsAlice(XSS, { tenant: HOSTILE_TENANT });
  await createAsAlice(BROKEN, { resources: { requests: { cpu: "a lot" } } });
  consoleService = await startConsole(cluster);
  browser = await launchBrowser();
  alice = await browser.newPage({ baseURL: consoleService.url });
  aliceErrors = watchPageErrors(alice);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await consoleService?.stop();
  for (const ns of Object.values(teams))
    await cluster.kubectl(["delete", PLURAL, "--all", "-n", ns, "--wait=true", "--timeout=90s"]);
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: [CRD],
    services: [helmer, hook, collector],
    webhooks: true,
  });
  for (const who of ["alice", "bob"] as const) {
    await deleteIdentity(io, consumers[who]).catch(() => undefined);
    await cluster.core.deleteNamespace({ name: teams[who] }).catch(() => undefined);
  }
  await deleteIdentity(io, provider).catch(() => undefined);
  await charts?.close();
}, 300_000);

describe("the console in a browser, as a consumer", () => {
  it("signs Alice in with her kubeconfig and shows her catalog: the kind, its description", async () => {
    await alice.goto("/");
    await see(alice, '[data-testid="page-sign-in"]');
    await checkPage(alice, "the sign-in page", "sign-in");
    // A kubeconfig the apiserver does not accept: the server's message, and still the sign-in page.
    await alice
      .locator("#kubeconfig")
      .fill(kubeconfigs.alice.replace(/"token":"[^"]+"/, '"token":"not-a-token"'));
    await alice.locator("#sign-in").click();
    await seeText(alice, "#sign-in-error", /did not accept this kubeconfig's credential/);
    await checkPage(alice, "the sign-in page with an error");

    await signIn(alice, kubeconfigs.alice, `system:serviceaccount:${teams.alice}:alice`);
    expect(await alice.locator("#session-namespace").innerText()).toContain(teams.alice);
    await see(alice, `[data-testid="kind-${PLURAL}"]`);
    expect(await alice.locator(`[data-testid="kind-${PLURAL}"] h2 a`).innerText()).toBe(KIND);
    // A consumer is no provider: no provider page in the menu.
    expect(await alice.locator("#nav-provider").count()).toBe(0);
    // The credential stays on the server: the browser holds an HttpOnly cookie and nothing in storage.
    // (Evaluated in the page: this file is compiled without the DOM's types.)
    const stored = await alice.evaluate(
      "({ cookie: document.cookie, local: localStorage.length, session: sessionStorage.length })",
    );
    expect(stored).toEqual({ cookie: "", local: 0, session: 0 });
    await checkPage(alice, "the catalog", "catalog");
  });

  it("orders an instance through the form generated from the schema; the apiserver's refusal of a bad value shows next to its field", async () => {
    await alice.locator(`[data-testid="kind-${PLURAL}"] h2 a`).click();
    await see(alice, '[data-testid="page-kind"]');
    await seeText(alice, "#watch-state", /^live$/);
    // The instances Alice made with kubectl are listed; none of Bob's could be.
    await see(alice, `[data-testid="instance-row"][data-name="${XSS}"]`);
    await alice.locator("#new-instance").click();
    await see(alice, '[data-testid="page-form"]');
    // The form comes from tenant-echo's values.schema.json: an enum as a select, nested objects, a map, an array.
    expect(
      await alice.locator('select[data-path="spec.service.type"] option').allInnerTexts(),
    ).toEqual(["(not set)", "ClusterIP", "NodePort"]);
    await see(alice, 'fieldset[data-group="spec.burner"] [data-path="spec.burner.workers"]');
    await checkPage(alice, "the empty form");

    await alice.locator('[data-path="metadata.name"]').fill(SHOP);
    await alice.locator('[data-path="spec.tenant"]').fill("alice-shop");
    await alice.locator('[data-path="spec.replicas"]').fill("9");
    await alice.locator('select[data-path="spec.service.type"]').selectOption("ClusterIP");
    await alice.locator('[data-testid="add-item"][data-for="spec.nodeSelector"]').click();
    await alice.locator('[data-path="spec.nodeSelector[0].key"]').fill(REAL_NODE_LABEL);
    await alice.locator(`[data-path="spec.nodeSelector.${REAL_NODE_LABEL}"]`).fill("true");
    await alice.locator('[data-testid="add-item"][data-for="spec.tolerations"]').click();
    await alice.locator('[data-path="spec.tolerations[0].key"]').fill(REAL_NODE_LABEL);
    await alice.locator('select[data-path="spec.tolerations[0].operator"]').selectOption("Exists");
    await alice.locator("#submit").click();

    // replicas is 1 to 3 in the chart's schema, so in the CRD's: the apiserver refuses 9, naming spec.replicas.
    const refusal = await seeText(
      alice,
      '[data-testid="field-error"][data-for="spec.replicas"]',
      /less than or equal to 3/,
    );
    expect(refusal).toMatch(/should be less than or equal to 3/);
    expect(await alice.locator('[data-path="spec.replicas"]').getAttribute("aria-invalid")).toBe(
      "true",
    );
    await seeText(alice, "#form-errors", /is invalid/);
    expect((await cluster.kubectl(["get", PLURAL, SHOP, "-n", teams.alice])).code).not.toBe(0);
    await checkPage(
      alice,
      "the form with a refusal",
      "form-refusal",
      '[data-path="spec.replicas"]',
    );

    await alice.locator('[data-path="spec.replicas"]').fill("1");
    await alice.locator("#submit").click();
    await see(alice, '[data-testid="page-instance"]');
    expect(alice.url()).toContain(`#/kinds/${PLURAL}/${SHOP}`);
    const got = await cluster.kubectl(["get", PLURAL, SHOP, "-n", teams.alice, "-o", "json"]);
    const created = JSON.parse(got.stdout) as {
      metadata: { annotations?: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(created.spec).toMatchObject({
      tenant: "alice-shop",
      replicas: 1,
      service: { type: "ClusterIP" },
      nodeSelector: { [REAL_NODE_LABEL]: "true" },
      tolerations: [{ key: REAL_NODE_LABEL, operator: "Exists" }],
    });
    // Created as Alice herself (crd-hook records the requesting user), not as any account of the console's.
    expect(created.metadata.annotations?.accountidentity).toBe(
      `system:serviceaccount:${teams.alice}:alice`,
    );
  });

  it("shows the instance become Ready, its pod on the real node, its usage charts and its container's log", async () => {
    await seeText(alice, '[data-testid="instance-ready"]', /^True$/, 150_000);
    const releaseNs = await instanceNamespace(cluster, {
      plural: PLURAL,
      namespace: teams.alice,
      name: SHOP,
    });
    expect(await alice.locator('[data-testid="instance-namespace"]').innerText()).toBe(releaseNs);
    await seeText(alice, '[data-testid="instance-chart"]', /tenant-echo 0\.1\.0/);
    await see(alice, '[data-testid="condition-row"][data-type="Ready"]');
    // What the helmer said about it on the way (a Kubernetes Event per state change), readable with her own rights.
    await see(alice, '[data-testid="event-row"]', 30_000);
    expect(await alice.locator("#events").innerText()).toMatch(/Ready\s+kubeplus-helmer/);
    await see(alice, '[data-testid="pod-row"]', 60_000);
    const pod =
      (await alice.locator('[data-testid="pod-row"]').first().getAttribute("data-name")) ?? "";
    const node = await cluster.kubectl([
      "get",
      "pod",
      pod,
      "-n",
      releaseNs,
      "-o",
      "jsonpath={.spec.nodeName}",
    ]);
    expect(node.stdout, node.stderr).toBe(cluster.state.realNodes[0]);
    await see(alice, '[data-testid="deployment-row"]');
    // The metrics-collector's passes, read by Alice's own credential from the release's namespace.
    const cpu = await seeText(
      alice,
      '[data-testid="usage-chart"][data-metric="cpu"] [data-testid="usage-latest"]',
      /\d/,
      60_000,
    );
    expect(cpu).not.toBe("not measured");
    await seeText(
      alice,
      '[data-testid="usage-chart"][data-metric="memory"] [data-testid="usage-latest"]',
      /\d+(\.\d+)? (KiB|MiB)/,
    );
    expect(
      await alice
        .locator('[data-testid="usage-chart"][data-metric="memory"] svg[role="img"]')
        .getAttribute("aria-label"),
    ).toMatch(/^Memory: latest .*, highest .*, \d+ points?$/);
    await checkPage(alice, "the instance page", "instance");

    await alice.locator('[data-testid="follow-log"][data-container="echo"]').first().click();
    await seeText(alice, "#log", /listening on \S+:8080 tenant=alice-shop/, 30_000);
    await seeText(alice, "#log-state", /following/);
    await checkPage(alice, "the instance page with a log", "instance-log", "#log");
    await alice.locator("#log-close").click();
    expect(await alice.locator("#log-view").count()).toBe(0);
    expectNoPageErrors(aliceErrors);
  });

  it("edits a value through the form filled with the instance's spec", async () => {
    await alice.locator("#edit-instance").click();
    await see(alice, '[data-testid="page-form"]');
    const tenant = alice.locator('[data-path="spec.tenant"]');
    await waitFor(async () => (await tenant.inputValue()) === "alice-shop" || undefined, {
      what: "the form filled with the instance's spec",
      diagnose: () => pageText(alice),
    });
    expect(await alice.locator('[data-path="metadata.name"]').count()).toBe(0);
    await checkPage(alice, "the edit form", "form-edit");
    await tenant.fill("alice-shop-2");
    await alice.locator("#submit").click();
    await see(alice, '[data-testid="page-instance"]');
    const spec = await cluster.kubectl([
      "get",
      PLURAL,
      SHOP,
      "-n",
      teams.alice,
      "-o",
      "jsonpath={.spec.tenant} {.spec.nodeSelector}",
    ]);
    expect(spec.stdout).toBe(`alice-shop-2 {"${REAL_NODE_LABEL}":"true"}`);
    // The helmer upgrades the release: the new pod prints the new name.
    const releaseNs = await instanceNamespace(cluster, {
      plural: PLURAL,
      namespace: teams.alice,
      name: SHOP,
    });
    await waitFor(
      async () => {
        const logs = await cluster.kubectl([
          "logs",
          "-n",
          releaseNs,
          "-l",
          "app.kubernetes.io/name=tenant-echo",
          "-c",
          "echo",
        ]);
        return logs.stdout.includes("tenant=alice-shop-2") || undefined;
      },
      { what: "the upgraded pod to print the new tenant name", timeoutMs: 90_000 },
    );
    await seeText(alice, '[data-testid="instance-ready"]', /^True$/, 90_000);
  });

  it("shows hostile strings in a tenant's log and in a condition's message as text, never running them", async () => {
    await openInstance(alice, XSS);
    await seeText(alice, '[data-testid="instance-ready"]', /^True$/, 150_000);
    // A condition whose message a chart's own controller (or an error echoing a chart's text) could set: written here
    // as the cluster's admin through the status subresource (a consumer cannot), beside the helmer's own conditions,
    // which it keeps.
    const condition = {
      type: "ChartCheck",
      status: "False",
      reason: "HostileChart",
      message: HOSTILE_MESSAGE,
      lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    };
    const patched = await cluster.kubectl([
      "patch",
      PLURAL,
      XSS,
      "-n",
      teams.alice,
      "--subresource=status",
      "--type=json",
      "-p",
      JSON.stringify([{ op: "add", path: "/status/conditions/-", value: condition }]),
    ]);
    expect(patched.stderr).toBe("");
    const row = await seeText(
      alice,
      '[data-testid="condition-row"][data-type="ChartCheck"]',
      /window\.__xss=3/,
    );
    expect(row).toContain(HOSTILE_MESSAGE);
    await see(alice, '[data-testid="follow-log"][data-container="echo"]', 60_000);
    await alice.locator('[data-testid="follow-log"][data-container="echo"]').first().click();
    const log = await seeText(alice, "#log", /tenant=<img/, 30_000);
    expect(log).toContain(`tenant=${HOSTILE_TENANT}`);
    const dom = await alice.evaluate(
      '({ xss: window.__xss, injected: document.querySelectorAll("main img, main script").length })',
    );
    expect(dom).toEqual({ xss: undefined, injected: 0 });
    expectNoPageErrors(aliceErrors);
  });

  it("deletes the instance after its name is typed, and it leaves the list", async () => {
    await openInstance(alice, SHOP);
    await alice.locator("#delete-instance").click();
    await see(alice, "#delete-confirm");
    expect(await alice.locator("#delete-confirm-submit").isDisabled()).toBe(true);
    await alice.locator("#delete-confirm-name").fill("sho");
    expect(await alice.locator("#delete-confirm-submit").isDisabled()).toBe(true);
    await alice.locator("#delete-confirm-name").fill(SHOP);
    await checkPage(alice, "the delete confirmation");
    await alice.locator("#delete-confirm-submit").click();
    await see(alice, '[data-testid="page-kind"]');
    // The list is loaded (and live) before the instance's absence from it means anything.
    await seeText(alice, "#watch-state", /^live$/);
    await see(alice, `[data-testid="instance-row"][data-name="${XSS}"]`);
    await waitFor(
      async () =>
        (await alice.locator(`[data-testid="instance-row"][data-name="${SHOP}"]`).count()) === 0 ||
        undefined,
      {
        what: `${SHOP} to leave the kind's list (its release uninstalled)`,
        timeoutMs: 120_000,
        diagnose: () => pageText(alice),
      },
    );
    expect((await cluster.kubectl(["get", PLURAL, SHOP, "-n", teams.alice])).code).not.toBe(0);
    await checkPage(alice, "the kind's page", "kind");
    expectNoPageErrors(aliceErrors);
  });
});

describe("the console in a browser, as a second consumer and as the provider", () => {
  it("shows Bob none of Alice's instances, and the apiserver refuses his forged requests for them", async () => {
    if (!browser || !consoleService) throw new Error("no browser or console");
    const bob = await browser.newPage({ baseURL: consoleService.url });
    const bobErrors = watchPageErrors(bob);
    await signIn(bob, kubeconfigs.bob, `system:serviceaccount:${teams.bob}:bob`);
    await bob.goto(`/#/kinds/${PLURAL}`);
    await see(bob, "#instances-empty");
    expect(await bob.locator('[data-testid="instance-row"]').count()).toBe(0);
    // Alice's namespace in his catalog: nothing he may use there.
    await bob.goto("/#/");
    await bob.locator("#namespace").fill(teams.alice);
    await bob.locator("#namespace-apply").click();
    await see(bob, "#catalog-empty");
    // Forged: his own session and CSRF token, Alice's namespace in the path. The console passes them on as Bob;
    // the apiserver refuses them (a Status naming Bob), not the console.
    const base = `/api/k8s/apis/${GROUP}/v1alpha1/namespaces/${teams.alice}/${PLURAL}`;
    const forged = await bob.evaluate(async (path) => {
      const session = (await (await fetch("/api/session")).json()) as { csrfToken: string };
      const answer = async (r: Response): Promise<{ status: number; body: unknown }> => ({
        status: r.status,
        body: await r.json(),
      });
      const headers = { "X-CSRF-Token": session.csrfToken };
      return {
        list: await answer(await fetch(path, { headers })),
        read: await answer(await fetch(`${path}/xss`, { headers })),
        remove: await answer(await fetch(`${path}/xss`, { method: "DELETE", headers })),
      };
    }, base);
    for (const [what, got] of Object.entries(forged)) {
      expect(got.status, what).toBe(403);
      expect(got.body, what).toMatchObject({
        kind: "Status",
        reason: "Forbidden",
        message: expect.stringContaining(`system:serviceaccount:${teams.bob}:bob`) as unknown,
      });
    }
    expect((await cluster.kubectl(["get", PLURAL, XSS, "-n", teams.alice])).code).toBe(0);
    expectNoPageErrors(bobErrors);
  });

  it("shows the provider the composition's fleet with its counts and the failing instance", async () => {
    if (!browser || !consoleService) throw new Error("no browser or console");
    const page = await browser.newPage({ baseURL: consoleService.url });
    const errors = watchPageErrors(page);
    await signIn(page, kubeconfigs.provider, `system:serviceaccount:${kp}:${AccessNames.Provider}`);
    await see(page, "#nav-provider");
    await page.locator("#nav-provider").click();
    await see(page, '[data-testid="page-provider"]');
    const card = '[data-testid="composition-row"][data-name="echo-shop"]';
    await see(page, card);
    await seeText(page, `${card} [data-col="kind"]`, new RegExp(`^${KIND}$`));
    await seeText(page, `${card} [data-col="ready"]`, /^True/);
    // Alice's two instances remain: xss Ready, broken refused at install.
    // Of the two, one runs the composition's chart; the other has none yet.
    await seeText(page, `${card} [data-col="upgraded"]`, /^1\/2/, 60_000);
    const versions = await seeText(page, `${card} [data-col="versions"]`, /0\.1\.0: 1\b/, 60_000);
    expect(versions).toContain("(none yet): 1");
    const failing = `[data-testid="failing-row"][data-name="${BROKEN}"]`;
    const row = await seeText(page, failing, new RegExp(teams.alice), 120_000);
    expect(row).toContain(KIND);
    expect(await page.locator(`[data-testid="failing-row"][data-name="${XSS}"]`).count()).toBe(0);
    await checkPage(page, "the provider page", "provider");
    expectNoPageErrors(errors);
  });
});
