#!/usr/bin/python3
"""Logs when this machine's CPUs lose time the guest does not see (host stalls).

    cpu_stall_probe.py SECONDS OUT.txt

Every 2 ms it runs the same small workload and writes one line:
`monotonic_s thread_cpu_us wall_us`. The workload's thread CPU time is
normally ~constant; when it takes several times longer in *CPU* time (not
wall time: waiting for a CPU does not count), the virtual CPU ran slower or
was taken away without the guest's scheduler knowing (on the build machine
this shows as no steal time). scripts/frame_log_report.py lines these up with
a workbench --frame-log, so a slow frame can be told apart from a slow
machine. CLOCK_MONOTONIC, as the frame log's t0_monotonic_s.
"""
import sys
import time


def work(n=4000):
    s = 0
    for i in range(n):
        s += i * i
    return s


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    end = time.monotonic() + float(sys.argv[1])
    with open(sys.argv[2], "w") as out:
        while time.monotonic() < end:
            w0 = time.monotonic()
            c0 = time.thread_time_ns()
            work()
            c1 = time.thread_time_ns()
            w1 = time.monotonic()
            out.write("%.6f %.1f %.1f\n" % (w0, (c1 - c0) / 1000.0, (w1 - w0) * 1e6))
            time.sleep(0.002)


if __name__ == "__main__":
    main()
