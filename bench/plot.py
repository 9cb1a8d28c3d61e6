#!/usr/bin/python3
"""IOPS vs queue depth per backstore (4k randread through tcm_loop) from the
JSON that bench/vm-bench.sh --json writes.

Usage: plot.py VM_BENCH_JSON OUTPUT_PNG
"""
import json
import re
import sys

import matplotlib

matplotlib.use("Agg")  # no display: write the file only
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {  # backstore: (label, line style)
    "rd_mcp": ("kernel rd_mcp", "k-o"),
    "fileio": ("kernel fileio (tmpfs)", "k--s"),
    "user:ram": ("vhostio user:ram", "C0-o"),
    "user:file": ("vhostio user:file (tmpfs)", "C1-s"),
    "tcmu-runner": ("tcmu-runner 1.5.4 user:qcow, raw (tmpfs)", "C3-.^"),
}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    res = json.load(open(sys.argv[1]))
    series = {}
    for r in res["results"]:
        m = re.fullmatch(r"randread-4k-qd(\d+)", r["workload"])
        if m and r.get("status") == "ok":
            series.setdefault(r["backstore"], []).append((int(m.group(1)), r["iops"]))
    if not series:
        sys.exit("plot.py: no randread-4k-qdN results in %s" % sys.argv[1])

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for name, pts in sorted(series.items(), key=lambda kv: list(STYLE).index(kv[0].split("+")[0])
                            if kv[0].split("+")[0] in STYLE else 99):
        base = name.split("+")[0]
        label, style = STYLE.get(base, (name, "C7-x"))
        if "+" in name:  # the busy-poll variant: same colour, dotted
            label += " --" + name.split("+", 1)[1].replace("poll", "poll-us ")
            style = style[:2] + ":" + style[-1]
        pts.sort()
        ax.plot([q for q, _ in pts], [i for _, i in pts], style, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({q for pts in series.values() for q, _ in pts}))
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("fio iodepth (libaio, direct=1)")
    ax.set_ylabel("IOPS, 4 KiB random read")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    g = res.get("guest", {})
    ax.set_title("4k randread through tcm_loop: accel=%s, %s vCPUs, kernel %s, %s s per point"
                 % (res.get("accel", "?"), g.get("nproc", "?"), g.get("kernel", "?"), res.get("runtime_s", "?")),
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2])
    print("plot.py: wrote %s" % sys.argv[2])


if __name__ == "__main__":
    main()
