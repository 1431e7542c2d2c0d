import { execFile } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { ClusterState } from "./cluster.js";
import { repoRoot } from "./paths.js";
import type { StackState } from "./stack.js";

const run = promisify(execFile);

export class DemoStepFailed extends Error {
  constructor(command: string, why: string) {
    super(`step failed: ${command}\n${why}`);
    this.name = "DemoStepFailed";
  }
}

export interface DemoOptions {
  readonly cluster: ClusterState;
  readonly stack: StackState;
  /** Where the demo works (its kubeconfig, packaged charts, manifests); the commands run there. */
  readonly workDir: string;
  /** The original KubePlus example charts, when present: the walkthrough's own chart is registered too. */
  readonly sharedCharts?: string;
  readonly out: (text: string) => void;
  /** The caller's environment (PATH, HOME). */
  readonly env: NodeJS.ProcessEnv;
  /** Runs after the fleet upgrade, with both tenants Ready, before the clean-up (the e2e upgrades KubePlus here). */
  readonly beforeCleanUp?: (demo: Demo) => Promise<void>;
}

/** One command as a user types it, its output, and what it must show. */
export class Demo {
  readonly provider: string;
  private readonly path: string;
  private readonly options: DemoOptions;

  constructor(options: DemoOptions) {
    this.options = options;
    const bin = join(options.workDir, "bin");
    mkdirSync(bin, { recursive: true });
    // What a user has on PATH: kubectl, helm, provider-kubeconfig and the kubectl plugins.
    const launcher = (name: string, entry: string): void => {
      const file = join(bin, name);
      writeFileSync(file, `#!/bin/sh\nexec ${process.execPath} ${entry} "$@"\n`);
      chmodSync(file, 0o755);
    };
    launcher(
      "provider-kubeconfig",
      join(repoRoot, "cli", "dist", "provider-kubeconfig", "main.js"),
    );
    this.path = [
      bin,
      join(options.workDir, "plugins"),
      dirname(options.cluster.tools.kubectl),
      dirname(options.cluster.tools.helm),
      options.env.PATH ?? "/usr/bin:/bin",
    ].join(":");
    this.provider = join(options.workDir, "kubeplus-saas-provider.json");
  }

  get namespace(): string {
    return this.options.stack.namespace;
  }

  section(title: string): void {
    this.options.out(`\n### ${title}\n`);
  }

  /**
   * Runs `command` as typed (in the work folder, KUBECONFIG = the provider's), prints it and its output. With
   * `retryForMs`, an answer that does not show `expect` yet (a metering pass a kubelet left a figure out of) is asked
   * again until it does, and the answer that showed it is the one printed: asking once more could meet another
   * incomplete pass.
   */
  async sh(
    command: string,
    args: readonly string[],
    expect?: RegExp,
    retryForMs = 0,
  ): Promise<string> {
    const deadline = Date.now() + retryForMs;
    while (Date.now() < deadline) {
      const attempt = await this.attempt(command, args);
      if ("stdout" in attempt && (!expect || expect.test(attempt.stdout + attempt.stderr)))
        return this.show(command, args, attempt, expect);
      await new Promise((r) => setTimeout(r, 2_000));
    }
    return this.show(command, args, await this.attempt(command, args), expect);
  }

