"""ml4em._resources and ga.suggested_n_jobs: CPUs and memory as Binder and JupyterHub containers limit them.

Each test builds the control-group files of a container in a temporary folder and points CGROUP_ROOT at it.
"""

import os

import pytest

from ml4em import _resources, ga

GIB = 2**30


@pytest.fixture
def cgroup(tmp_path, monkeypatch):
    """A fake /sys/fs/cgroup with eight CPUs of affinity and no limits in the environment."""
    monkeypatch.setattr(_resources, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    for name in ("MEM_LIMIT", "CPU_LIMIT"):
        monkeypatch.delenv(name, raising=False)

    def write(relative, text):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return write


def test_no_limits_anywhere(cgroup):
    assert _resources.available_cpus() == 8
    assert _resources.memory_limit_bytes() is None
    assert ga.suggested_n_jobs(2) == 2
    assert ga.suggested_n_jobs(16) == 8


def test_binder_like_cgroup_v2_with_2_gib_allows_one_worker(cgroup):
    cgroup("memory.max", f"{2 * GIB}\n")
    cgroup("memory.stat", f"anon {512 * 2**20}\nfile {900 * 2**20}\n")  # the page cache does not count
    cgroup("cpu.max", "200000 100000\n")
    assert _resources.memory_limit_bytes() == 2 * GIB
    assert _resources.memory_used_bytes() == 512 * 2**20
    assert _resources.available_cpus() == 2
    # (2048 - 512 - 500) MB free / 800 MB a worker = 1.3: one process
    assert ga.suggested_n_jobs(2) == 1
    assert ga.suggested_n_jobs(2, worker_mb=500) == 2
    assert ga.suggested_n_jobs(2, worker_mb=500, reserve_mb=600) == 1
    # with 4 GiB the memory allows 4 workers; max_jobs and the CPU quota decide
    cgroup("memory.max", f"{4 * GIB}\n")
    assert ga.suggested_n_jobs(2) == 2
    assert ga.suggested_n_jobs(8) == 2


def test_memory_nearly_full_still_suggests_one_process(cgroup):
    cgroup("memory.max", f"{2 * GIB}\n")
    cgroup("memory.stat", f"anon {1900 * 2**20}\n")
    assert ga.suggested_n_jobs(4) == 1


def test_cgroup_v1_unlimited_and_mem_limit_from_the_spawner(cgroup, monkeypatch):
    cgroup("memory/memory.limit_in_bytes", "9223372036854771712\n")  # v1's "no limit"
    cgroup("memory/memory.stat", "total_rss 5263360\n")  # the root cgroup: not this container's usage
    cgroup("cpu/cpu.cfs_quota_us", "-1\n")
    cgroup("cpu/cpu.cfs_period_us", "100000\n")
    assert _resources.memory_limit_bytes() is None
    assert _resources.available_cpus() == 8
    monkeypatch.setenv("MEM_LIMIT", str(3 * GIB))
    monkeypatch.setenv("CPU_LIMIT", "1.5")
    assert _resources.memory_limit_bytes() == 3 * GIB
    assert _resources.available_cpus() == 2  # a fraction of a core still runs a process
    # without a limited cgroup the usage is this process's own resident memory, not the root cgroup's 5 MB
    rss = _resources.memory_used_bytes()
    assert 20 * 2**20 < rss < 3 * GIB


def test_cgroup_v1_limit_and_quota(cgroup):
    cgroup("memory/memory.limit_in_bytes", f"{2 * GIB}\n")
    cgroup("memory/memory.stat", f"cache 100\ntotal_rss {1024 * 2**20}\n")
    cgroup("cpu/cpu.cfs_quota_us", "100000\n")
    cgroup("cpu/cpu.cfs_period_us", "100000\n")
    assert _resources.memory_limit_bytes() == 2 * GIB
    assert _resources.memory_used_bytes() == 1024 * 2**20
    assert _resources.available_cpus() == 1
    assert ga.suggested_n_jobs(2) == 1


def test_the_lower_of_two_limits_counts_and_garbage_is_ignored(cgroup, monkeypatch):
    cgroup("memory.max", f"{4 * GIB}\n")
    cgroup("memory.stat", "anon 0\n")
    monkeypatch.setenv("MEM_LIMIT", str(GIB))
    assert _resources.memory_limit_bytes() == GIB
    monkeypatch.setenv("MEM_LIMIT", "lots")
    monkeypatch.setenv("CPU_LIMIT", "nan")
    assert _resources.memory_limit_bytes() == 4 * GIB
    assert _resources.available_cpus() == 8


@pytest.mark.parametrize("kwargs, message", [
    ({"max_jobs": 0}, "max_jobs=0 should be a positive integer"),
    ({"max_jobs": 1.5}, "max_jobs=1.5 should be a positive integer"),
    ({"worker_mb": 0}, "worker_mb=0 should be a positive number of MB"),
    ({"reserve_mb": -1}, "reserve_mb=-1 should be a number of MB, 0 or more"),
])
def test_bad_arguments_name_themselves(cgroup, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ga.suggested_n_jobs(**kwargs)
