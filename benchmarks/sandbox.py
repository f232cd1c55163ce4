"""What the grading sandbox costs: one tutorial executed by the grader with and without it.

Usage::

    .venv/bin/python benchmarks/sandbox.py                      # tutorial 01 at full size, 3 runs each
    ML4EM_QUICK=1 .venv/bin/python benchmarks/sandbox.py 03_clustering --repeats 2

Each run executes the instructor version of the tutorial with :class:`ml4em.sandbox.execute.SandboxedExecute`, as
``nbgrader autograde`` does, alternating ``sandbox="on"`` (a bubblewrap jail, a throw-away user id, limits, the
probe before every cell) and ``sandbox="off"`` (nbgrader's plain execution; the probe still runs), so that both see
the same load. It needs root and bubblewrap (as the grading does).

Figures printed (the last line is one JSON object): ``sandboxed_s`` and ``plain_s`` (best wall time of each),
``overhead_s`` and ``ratio`` (sandboxed / plain), every run's time, the number of cells, and ``load_avg``.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignment", nargs="?", default="01_regression")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from ml4em.sandbox import sandbox_unavailable
    from ml4em.sandbox.execute import SandboxedExecute

    reason = sandbox_unavailable()
    if reason:
        print(f"benchmarks/sandbox.py: error: {reason}", file=sys.stderr)
        return 2
    folder = ROOT / "tutorials" / args.assignment
    source = nbformat.read(folder / f"{args.assignment}.ipynb", as_version=4)
    os.environ.setdefault("ML4EM_STATIC_WIDGETS", "1")
    times = {"on": [], "off": []}
    for _ in range(args.repeats):
        for mode in ("on", "off"):
            nb = nbformat.from_dict(json.loads(json.dumps(source)))
            start = time.perf_counter()
            result, _ = SandboxedExecute(timeout=600, sandbox=mode).preprocess(nb, {"metadata": {"path": str(folder)}})
            times[mode].append(round(time.perf_counter() - start, 2))
            print(json.dumps({"mode": mode, "seconds": times[mode][-1],
                              "runs": result.metadata["ml4em"]["sandbox"]["runs"]}))
    best_on, best_off = min(times["on"]), min(times["off"])
    print(json.dumps({"assignment": args.assignment, "quick": os.environ.get("ML4EM_QUICK", "0"),
                      "cells": sum(c.cell_type == "code" for c in source.cells), "sandboxed_s": best_on,
                      "plain_s": best_off, "overhead_s": round(best_on - best_off, 2),
                      "ratio": round(best_on / best_off, 3), "runs_s": times, "load_avg": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
