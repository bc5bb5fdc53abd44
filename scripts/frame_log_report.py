#!/usr/bin/python3
"""Summarises a workbench --frame-log, optionally against cpu_stall_probe.py.

    frame_log_report.py FRAME_LOG [PROBE_LOG] [--limit MS]

For frames drawn while generating ("gen") and with nothing running ("idle"):
count, median, p95, max, frames over the limit (default 50 ms), which phase
held them (app / ui / render) and, with a probe log, how many of them fell
while the machine itself stalled (a probe sample in the frame took at least
3x its median CPU time: the CPUs lost time the workbench had no part in).
"""
import bisect
import statistics
import sys


def load_frames(path):
    t0, rows, hdr = 0.0, [], None
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                t0 = float(line.split()[2])
                continue
            fields = line.rstrip("\n").split("\t")
            if hdr is None:
                hdr = fields
                continue
            r = dict(zip(hdr, fields))
            for k in r:
                if k != "kind":
                    r[k] = float(r[k])
            r["start"] = t0 + r["t_ms"] / 1000.0
            rows.append(r)
    return rows


def load_probe(path):
    samples = []
    with open(path) as f:
        for line in f:
            t, cpu, _ = line.split()
            samples.append((float(t), float(cpu)))
    samples.sort()
    med = statistics.median(s[1] for s in samples)
    return [s[0] for s in samples], [s[1] / med for s in samples]


def pct(sorted_ms, q):
    return sorted_ms[min(len(sorted_ms) - 1, int(q * (len(sorted_ms) - 1) + 0.5))]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    limit = 50.0
    if "--limit" in sys.argv:
        limit = float(sys.argv[sys.argv.index("--limit") + 1])
        args.remove(sys.argv[sys.argv.index("--limit") + 1])
    if not args:
        sys.exit(__doc__)
    rows = load_frames(args[0])
    probe = load_probe(args[1]) if len(args) > 1 else None
    for kind in ("gen", "idle"):
        fr = [r for r in rows if r["kind"] == kind]
        if not fr:
            continue
        ms = sorted(r["total_ms"] for r in fr)
        slow = [r for r in fr if r["total_ms"] > limit]
        phases = {"app": 0, "ui": 0, "render": 0}
        stalled = 0
        for r in slow:
            phases[max(phases, key=lambda p: r[p + "_ms"])] += 1
            if probe:
                i = bisect.bisect_left(probe[0], r["start"])
                j = bisect.bisect_right(probe[0], r["start"] + r["total_ms"] / 1000.0)
                if any(x >= 3.0 for x in probe[1][i:j]):
                    stalled += 1
        line = "%-4s frames %4d  median %5.1f  p95 %5.1f  max %6.1f  over %g ms: %d (app %d, ui %d, render %d)" % (
            kind, len(fr), pct(ms, 0.5), pct(ms, 0.95), ms[-1], limit, len(slow), phases["app"], phases["ui"],
            phases["render"])
        if probe:
            line += "; during a machine stall: %d, not: %d" % (stalled, len(slow) - stalled)
        print(line)
    if probe:
        t, ratio = probe
        n = sum(1 for x in ratio if x >= 3.0)
        print("probe: %d samples, %d (%.1f%%) at >= 3x the median CPU time" % (len(ratio), n, 100.0 * n / len(ratio)))


if __name__ == "__main__":
    main()
