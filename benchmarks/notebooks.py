"""Run every tutorial and lecture at full size and print its wall time and peak memory.

Usage::

    .venv/bin/python benchmarks/notebooks.py                 # all tutorials and lectures
    .venv/bin/python benchmarks/notebooks.py 01_regression   # some (tutorial or lecture names)
    .venv/bin/python benchmarks/notebooks.py --only lectures # one kind
    .venv/bin/python benchmarks/notebooks.py --quick         # the quick mode of the test suite

Each notebook (the instructor version, so that every cell runs) is executed in
a fresh kernel in a temporary copy of its folder, without ``ML4EM_QUICK``.
Peak memory is the largest resident set of the kernel and its child
processes, sampled every 0.1 s, and at least the kernel's own high-water mark
(VmHWM). One JSON line per notebook, then a last JSON line with the summary
and whether every notebook stayed under the course limits (3 minutes, 2 GB:
what a Binder session allows).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_S = 180.0
LIMIT_MB = 2048.0


def _kernel_hwm_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class _Sampler(threading.Thread):
    """Samples the resident memory of a process tree until stopped."""

    def __init__(self, pid, interval=0.1):
        super().__init__(daemon=True)
        import psutil

        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._halt = threading.Event()

    def run(self):
        import psutil

        while not self._halt.is_set():
            try:
                procs = [self.proc] + self.proc.children(recursive=True)
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                break
            time.sleep(self.interval)

    def stop(self):
        self._halt.set()
        self.join()
        return self.peak / 2**20


def run_notebook(path, *, quick=False, timeout=900):
    """Execute one notebook; return a dict with name, wall_s, peak_mb, ok and error."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env_backup = dict(os.environ)
    os.environ.pop("ML4EM_QUICK", None)
    if quick:
        os.environ["ML4EM_QUICK"] = "1"
    os.environ["ML4EM_STATIC_WIDGETS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    bindir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    work = Path(tempfile.mkdtemp(prefix="ml4em-bench-"))
    result = {"notebook": path.stem, "mode": "quick" if quick else "full"}
    try:
        shutil.copytree(path.parent, work / path.parent.name)
        nb_path = work / path.parent.name / path.name
        nb = nbformat.read(nb_path, as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(nb_path.parent)}})
        start = time.perf_counter()
        error = None
        with client.setup_kernel():
            pid = client.km.provisioner.process.pid
            sampler = _Sampler(pid)
            sampler.start()
            try:
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
            except CellExecutionError as err:
                error = str(err).strip().splitlines()[-1][:300]
            hwm = _kernel_hwm_mb(pid)
            peak = max(sampler.stop(), hwm)
        result.update(wall_s=round(time.perf_counter() - start, 1), peak_mb=round(peak, 1), ok=error is None)
        if error:
            result["error"] = error
    finally:
        shutil.rmtree(work, ignore_errors=True)
        os.environ.clear()
        os.environ.update(env_backup)
    result["within_limits"] = bool(result.get("ok") and result["wall_s"] <= LIMIT_S and result["peak_mb"] <= LIMIT_MB)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="tutorial or lecture names (default: all), e.g. 01_regression")
    parser.add_argument("--only", choices=["tutorials", "lectures"], help="run only one kind of notebook")
    parser.add_argument("--quick", action="store_true", help="quick mode instead of full size")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from ml4em.grading import find_assignments

    known = {}
    if args.only != "lectures":
        known.update({n: ROOT / "tutorials" / n / f"{n}.ipynb" for n in find_assignments(ROOT)})
    if args.only != "tutorials":
        known.update({p.stem: p for p in sorted((ROOT / "lectures").glob("*.ipynb"))})
    missing = [n for n in args.names if n not in known]
    if missing:
        parser.error(f"no such notebook(s): {missing}; known: {sorted(known)}")
    paths = [known[n] for n in (args.names or known)]
    results = []
    for path in paths:
        result = run_notebook(path, quick=args.quick, timeout=args.timeout)
        results.append(result)
        print(json.dumps(result), flush=True)
    summary = {
        "benchmark": "notebooks", "mode": "quick" if args.quick else "full", "n_notebooks": len(results),
        "max_wall_s": max(r["wall_s"] for r in results), "max_peak_mb": max(r["peak_mb"] for r in results),
        "limit_s": LIMIT_S, "limit_mb": LIMIT_MB, "all_within_limits": all(r["within_limits"] for r in results),
        "results": {r["notebook"]: {"wall_s": r["wall_s"], "peak_mb": r["peak_mb"]} for r in results},
    }
    print(json.dumps(summary))
    return 0 if summary["all_within_limits"] else 1


if __name__ == "__main__":
    sys.exit(main())
