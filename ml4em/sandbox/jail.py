"""The jail a student's kernel runs in: bubblewrap namespaces, a throw-away user id and resource limits.

A :class:`Jail` is made for one run of one notebook. It holds a private folder (a copy of that submission only)
and builds the command line that starts a program inside it:

- ``bwrap`` (bubblewrap) gives the program its own mount, PID, IPC, UTS and network namespaces. Its file system
  holds only what Python needs, read-only (``/usr``, a few files of ``/etc``, the Python installation, the ml4em
  package, the data cache) and the private folder, writable; the course folder, the gradebook, other submissions and
  home folders do not exist in it. The new network namespace has no interface but loopback: no network.
- ``setpriv`` then drops to a user id that owns no file and no other process on the machine (chosen at random
  from a high range, with no entry in ``/etc/passwd``), with no supplementary groups, no capabilities and
  ``no_new_privs``.
- ``prlimit`` caps address space (memory), CPU time, the number of processes and threads of that user, the size of
  any file written and open files.
- ``env -i`` starts the program with a minimal, explicit environment: nothing of the grader's is passed on.

Everything the program starts lives in the jail's PID namespace, which the kernel of the operating system
destroys when the jail's first process ends, so :meth:`Jail.close` leaves nothing running (and checks it: it kills
any process of the jail's user id that is left, and says how many there were).

Used by: :mod:`ml4em.sandbox.kernel` (the kernel manager) and the grading round of ``tests/``.
"""

import os
import random
import shutil
import signal
import site
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Limits", "Jail", "sandbox_unavailable", "processes_of", "UID_RANGE"]

UID_RANGE = (1_900_000_000, 2_000_000_000)  # far above any real user or container mapping
_ETC = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/ssl", "/etc/alternatives",
        "/etc/fonts", "/etc/mime.types", "/etc/nsswitch.conf", "/etc/hosts", "/etc/passwd", "/etc/group"]
_PASS_ENV = ("ML4EM_QUICK", "ML4EM_STATIC_WIDGETS", "ML4EM_DATA_DIR", "ML4EM_DATA_URL", "OPENBLAS_CORETYPE",
             "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_CPP_MIN_LOG_LEVEL",
             "TZ", "LANG", "LC_ALL")


@dataclass(frozen=True)
class Limits:
    """Resource limits of a jail (``None`` for no limit).

    Attributes
    ----------
    memory : int, bytes
        Address space of each process (``RLIMIT_AS``): an allocation beyond it raises ``MemoryError``.
    cpu : int, seconds
        CPU time of each process (``RLIMIT_CPU``).
    processes : int
        Processes and threads of the jail's user id together (``RLIMIT_NPROC``).
    file_size : int, bytes
        Largest file the jail may write (``RLIMIT_FSIZE``).
    open_files : int
        Open file descriptors per process (``RLIMIT_NOFILE``).
    tmp_size : int, bytes
        Size of the jail's private ``/tmp`` (a tmpfs).
    """

    memory: int = 8 * 2**30
    cpu: int = 3600
    processes: int = 512
    file_size: int = 512 * 2**20
    open_files: int = 1024
    tmp_size: int = 512 * 2**20

    def prlimit_args(self):
        """The ``prlimit`` options for these limits."""
        pairs = (("--as", self.memory), ("--cpu", self.cpu), ("--nproc", self.processes),
                 ("--fsize", self.file_size), ("--nofile", self.open_files))
        return [f"{opt}={value}" for opt, value in pairs if value is not None]


def _tool(name):
    return shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")


def sandbox_unavailable():
    """Why a jail cannot be made on this machine, or ``None`` when it can.

    A jail needs root (to give the kernel a user id of its own), and ``bwrap``, ``setpriv``, ``prlimit`` and ``env``.
    """
    if os.name != "posix" or not sys.platform.startswith("linux"):
        return f"the grading sandbox needs Linux; this is {sys.platform}"
    if os.geteuid() != 0:
        return ("the grading sandbox runs each kernel as a user of its own, which needs root; run the grading as root "
                "(sudo) on the grading machine or in its container")
    missing = [name for name in ("bwrap", "setpriv", "prlimit", "env") if _tool(name) is None]
    if missing:
        return (f"missing program(s) {missing}: install Debian's 'bubblewrap' and 'util-linux' packages "
                "(apt-get install bubblewrap util-linux)")
    return None


