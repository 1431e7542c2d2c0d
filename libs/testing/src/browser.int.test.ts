// The browser harness against a real Debian Chromium: pages served on 127.0.0.1 with the console's own
// Content-Security-Policy, so axe's injection is proven to work where inline scripts are refused.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkAccessibility,
  expectAccessible,
  expectNoHorizontalScroll,
  findChromium,
  launchBrowser,
  MOBILE_VIEWPORT,
  screenshot,
  useMobileViewport,
  watchPageErrors,
  type TestBrowser,
} from "./browser.js";

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const page = (body: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
  `<meta name="viewport" content="width=device-width, initial-scale=1"><title>Harness</title></head>` +
  `<body><main><h1>Order an instance</h1>${body}</main></body></html>`;

const PAGES: Record<string, string> = {
  "/accessible": page(
    `<form><label for="name">Name</label><input id="name" name="name"><button type="submit">Create</button></form>`,
  ),
  "/unlabelled": page(`<form><input id="replicas" type="number"><button>Create</button></form>`),
  "/wide": page(
    `<table id="fleet"><tr><td><img src="/pixel.png" alt="" width="640" height="10"></td></tr></table>`,
  ),
  "/inline-script": page(`<p id="out">untouched</p><script>document.title = "ran"</script>`),
};
// One transparent pixel.
const PIXEL = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let server: Server;
let base = "";
let browser: TestBrowser;
let dir = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    if (path === "/pixel.png") {
      res.writeHead(200, { "content-type": "image/png" }).end(PIXEL);
      return;
    }
    const html = PAGES[path];
    if (html === undefined) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": CSP,
      })
      .end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  dir = mkdtempSync(join(tmpdir(), "browser-harness-"));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe("findChromium", () => {
  it("names the Debian package to install when no Chromium is found", () => {
    expect(() => findChromium({ PATH: "/nonexistent" }, [])).toThrow(
      /no headless Chromium found .*install Debian's chromium-headless-shell package/,
    );
    expect(() => findChromium({ KUBEPLUS_CHROMIUM: join(dir, "none") })).toThrow(
      /is not an executable file/,
    );
  });

  it("finds chromium-headless-shell or chromium on PATH", () => {
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "chromium"), "#!/bin/sh\n", { mode: 0o755 });
    expect(findChromium({ PATH: `/nonexistent:${bin}` }, [])).toBe(join(bin, "chromium"));
  });

  it("launches the Debian binary, not a downloaded one", () => {
    expect(browser.executablePath).toMatch(/^\/usr\/(lib\/chromium|bin)\/chromium/);
    expect(browser.browser.version()).toMatch(/^\d+\./);
  });
});

describe("accessibility check (axe-core)", () => {
  it("passes on an accessible page served with a strict Content-Security-Policy", async () => {
    const p = await browser.newPage();
    await p.goto(`${base}/accessible`);
    expect(await checkAccessibility(p)).toEqual([]);
    await expectAccessible(p);
  });

  it("reports an input without a label with its rule id and target, and the assertion lists it", async () => {
    const p = await browser.newPage();
    await p.goto(`${base}/unlabelled`);
    const violations = await checkAccessibility(p);
    const label = violations.find((v) => v.id === "label");
    expect(label?.targets).toEqual(["#replicas"]);
    expect(label?.impact).toBe("critical");
    await expect(expectAccessible(p, "the unlabelled form")).rejects.toThrow(
      /the unlabelled form has \d+ accessibility violation\(s\)[\s\S]*- label \(critical\)[\s\S]*#replicas/,
    );
    // A rule turned off is not reported.
    const rest = await checkAccessibility(p, { disableRules: ["label"] });
    expect(rest.map((v) => v.id)).not.toContain("label");
  });
});

describe("the page's own protections stay on", () => {
  it("refuses the page's inline script under the CSP, and the errors are recorded", async () => {
    const p = await browser.newPage();
    const errors = watchPageErrors(p);
    await p.goto(`${base}/inline-script`);
    expect(await p.title()).toBe("Harness");
    await expect.poll(() => errors.all().join("\n")).toMatch(/Content Security Policy/);
  });

  it("leaves an HTTP error response out of the errors unless asked for it", async () => {
    const p = await browser.newPage();
    const quiet = watchPageErrors(p);
    const all = watchPageErrors(p, { includeFailedRequests: true });
    await p.goto(`${base}/accessible`);
    await p.evaluate(async () => {
      await fetch("/missing");
    });
    await expect.poll(() => all.all().join("\n")).toMatch(/status of 404/);
    expect(quiet.all()).toEqual([]);
  });
});

describe("375 px wide", () => {
  it("finds an element wider than a phone, and none on a page that fits", async () => {
    const p = await browser.newPage({ viewport: MOBILE_VIEWPORT });
    await p.goto(`${base}/wide`);
    expect(await p.evaluate(() => window.innerWidth)).toBe(375);
    await expect(expectNoHorizontalScroll(p, "the fleet table")).rejects.toThrow(
      /the fleet table scrolls sideways at 375 px wide; elements past the edge: .*table#fleet/,
    );
    const fits = await browser.newPage();
    await useMobileViewport(fits);
    await fits.goto(`${base}/accessible`);
    expect(fits.viewportSize()).toEqual(MOBILE_VIEWPORT);
    await expectNoHorizontalScroll(fits);
  });
});

describe("screenshot", () => {
  it("writes a PNG of the page at the given path, creating its folder", async () => {
    const p = await browser.newPage({ viewport: MOBILE_VIEWPORT });
    await p.goto(`${base}/accessible`);
    const file = await screenshot(p, join(dir, "shots", "accessible.png"));
    const png = readFileSync(file);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    // The IHDR chunk: the image is the viewport's 375 px wide.
    expect(png.readUInt32BE(16)).toBe(375);
  });
});