  private async attempt(
    command: string,
    args: readonly string[],
  ): Promise<{ stdout: string; stderr: string } | { failed: string; code?: number }> {
    try {
      return await run(command, [...args], {
        cwd: this.options.workDir,
        env: this.env(),
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      return { failed: `${e.stdout ?? ""}${e.stderr ?? ""}`, ...(e.code ? { code: e.code } : {}) };
    }
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: this.path,
      HOME: join(this.options.workDir, "home"),
      KUBECONFIG: existsSync(this.provider) ? this.provider : this.options.cluster.kubeconfig,
    };
  }

  /** Prints the command as typed and its output; fails the step on an error or an output without `expect`. */
  private show(
    command: string,
    args: readonly string[],
    output: { stdout: string; stderr: string } | { failed: string; code?: number },
    expect?: RegExp,
  ): string {
    const shown = [command, ...args.map((a) => (/[\s'"{}$]/.test(a) ? `'${a}'` : a))].join(" ");
    this.options.out(`$ ${shown}\n`);
    if ("failed" in output) {
      this.options.out(output.failed);
      throw new DemoStepFailed(shown, `exit code ${String(output.code ?? "?")}`);
    }
    const { stdout, stderr } = output;
    this.options.out(`${stdout}${stderr}`);
    if (expect && !expect.test(stdout + stderr))
      throw new DemoStepFailed(shown, `the output does not show ${String(expect)}`);
    return stdout;
  }

  write(name: string, content: string): string {
    writeFileSync(join(this.options.workDir, name), content);
    this.options.out(`# ${name}:\n${content}`);
    return name;
  }
}

const WP = "wordpressmysqlservices";
const COMPOSITION = "wordpress-mysql-service-composition";

async function installKubePlus(d: Demo, o: DemoOptions): Promise<void> {
  d.section("1. The provider identity: what KubePlus runs as, without cluster-admin");
  await d.sh(
    "provider-kubeconfig",
    ["create", d.namespace, "-k", o.cluster.kubeconfig],
    /kubeplus-saas-provider\.json/,
  );
  await d.sh("kubectl", ["auth", "whoami"], /kubeplus-saas-provider/);
  d.section("2. Install KubePlus with the provider kubeconfig");
  const chart = join(repoRoot, "deploy", "charts", "kubeplus");
  await d.sh(
    "helm",
    [
      "upgrade",
      "--install",
      o.stack.release,
      chart,
      "-n",
      d.namespace,
      "--kubeconfig",
      "kubeplus-saas-provider.json",
      // The images built here, the pods on the real nodes (what `make up` installed with).
      "-f",
      d.write("local-values.yaml", readFileSync(o.stack.valuesFile, "utf8")),
      "--wait",
    ],
    /STATUS: deployed/,
  );
  await d.sh("kubectl", ["get", "deploy,statefulset", "-n", d.namespace], /helmer\s+1\/1/);
}

async function registerChart(d: Demo): Promise<void> {
  d.section("3. Register the application chart: a new Kubernetes API");
  await d.sh(
    "helm",
    ["package", join(repoRoot, "examples", "charts", "wordpress-mysql"), "-d", "charts"],
    /Successfully packaged/,
  );
  await d.sh("kubectl", [
    "upload",
    "chart",
    "charts/wordpress-mysql-0.1.0.tgz",
    "kubeplus-saas-provider.json",
  ]);
  await d.sh("kubectl", [
    "apply",
    "-f",
    join(repoRoot, "examples", "compositions", "wordpress-mysql-composition.yaml"),
  ]);
  await d.sh(
    "kubectl",
    [
      "wait",
      "--for=condition=Ready",
      `resourcecomposition/${COMPOSITION}`,
      "-n",
      d.namespace,
      "--timeout=120s",
    ],
    /condition met/,
  );
  await d.sh("kubectl", ["get", "resourcecompositions", "-n", d.namespace], /True/);
  await d.sh("kubectl", ["man", "WordpressMysqlService", "-k", "kubeplus-saas-provider.json"]);
}

async function createTenants(d: Demo): Promise<void> {
  d.section("4. Two tenants, each its own isolated copy of the application");
  const tenant1 = join(repoRoot, "examples", "compositions", "wordpress-mysql-tenant1.yaml");
  await d.sh("kubectl", ["apply", "-f", tenant1]);
  const tenant2 = readFileSync(tenant1, "utf8")
    .replace(/wp-tenant1/g, "wp-tenant2")
    .replace(/tenant1/g, "tenant2")
    .replace(/kwok-node-1/g, "kwok-node-2");
  await d.sh("kubectl", ["apply", "-f", d.write("wp-tenant2.yaml", tenant2)]);
  await d.sh(
    "kubectl",
    [
      "wait",
      "--for=condition=Ready",
      `${WP}/wp-tenant1`,
      `${WP}/wp-tenant2`,
      "-n",
      d.namespace,
      "--timeout=240s",
    ],
    /wp-tenant2 condition met/,
  );
  await d.sh("kubectl", ["get", WP, "-n", d.namespace], /wp-tenant2\s+True/);
  await d.sh("kubectl", ["describe", WP.replace(/s$/, ""), "wp-tenant1", "-n", d.namespace]);
  await d.sh(
    "kubectl",
    ["appresources", "WordpressMysqlService", "wp-tenant1", "-k", "kubeplus-saas-provider.json"],
    /NetworkPolicy/,
  );
  if (existsSync(join(repoRoot, "services", "metrics-collector", "dist", "main.js")))
    await d.sh(
      "kubectl",
      ["metrics", "WordpressMysqlService", "wp-tenant1", "-k", "kubeplus-saas-provider.json"],
      /Number of Pods: 2\n[\s\S]*Total CPU\(cores\): \d+m/,
      60_000,
    );
}

async function updateAndUpgrade(d: Demo): Promise<void> {
  d.section("5. Update one tenant: its spec becomes a helm upgrade of its release");
  // Each tenant's namespace is <instance>-<hash of its UID>, recorded in its status.
  const tenantNs = await d.sh(
    "kubectl",
    [
      "get",
      WP.replace(/s$/, ""),
      "wp-tenant1",
      "-n",
      d.namespace,
      "-o",
      "jsonpath={.status.namespace}",
    ],
    /^wp-tenant1-[0-9a-f]{8}$/,
  );
  await d.sh("kubectl", [
    "patch",
    WP.replace(/s$/, ""),
    "wp-tenant1",
    "-n",
    d.namespace,
    "--type",
    "merge",
    "-p",
    '{"spec":{"wordpress":{"replicas":2}}}',
  ]);
  await d.sh(
    "kubectl",
    [
      "wait",
      "--for=jsonpath={.spec.replicas}=2",
      "deployment",
      "-l",
      "app.kubernetes.io/component=web",
      "-n",
      tenantNs,
      "--timeout=120s",
    ],
    /condition met/,
  );
  d.section("6. Upgrade the chart for the whole fleet");
  await d.sh(
    "helm",
    [
      "package",
      join(repoRoot, "examples", "charts", "wordpress-mysql"),
      "--version",
      "0.2.0",
      "-d",
      "charts",
    ],
    /Successfully packaged/,
  );
  await d.sh("kubectl", [
    "upload",
    "chart",
    "charts/wordpress-mysql-0.2.0.tgz",
    "kubeplus-saas-provider.json",
  ]);
  await d.sh("kubectl", [
    "patch",
    "resourcecomposition",
    COMPOSITION,
    "-n",
    d.namespace,
    "--type",
    "merge",
    "-p",
    '{"spec":{"newResource":{"chartURL":"file:///wordpress-mysql-0.2.0.tgz"}}}',
  ]);
  await d.sh(
    "kubectl",
    [
      "wait",
      "--for=jsonpath={.status.chart.version}=0.2.0",
      `${WP}/wp-tenant1`,
      `${WP}/wp-tenant2`,
      "-n",
      d.namespace,
      "--timeout=240s",
    ],
    /wp-tenant2 condition met/,
  );
  // The new chart is recorded when its upgrade starts; Ready says the rollout finished.
  await d.sh(
    "kubectl",
    [
      "wait",
      "--for=condition=Ready",
      `${WP}/wp-tenant1`,
      `${WP}/wp-tenant2`,
      "-n",
      d.namespace,
      "--timeout=240s",
    ],
    /wp-tenant2 condition met/,
  );
  await d.sh(
    "kubectl",
    ["get", WP, "-n", d.namespace],
    /wp-tenant1\s+True\s+Ready\s+wordpress-mysql-0\.2\.0/,
  );
}

async function walkthroughChart(d: Demo, o: DemoOptions, sharedCharts: string): Promise<void> {
  d.section("7. The original walkthrough's own chart and composition");
  copyFileSync(
    join(sharedCharts, "wordpress-chart-0.0.4.tgz"),
    join(o.workDir, "charts", "wordpress-chart-0.0.4.tgz"),
  );
  await d.sh("kubectl", [
    "upload",
    "chart",
    "charts/wordpress-chart-0.0.4.tgz",
    "kubeplus-saas-provider.json",
  ]);
  // Field for field the walkthrough's file; only the chart's address points at the uploaded copy (no internet here).
  const original = readFileSync(
    join(repoRoot, "e2e", "fixtures", "wordpress-service-composition.yaml"),
    "utf8",
  );
  const local = original.replace(/chartURL: .*/, "chartURL: file:///wordpress-chart-0.0.4.tgz");
  await d.sh(
    "kubectl",
    ["apply", "-n", d.namespace, "-f", d.write("wordpress-service-composition.yaml", local)],
    /created|configured/,
  );
  await d.sh(
    "kubectl",
    [
      "wait",
      "--for=condition=Ready",
      "resourcecomposition/wordpress-service-composition",
      "-n",
      d.namespace,
      "--timeout=120s",
    ],
    /condition met/,
  );
  await d.sh("kubectl", ["man", "WordpressService", "-k", "kubeplus-saas-provider.json"]);
  await d.sh("kubectl", [
    "delete",
    "resourcecomposition",
    "wordpress-service-composition",
    "-n",
    d.namespace,
  ]);
}

async function cleanUp(d: Demo, o: DemoOptions): Promise<void> {
  d.section("8. Delete the tenants, the API and KubePlus");
  await d.sh(
    "kubectl",
    ["delete", WP, "wp-tenant1", "wp-tenant2", "-n", d.namespace, "--timeout=180s"],
    /deleted/,
  );
  await d.sh("kubectl", ["get", "namespaces", "-l", "app.kubernetes.io/managed-by=kubeplus"]);
  await d.sh(
    "kubectl",
    ["delete", "resourcecomposition", COMPOSITION, "-n", d.namespace, "--timeout=120s"],
    /deleted/,
  );
  await d.sh(
    "helm",
    [
      "uninstall",
      o.stack.release,
      "-n",
      d.namespace,
      "--kubeconfig",
      "kubeplus-saas-provider.json",
      "--wait",
    ],
    /uninstalled/,
  );
  // Nothing cluster-scoped that could block the cluster is left behind.
  await d.sh(
    "kubectl",
    [
      "get",
      "validatingwebhookconfigurations,mutatingwebhookconfigurations",
      "-l",
      "app.kubernetes.io/part-of=kubeplus",
    ],
    /No resources found/,
  );
}

/** The seed's walkthrough, end to end, on a running `make up` stack. Throws DemoStepFailed on the first bad step. */
export async function runDemo(o: DemoOptions): Promise<void> {
  mkdirSync(join(o.workDir, "charts"), { recursive: true });
  const d = new Demo(o);
  await run(process.execPath, [
    join(repoRoot, "cli", "dist", "install-plugins", "main.js"),
    "--dev",
    join(o.workDir, "plugins"),
  ]);
  await installKubePlus(d, o);
  await registerChart(d);
  await createTenants(d);
  await updateAndUpgrade(d);
  if (o.sharedCharts && existsSync(join(o.sharedCharts, "wordpress-chart-0.0.4.tgz")))
    await walkthroughChart(d, o, o.sharedCharts);
  if (o.beforeCleanUp) await o.beforeCleanUp(d);
  await cleanUp(d, o);
}
