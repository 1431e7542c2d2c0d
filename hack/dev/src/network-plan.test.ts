import { describe, expect, it } from "vitest";
import {
  addressesOf,
  inBenchmarkRange,
  MAX_REAL_NODES,
  MAX_SLOTS,
  networkPlan,
  PlanError,
} from "./network-plan.js";

const toInt = (ip: string): number =>
  ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);

function range(cidr: string): [number, number] {
  const [ip = "", bits = "32"] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = toInt(ip);
  return [start, start + size - 1];
}

const overlaps = (a: string, b: string): boolean => {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
};

describe("network plan", () => {
  it("uses only 198.18.0.0/15, never 10/8, 172.16/12 or 192.168/16, in every slot", () => {
    for (let slot = 0; slot < MAX_SLOTS; slot++) {
      const plan = networkPlan(slot, MAX_REAL_NODES);
      for (const ip of addressesOf(plan))
        expect(inBenchmarkRange(ip), `${ip} in slot ${slot}`).toBe(true);
    }
    expect(inBenchmarkRange("10.96.0.1")).toBe(false);
    expect(inBenchmarkRange("198.20.0.1")).toBe(false);
  });

  it("gives control planes in different slots disjoint pod, service and node ranges", () => {
    const ranges = (s: number): string[] => {
      const p = networkPlan(s, MAX_REAL_NODES);
      return [p.clusterCidr, p.serviceCidr, p.fabricCidr];
    };
    const slots = Array.from({ length: MAX_SLOTS }, (_, i) => i);
    const crossings = slots.flatMap((a) =>
      slots
        .filter((b) => b > a)
        .flatMap((b) => ranges(a).flatMap((x) => ranges(b).map((y) => [x, y] as const))),
    );
    for (const [x, y] of crossings) expect(overlaps(x, y), `${x} ${y}`).toBe(false);
  });

  it("keeps each node's pods, kwok's pods, services and the fabric apart within one plan", () => {
    const plan = networkPlan(3, MAX_REAL_NODES);
    const all = [
      plan.kwokPodCidr,
      plan.serviceCidr,
      plan.fabricCidr,
      ...plan.nodes.map((n) => n.podCidr),
    ];
    for (let i = 0; i < all.length; i++)
      for (let j = i + 1; j < all.length; j++)
        expect(overlaps(all[i] ?? "", all[j] ?? "")).toBe(false);
    for (const n of plan.nodes) {
      expect(overlaps(n.podCidr, plan.clusterCidr)).toBe(true);
      expect(overlaps(`${n.ip}/32`, plan.fabricCidr)).toBe(true);
    }
    expect(overlaps(`${plan.dnsServiceIp}/32`, plan.serviceCidr)).toBe(true);
  });

  it("names interfaces within the kernel's 15 characters and namespaces per slot", () => {
    const plan = networkPlan(7, MAX_REAL_NODES);
    for (const name of [plan.bridge, ...plan.nodes.map((n) => n.hostVeth)])
      expect(name.length).toBeLessThanOrEqual(15);
    expect(new Set(plan.nodes.map((n) => n.netns)).size).toBe(MAX_REAL_NODES);
  });

  it("refuses slots and node counts it cannot address", () => {
    expect(() => networkPlan(MAX_SLOTS, 1)).toThrow(PlanError);
    expect(() => networkPlan(0, MAX_REAL_NODES + 1)).toThrow(/--real-nodes must be 0..8/);
  });

  it("gives kwok's nodes the first real node's address (its forwarder reaches kwok), loopback without real nodes", () => {
    expect(networkPlan(2, 2).kwokNodeIp).toBe(networkPlan(2, 2).nodes[0]?.ip);
    expect(networkPlan(2, 0).kwokNodeIp).toBe("127.0.0.1");
  });
});
