import { describe, expect, it } from "vitest";
import { problemLines } from "./process.js";

const kubelet = [
  'I1203 11:39:18.871671    8635 flags.go:64] FLAG: --volume-stats-agg-period="1m0s"',
  'E1203 11:39:19.107206    8635 server.go:1253] "Failed to set rlimit on max file handles"',
  'I1203 11:39:19.107217    8635 server.go:1257] "Started kubelet"',
  'E1203 11:39:20.000000    8635 reflector.go:1] "dial tcp 127.0.0.1:6443: connect: connection refused"',
  'W1203 11:39:21.000000    8635 reflector.go:1] "still waiting"',
  'I1203 11:39:22.000000    8635 kubelet.go:1] "Attempting to register node"',
].join("\n");

describe("problemLines", () => {
  it("keeps the warnings and errors, then the last lines, once each", () => {
    expect(problemLines(`${kubelet}\n`, 12, 2)).toEqual([
      'E1203 11:39:19.107206    8635 server.go:1253] "Failed to set rlimit on max file handles"',
      'E1203 11:39:20.000000    8635 reflector.go:1] "dial tcp 127.0.0.1:6443: connect: connection refused"',
      'W1203 11:39:21.000000    8635 reflector.go:1] "still waiting"',
      'I1203 11:39:22.000000    8635 kubelet.go:1] "Attempting to register node"',
    ]);
  });

  it("keeps only the newest problems and cuts long lines", () => {
    const text = Array.from(
      { length: 30 },
      (_, i) => `time="t" level=error msg="boom ${String(i)}" ${"x".repeat(400)}`,
    ).join("\n");
    const lines = problemLines(text, 5, 1, 40);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe(`time="t" level=error msg="boom 25" ${"x".repeat(5)}…`);
  });

  it("takes logrus's level, not an error field of an info line", () => {
    const containerd = [
      'time="t" level=info msg="skip loading plugin" error="mkfs.erofs not found"',
      'time="t" level=warning msg="no CNI config"',
      'time="t" level=info msg=serving...',
    ].join("\n");
    expect(problemLines(containerd, 12, 1)).toEqual([
      'time="t" level=warning msg="no CNI config"',
      'time="t" level=info msg=serving...',
    ]);
  });

  it("says nothing of an empty log", () => {
    expect(problemLines("")).toEqual([]);
  });
});
