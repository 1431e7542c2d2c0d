// Browser tests: Debian's headless Chromium driven by playwright-core (docs/adr/0009-browser-tests.md). Nothing here
// downloads a browser: the binary is the one hack/tools/ensure-node-packages.sh installs from Debian's packages
// (chromium-headless-shell), or the full `chromium` package's. Accessibility is checked with axe-core's own source,
// evaluated in the page (never a <script> tag, so a page's strict Content-Security-Policy stays on).
import { accessSync, constants, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

/** The Debian package the browser tests need (installed by `make tools`). */
export const CHROMIUM_PACKAGE = "chromium-headless-shell";

/** The Debian paths of the real binaries (the /usr/bin entries are shell wrappers around these). */
const KNOWN_CHROMIUM_PATHS = [
  "/usr/lib/chromium/chromium-headless-shell",
  "/usr/lib/chromium/chromium",
] as const;
const CHROMIUM_NAMES = ["chromium-headless-shell", "chromium"] as const;

/** A phone's width, the narrowest the console supports: 375 CSS pixels (the height of an iPhone X-class screen). */
export const MOBILE_VIEWPORT = Object.freeze({ width: 375, height: 812 });
/** The viewport of a desktop page, and of every new page unless told otherwise. */
export const DESKTOP_VIEWPORT = Object.freeze({ width: 1280, height: 800 });

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The headless Chromium binary: `KUBEPLUS_CHROMIUM` when set, else Debian's known paths, else `chromium-headless-shell`
 * or `chromium` on PATH. Throws naming the Debian package to install when there is none.
 */
export function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  knownPaths: readonly string[] = KNOWN_CHROMIUM_PATHS,
): string {
  const override = env.KUBEPLUS_CHROMIUM;
  if (override !== undefined && override !== "") {
    if (isExecutable(override)) return override;
    throw new Error(`KUBEPLUS_CHROMIUM=${override} is not an executable file`);
  }
  const onPath = (env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "")
    .flatMap((dir) => CHROMIUM_NAMES.map((name) => join(dir, name)));
  const found = [...knownPaths, ...onPath].find(isExecutable);
  if (found !== undefined) return found;
  const looked = [...knownPaths, `${CHROMIUM_NAMES.join(" and ")} on PATH`].join(", ");
  throw new Error(
    `no headless Chromium found (looked at ${looked}): install Debian's ${CHROMIUM_PACKAGE} package ` +
      `(make tools, as root, does: hack/tools/ensure-node-packages.sh), or set KUBEPLUS_CHROMIUM to a Chromium binary`,
  );
}

export interface NewPageOptions {
  /** Defaults to DESKTOP_VIEWPORT; MOBILE_VIEWPORT for the 375 px checks. */
  readonly viewport?: { readonly width: number; readonly height: number };
  /** Relative URLs given to page.goto resolve against it. */
  readonly baseURL?: string;
}

/** A running headless Chromium; each page gets a context of its own (its own cookies: one signed-in user each). */
export interface TestBrowser {
  readonly browser: Browser;
  /** The binary that runs. */
  readonly executablePath: string;
  newPage(opts?: NewPageOptions): Promise<Page>;
  /** Closes every context and the browser. */
  close(): Promise<void>;
}

/** Launches Debian's headless Chromium (see findChromium) through playwright-core. */
export async function launchBrowser(
  opts: { executablePath?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<TestBrowser> {
  const executablePath = opts.executablePath ?? findChromium(opts.env);
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // /dev/shm is small in containers and namespaces; Chromium falls back to /tmp with this flag.
    args: ["--disable-dev-shm-usage"],
    timeout: 60_000,
  });
  const contexts = new Set<BrowserContext>();
  return {
    browser,
    executablePath,
    async newPage(pageOpts: NewPageOptions = {}): Promise<Page> {
      const context = await browser.newContext({
        viewport: { ...(pageOpts.viewport ?? DESKTOP_VIEWPORT) },
        ...(pageOpts.baseURL === undefined ? {} : { baseURL: pageOpts.baseURL }),
      });
      contexts.add(context);
      context.on("close", () => contexts.delete(context));
      return context.newPage();
    },
    async close(): Promise<void> {
      await Promise.allSettled([...contexts].map((c) => c.close()));
      await browser.close();
    },
  };
}

/** Sets the page to MOBILE_VIEWPORT (375 px wide). */
export async function useMobileViewport(page: Page): Promise<void> {
  await page.setViewportSize({ ...MOBILE_VIEWPORT });
}