def processes_of(uid):
    """Process ids of every process whose real or effective user id is ``uid`` (read from ``/proc``)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                for line in fh:
                    if line.startswith("Uid:"):
                        ids = [int(v) for v in line.split()[1:3]]
                        if uid in ids:
                            found.append(int(entry))
                        break
        except (OSError, ValueError):
            continue
    return found


def _free_uid(rng):
    for _ in range(100):
        uid = rng.randrange(*UID_RANGE)
        if not processes_of(uid):
            return uid
    raise RuntimeError(f"no free user id found in {UID_RANGE} for the grading sandbox")


def _python_roots():
    """Folders the kernel's Python needs, read-only: its installation, the virtual environment, site-packages."""
    roots = {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots |= set(site.getsitepackages())
    roots.add(str(Path(__file__).resolve().parents[1]))  # the ml4em package (an editable install lives elsewhere)
    roots = {os.path.realpath(r) for r in roots if r and os.path.isdir(r)}
    # keep only the outermost folders
    return sorted(r for r in roots if not any(r != o and r.startswith(o + os.sep) for o in roots))


@dataclass
class Jail:
    """A private folder and the command line that runs a program in it, sandboxed.

    Parameters
    ----------
    source : path-like, optional
        Folder whose files are copied into the private folder (the submission being graded).
    limits : Limits, optional
    readonly : list of path-like, optional
        More folders the program may read (for example the data cache).
    seed : int or numpy.random.Generator, optional
        Chooses the user id (keyword-only in :meth:`create`).

    Attributes
    ----------
    root : Path
        The jail's folder on the grader's side (mode 0700, root's).
    workdir : Path
        The private copy, the program's current and home folder, owned by :attr:`uid`.
    rundir : Path
        A second private folder for the kernel's connection file and sockets.
    uid : int
        The user id the program runs as.
    """

    root: Path
    workdir: Path
    rundir: Path
    uid: int
    limits: Limits = field(default_factory=Limits)
    readonly: list = field(default_factory=list)

    @classmethod
    def create(cls, source=None, *, limits=None, readonly=(), seed=None):
        """Make the private folders and choose a user id; see the class docstring."""
        reason = sandbox_unavailable()
        if reason:
            raise RuntimeError(f"cannot make a grading sandbox: {reason}")
        rng = random.Random(seed)
        uid = _free_uid(rng)
        root = Path(tempfile.mkdtemp(prefix="ml4em-jail-"))
        os.chmod(root, 0o711)  # others may pass through to the two folders below, not list them
        workdir, rundir = root / "work", root / "run"
        if source is not None:
            shutil.copytree(source, workdir, symlinks=False,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            workdir.mkdir()
        rundir.mkdir()
        for folder in (workdir, rundir):
            for path in [folder, *folder.rglob("*")]:
                os.lchown(path, uid, uid)
            os.chmod(folder, 0o700)
        extra = [os.path.realpath(p) for p in readonly if p and os.path.isdir(p)]
        return cls(root=root, workdir=workdir, rundir=rundir, uid=uid, limits=limits or Limits(), readonly=extra)

    def environment(self, extra=None):
        """The program's whole environment: a minimal, explicit set (nothing of the grader's but course settings)."""
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(self.workdir),
               "USER": "ml4em-sandbox", "LOGNAME": "ml4em-sandbox", "LANG": "C.UTF-8", "TMPDIR": "/tmp",
               "MPLCONFIGDIR": str(self.workdir / ".matplotlib"), "KERAS_HOME": str(self.workdir / ".keras"),
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "JPY_SANDBOXED": "1"}
        if self.limits.memory:
            env["MEM_LIMIT"] = str(self.limits.memory)  # ml4em._resources sizes worker pools from it
        env.update({k: os.environ[k] for k in _PASS_ENV if k in os.environ})
        env.update(extra or {})
        return env

    def command(self, argv, *, env=None):
        """The command line that runs ``argv`` inside the jail, as :attr:`uid`, with :attr:`limits`.

        Parameters
        ----------
        argv : list of str
            The program and its arguments (an absolute path to the program).
        env : dict, optional
            Variables added to :meth:`environment`.
        """
        args = [_tool("bwrap"), "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "ml4em-sandbox",
                "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(self.limits.tmp_size), "--tmpfs",
                "/dev/shm", "--perms", "1777", "--size", str(self.limits.tmp_size),
                "--tmpfs", "/tmp", "--ro-bind", "/usr", "/usr"]
        for link in ("bin", "lib", "lib64", "sbin"):
            target = os.path.join("/", link)
            if os.path.islink(target):
                args += ["--symlink", os.readlink(target), target]
            elif os.path.isdir(target):
                args += ["--ro-bind", target, target]
        args += ["--perms", "0755", "--dir", "/etc"]
        for path in _ETC:
            args += ["--ro-bind-try", path, path]
        made = {"/", "/tmp", "/usr", "/proc", "/dev", "/etc"}
        mounts = [(p, "--ro-bind") for p in _python_roots() + self.readonly]
        mounts += [(str(self.workdir), "--bind"), (str(self.rundir), "--bind")]
        for path, how in mounts:
            for parent in reversed(Path(path).parents):
                if str(parent) not in made:  # bwrap would make missing parents 0700: unreadable for the jail's user
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            args += [how, path, path]
            made.add(path)
        args += ["--chdir", str(self.workdir), "--",
                 _tool("setpriv"), f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                 "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all",
                 _tool("prlimit"), *self.limits.prlimit_args(), "--",
                 _tool("env"), "-i", *[f"{k}={v}" for k, v in sorted(self.environment(env).items())], *argv]
        return args

    def close(self, *, grace=2.0):
        """Kill every process of the jail's user id still there after a second, remove the private folders.

        Returns
        -------
        int
            How many processes had to be killed.
        """
        killed = 0
        settle = time.monotonic() + 1.0  # a kernel just shut down takes its process namespace with it: let it end
        while processes_of(self.uid) and time.monotonic() < settle:
            time.sleep(0.02)
        deadline = time.monotonic() + grace
        while True:
            pids = processes_of(self.uid)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)
        left = processes_of(self.uid)
        if left:
            raise RuntimeError(f"processes {left} of the grading sandbox's user {self.uid} survived SIGKILL")
        return killed
