import { describe, expect, it } from "vitest";
import {
  decideRollout,
  waveSizeOf,
  wavesOf,
  waveVerdict,
  type Member,
  type RolloutInput,
  type Standing,
} from "./rollout.js";

const member = (
  name: string,
  standing: Standing = "pending",
  labels: Record<string, string> = {},
  ready = true,
): Member => ({ key: `t/${name}`, labels, standing, ready });

const NOW = new Date("2026-12-03T12:00:00Z");

function input(members: Member[], extra: Partial<RolloutInput> = {}): RolloutInput {
  return {
    chart: "app-2.0.0",
    digest: "sha256:2",
    members,
    upgrade: undefined,
    halted: false,
    now: NOW,
    ...extra,
  };
}

describe("waveSizeOf", () => {
  it.each([
    [undefined, 7, 7],
    [undefined, 0, 1],
    [3, 7, 3],
    ["25%", 7, 2],
    ["100%", 7, 7],
    ["1%", 7, 1],
  ] as const)("size %s of %i instances is %i", (size, total, want) => {
    expect(waveSizeOf(size, total)).toBe(want);
  });
});

describe("wavesOf", () => {
  const five = ["e", "b", "d", "a", "c"].map((n) => member(n));

  it("is one wave of every instance by default, in namespace/name order", () => {
    expect(wavesOf(five, undefined)).toEqual([["t/a", "t/b", "t/c", "t/d", "t/e"]]);
  });

  it("puts the first N first as the canary, then waves of the size", () => {
    expect(wavesOf(five, { canary: { count: 1 }, waveSize: 2 })).toEqual([
      ["t/a"],
      ["t/b", "t/c"],
      ["t/d", "t/e"],
    ]);
  });

  it("takes the canary by label when a selector is given, wherever they sort", () => {
    const members = [member("a"), member("b"), member("z", "pending", { canary: "yes" })];
    expect(
      wavesOf(members, {
        canary: { selector: { matchLabels: { canary: "yes" } } },
        waveSize: "50%",
      }),
    ).toEqual([["t/z"], ["t/a"], ["t/b"]]);
  });

  it("keeps an empty canary as wave 1 (wave numbers do not shift)", () => {
    expect(
      wavesOf([member("a")], { canary: { selector: { matchLabels: { canary: "yes" } } } }),
    ).toEqual([[], ["t/a"]]);
  });
});

describe("decideRollout", () => {
  const canary = { canary: { count: 1, soakSeconds: 60 }, waveSize: 1 };

  it("moves the canary first", () => {
    const d = decideRollout(input([member("a"), member("b")], { upgrade: canary }));
    expect(d.status).toMatchObject({ phase: "Canary", wave: 1, waves: 2 });
  });

  it("soaks once the canary is on the chart and Ready: the other waves wait, a recheck at the soak's end", () => {
    const d = decideRollout(input([member("a", "upgraded"), member("b")], { upgrade: canary }));
    expect(d.status).toMatchObject({
      phase: "Soaking",
      wave: 1,
      canaryReadyAt: "2026-12-03T12:00:00.000Z",
      soakUntil: "2026-12-03T12:01:00.000Z",
    });
    expect(d.recheckAfterMs).toBe(60_000);
  });

  it("opens wave 2 when the recorded soak has passed", () => {
    const d = decideRollout(
      input([member("a", "upgraded"), member("b"), member("c")], {
        upgrade: canary,
        recorded: { digest: "sha256:2", canaryReadyAt: "2026-12-03T11:58:00.000Z" },
      }),
    );
    expect(d.status).toMatchObject({ phase: "Rolling", wave: 2, waves: 3 });
    expect(d.recheckAfterMs).toBeUndefined();
  });

  it("does not count a soak while a canary instance is not Ready (the clock starts again)", () => {
    const d = decideRollout(
      input([member("a", "upgraded", {}, false), member("b")], {
        upgrade: canary,
        recorded: { digest: "sha256:2", canaryReadyAt: "2026-12-03T11:00:00.000Z" },
      }),
    );
    expect(d.status.phase).toBe("Soaking");
    expect(d.status.canaryReadyAt).toBeUndefined();
    expect(d.status.message).toMatch(/until every canary instance is Ready/);
  });

  it("does not soak a canary no instance matches", () => {
    const d = decideRollout(
      input([member("a"), member("b")], {
        upgrade: { canary: { selector: { matchLabels: { canary: "yes" } } }, waveSize: 1 },
      }),
    );
    expect(d.status).toMatchObject({ phase: "Rolling", wave: 2, waves: 3 });
    expect(d.recheckAfterMs).toBeUndefined();
  });

  it("counts failed, pinned and incompatible instances as settled for the next wave", () => {
    const d = decideRollout(
      input(
        [member("a", "failed"), member("b", "pinned"), member("c", "incompatible"), member("d")],
        {
          upgrade: { waveSize: 1 },
        },
      ),
    );
    expect(d.status).toMatchObject({ phase: "Rolling", wave: 4, waves: 4 });
  });

  it("is Done when nothing is pending", () => {
    const d = decideRollout(input([member("a", "upgraded"), member("b", "pinned")]));
    expect(d.status).toMatchObject({ phase: "Done", wave: 1, waves: 1 });
  });

  it("says Paused and Halted, keeping the wave", () => {
    expect(decideRollout(input([member("a")], { upgrade: { paused: true } })).status).toMatchObject(
      { phase: "Paused", wave: 1 },
    );
    expect(decideRollout(input([member("a")], { halted: true })).status).toMatchObject({
      phase: "Halted",
      message: "halted at wave 1 of 1: the failure budget is spent",
    });
  });
});

describe("waveVerdict", () => {
  const members = [member("a"), member("b"), member("c")];
  const upgrade = { canary: { count: 1 }, waveSize: 1 };
  const verdict = (key: string, recorded?: { wave: number; phase?: "Rolling" | "Soaking" }) =>
    waveVerdict({
      key,
      members,
      upgrade,
      digest: "sha256:2",
      recorded: recorded && { digest: "sha256:2", message: "m", ...recorded },
    });

  it("lets the canary go at once and holds the others until their wave opens", () => {
    expect(verdict("t/a")).toEqual({ go: true });
    expect(verdict("t/b")).toEqual({
      go: false,
      why: "in wave 2 of 3: the rollout's waves are being counted",
    });
    expect(verdict("t/b", { wave: 2, phase: "Rolling" })).toEqual({ go: true });
    expect(verdict("t/c", { wave: 2, phase: "Rolling" })).toEqual({
      go: false,
      why: "in wave 3 of 3: m",
    });
  });

  it("holds every later wave while the canary soaks", () => {
    expect(verdict("t/b", { wave: 2, phase: "Soaking" }).go).toBe(false);
  });

  it("lets everyone go when there are no waves", () => {
    expect(
      waveVerdict({ key: "t/c", members, upgrade: undefined, digest: "d", recorded: undefined }),
    ).toEqual({ go: true });
  });
});
