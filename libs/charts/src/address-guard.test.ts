import { describe, expect, it } from "vitest";
import { isAllowed, parseAllowList, restrictedKind } from "./address-guard.js";

describe("restrictedKind", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["10.1.2.3", "private (RFC 1918)"],
    ["172.16.0.1", "private (RFC 1918)"],
    ["172.31.255.255", "private (RFC 1918)"],
    ["192.168.1.1", "private (RFC 1918)"],
    ["100.64.0.1", "shared (CGNAT)"],
    ["169.254.169.254", "cloud metadata"],
    ["169.254.10.1", "link-local"],
    ["224.0.0.1", "multicast"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fd00::1", "private (unique local)"],
    ["fd00:ec2::254", "cloud metadata"],
    ["fe80::1", "link-local"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:a9fe:a9fe", "cloud metadata"],
    ["64:ff9b::a00:1", "private (RFC 1918)"],
  ])("%s is %s", (address, kind) => {
    expect(restrictedKind(address)).toBe(kind);
  });

  it.each(["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"])(
    "%s is public",
    (address) => {
      expect(restrictedKind(address)).toBeUndefined();
    },
  );
});

describe("the allow-list", () => {
  it("reads CIDRs and addresses, each with or without a port", () => {
    const allow = parseAllowList(" 10.0.12.0/24, 127.0.0.1:8080,[::1]:9000 ,fd00::/8,192.168.1.5");
    expect(isAllowed("10.0.12.7", 80, allow)).toBe(true);
    expect(isAllowed("10.0.13.7", 80, allow)).toBe(false);
    expect(isAllowed("127.0.0.1", 8080, allow)).toBe(true);
    expect(isAllowed("127.0.0.1", 8081, allow)).toBe(false);
    expect(isAllowed("::ffff:127.0.0.1", 8080, allow)).toBe(true);
    expect(isAllowed("::1", 9000, allow)).toBe(true);
    expect(isAllowed("::1", 9001, allow)).toBe(false);
    expect(isAllowed("fd12::3", 443, allow)).toBe(true);
    expect(isAllowed("192.168.1.5", 1, allow)).toBe(true);
    expect(isAllowed("192.168.1.6", 1, allow)).toBe(false);
    expect(parseAllowList("")).toEqual([]);
  });

  it("names every bad entry and shows the accepted forms", () => {
    expect(() => parseAllowList("10.0.0.0/33,localhost,127.0.0.1:0")).toThrow(
      /'10.0.0.0\/33' has an invalid prefix length.*'localhost' is not an address or CIDR.*'127.0.0.1:0' has an invalid port.*e\.g\. 10\.0\.0\.0\/8/,
    );
  });
});
