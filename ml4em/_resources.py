"""What the machine lets this process use: CPUs and memory, as a container on Binder or JupyterHub limits them.

A JupyterHub spawner (and so Binder) tells the single-user server its limits in the environment variables
``CPU_LIMIT`` (cores, a float) and ``MEM_LIMIT`` (bytes); the container's control group (cgroup v2 files
``cpu.max``, ``memory.max``, ``memory.stat``, or their cgroup v1 counterparts) enforces them. Where neither says
anything, the machine's own CPUs count and the memory is taken as unlimited.
"""

import math
import os
from pathlib import Path

__all__ = ["available_cpus", "memory_limit_bytes", "memory_used_bytes"]

#: Root of the control-group file system (the tests point it at a folder of their own).
CGROUP_ROOT = Path("/sys/fs/cgroup")
_UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a number near 2**63


def _read(relative):
    try:
        return (CGROUP_ROOT / relative).read_text().strip()
    except OSError:
        return None


def _env_number(name):
    value = os.environ.get(name, "").strip()
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None


def available_cpus():
    """Cores this process may use: its CPU affinity, capped by ``CPU_LIMIT`` and the cgroup's CPU quota (>= 1)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    caps = []
    if (limit := _env_number("CPU_LIMIT")) is not None:
        caps.append(limit)
    v2 = _read("cpu.max")  # "max 100000" or "<quota> <period>"
    if v2 and not v2.startswith("max"):
        quota, _, period = v2.partition(" ")
        caps.append(int(quota) / int(period or 100000))
    quota, period = _read("cpu/cpu.cfs_quota_us"), _read("cpu/cpu.cfs_period_us")
    if quota and period and int(quota) > 0:
        caps.append(int(quota) / int(period))
    for cap in caps:
        n = min(n, math.ceil(cap))
    return max(int(n), 1)


def _cgroup_memory():
    """(limit, anonymous memory in use) in bytes of the cgroup that limits this container, or (None, None)."""
    for limit_file, stat_file, key in (("memory.max", "memory.stat", "anon"),
                                       ("memory/memory.limit_in_bytes", "memory/memory.stat", "total_rss")):
        value = _read(limit_file)
        if not value or value == "max" or not value.isdigit() or int(value) >= _UNLIMITED:
            continue
        used = None
        for line in (_read(stat_file) or "").splitlines():
            name, _, number = line.partition(" ")
            if name == key and number.isdigit():
                used = int(number)
        return int(value), used
    return None, None


def memory_limit_bytes():
    """The memory limit of this process's container in bytes: the lower of ``MEM_LIMIT`` and the cgroup's limit,
    or None where there is none."""
    limits = [int(v) for v in (_env_number("MEM_LIMIT"), _cgroup_memory()[0]) if v is not None]
    return min(limits) if limits else None


def memory_used_bytes():
    """Memory in use in this process's container in bytes, without the page cache that the kernel can reclaim.

    The anonymous memory of the cgroup that limits the container (cgroup v2 ``anon``, v1 ``total_rss``) where
    there is one; otherwise the resident memory of this process alone.
    """
    used = _cgroup_memory()[1]
    if used is not None:
        return used
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