/** The elements wider than the viewport, when the page scrolls sideways (empty when it fits). */
export async function horizontalOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    const describe = (el: Element): string =>
      el.tagName.toLowerCase() +
      (el.id === "" ? "" : `#${el.id}`) +
      [...el.classList].map((c) => `.${c}`).join("");
    return [...document.body.querySelectorAll("*")]
      .filter((el) => el.getBoundingClientRect().right > width + 0.5)
      .map(describe)
      .slice(0, 20);
  });
}

/** Fails, naming the widest offenders, when the page scrolls sideways at its current viewport. */
export async function expectNoHorizontalScroll(page: Page, what = page.url()): Promise<void> {
  const offenders = await horizontalOverflow(page);
  if (offenders.length === 0) return;
  const { width } = page.viewportSize() ?? { width: Number.NaN };
  throw new Error(
    `${what} scrolls sideways at ${String(width)} px wide; elements past the edge: ${offenders.join(", ")}`,
  );
}

/** A page's script errors and console errors (a Content-Security-Policy refusal shows up here), as they happen. */
export interface PageErrors {
  all(): readonly string[];
}

/** Chrome's console line for a response of 4xx or 5xx: the app's business (a 401 before sign-in, a 422 refusal). */
const FAILED_REQUEST = /^Failed to load resource: the server responded with a status of \d+/;

/**
 * Records the page's uncaught errors and console errors from now on; Chrome's lines for HTTP error responses only
 * with `includeFailedRequests` (a console checks its session with a request that answers 401 before sign-in).
 */
export function watchPageErrors(
  page: Page,
  opts: { includeFailedRequests?: boolean } = {},
): PageErrors {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`uncaught: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    if (opts.includeFailedRequests !== true && FAILED_REQUEST.test(msg.text())) return;
    errors.push(`console: ${msg.text()}`);
  });
  return { all: () => [...errors] };
}

/** Writes a PNG screenshot of the page to `path` (folders created); the whole page unless `fullPage: false`. */
export async function screenshot(
  page: Page,
  path: string,
  opts: { fullPage?: boolean } = {},
): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, type: "png", fullPage: opts.fullPage ?? true });
  return path;
}

/** One axe-core rule a page breaks, with the CSS selectors of the elements that break it. */
export interface AxeViolation {
  /** The rule, e.g. `label`, `color-contrast` (https://dequeuniversity.com/rules/axe/). */
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly helpUrl: string;
  readonly targets: readonly string[];
}

export interface AxeOptions {
  /** A CSS selector: check only inside it (default: the whole document). */
  readonly include?: string;
  /** Rule ids not to run, each with a reason in the calling test. */
  readonly disableRules?: readonly string[];
}

let axeSource: string | undefined;
function loadAxeSource(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  return axeSource;
}

/**
 * Runs axe-core (every rule it runs by default: WCAG 2.x A and AA and its best practices) on the page as it is now
 * and returns the violations. axe's source is evaluated through the DevTools protocol, which a page's CSP does not
 * govern, so the page is checked with its own headers.
 */
export async function checkAccessibility(
  page: Page,
  opts: AxeOptions = {},
): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => "axe" in window);
  if (!loaded) await page.evaluate(loadAxeSource());
  return page.evaluate(
    async ({ include, disableRules }) => {
      interface AxeResult {
        violations: {
          id: string;
          impact?: string | null;
          help: string;
          helpUrl: string;
          nodes: { target: unknown[] }[];
        }[];
      }
      const axe = (
        window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<AxeResult> } }
      ).axe;
      const rules = Object.fromEntries(disableRules.map((id) => [id, { enabled: false }]));
      const result = await axe.run(include ?? document, { rules, resultTypes: ["violations"] });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact ?? null,
        help: v.help,
        helpUrl: v.helpUrl,
        targets: v.nodes.map((n) => n.target.map(String).join(" ")),
      }));
    },
    { include: opts.include, disableRules: [...(opts.disableRules ?? [])] },
  );
}

/** The violations as lines a failing test prints: rule, impact, what it asks, and the elements. */
export function formatViolations(violations: readonly AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `- ${v.id} (${v.impact ?? "no impact"}): ${v.help} [${v.helpUrl}]\n` +
        v.targets.map((t) => `    ${t}`).join("\n"),
    )
    .join("\n");
}

/** Fails listing every axe-core violation of the page (see checkAccessibility). */
export async function expectAccessible(
  page: Page,
  what = page.url(),
  opts: AxeOptions = {},
): Promise<void> {
  const violations = await checkAccessibility(page, opts);
  if (violations.length === 0) return;
  throw new Error(
    `${what} has ${String(violations.length)} accessibility violation(s) (axe-core):\n${formatViolations(violations)}`,
  );
}
