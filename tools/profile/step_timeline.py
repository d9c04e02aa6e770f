"""Where a recorded decode step spends its time, from a kernel_trace.cpp file.

    python3 tools/profile/step_timeline.py TRACE.csv [--steps 16] [--show 60]

The kernels of replayed graphs are split into steps at gaps of more than 15 us; the steps with the
most common kernel count are kept, and the middle ones averaged. Printed: the step's span, then per
kernel (by name) its total time, how often it runs, and how far it starts after the kernel before
it ends (negative: it overlapped, as chained launches do), then one step kernel by kernel.
"""
import argparse
import collections


def read(path):
    kernels = []
    for line in open(path):
        fields = line.rstrip("\n").split(",", 4)
        if len(fields) == 5:
            start, end, node, grid, name = fields
            kernels.append((int(start), int(end), int(node), int(grid), name))
    return sorted(kernels)


def short(name):
    for noise in ("vg::cuda::", "(anonymous namespace)::", "vg::"):
        name = name.replace(noise, "")
    return name.replace("__nv_bfloat16", "bf16")[:100]


def steps_of(kernels, gap_ns=15000):
    steps, current = [], []
    for k in kernels:
        if k[2] == 0:
            continue  # not in a graph
        if current and k[0] - max(c[1] for c in current[-3:]) > gap_ns:
            steps.append(current)
            current = []
        current.append(k)
    if current:
        steps.append(current)
    return steps


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trace")
    p.add_argument("--steps", type=int, default=16, help="steps averaged")
    p.add_argument("--show", type=int, default=60, help="kernels of one step listed")
    args = p.parse_args()
    steps = steps_of(read(args.trace))
    if not steps:
        raise SystemExit("no graph kernels in the trace (was the step recorded? VG_CUDA_GRAPHS=0?)")
    common = collections.Counter(len(s) for s in steps).most_common(1)[0][0]
    steps = [s for s in steps if len(s) == common]
    chosen = steps[len(steps) // 4:len(steps) // 4 + args.steps]
    busy, late, count = collections.defaultdict(float), collections.defaultdict(float), collections.Counter()
    span = 0
    for step in chosen:
        span += step[-1][1] - step[0][0]
        previous_end = step[0][0]
        for start, end, _, _, name in step:
            n = short(name)
            busy[n] += end - start
            late[n] += start - previous_end
            count[n] += 1
            previous_end = max(previous_end, end)
    k = len(chosen)
    print(f"{k} steps of {common} kernels: span {span / k / 1e3:.1f} us")
    print(f"{'us/step':>8} {'runs':>5} {'us each':>8} {'start-prev.end':>14}  kernel")
    for n in sorted(busy, key=lambda n: -busy[n]):
        print(f"{busy[n] / k / 1e3:8.1f} {count[n] // k:5d} {busy[n] / count[n] / 1e3:8.2f} "
              f"{late[n] / count[n] / 1e3:14.2f}  {n}")
    step = chosen[0]
    t0, previous_end = step[0][0], step[0][0]
    print(f"\none step: start, duration, start - previous end (us), grid, kernel")
    for start, end, _, grid, name in step[:args.show]:
        print(f"{(start - t0) / 1e3:9.2f} {(end - start) / 1e3:7.2f} {(start - previous_end) / 1e3:7.2f} "
              f"{grid:6d}  {short(name)}")
        previous_end = max(previous_end, end)


if __name__ == "__main__":
    main()
