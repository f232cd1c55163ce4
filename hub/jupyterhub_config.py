"""JupyterHub configuration of an ml4em course hub on one machine (docs/instructor.md, section 2).

Run it as root: ``jupyterhub -f hub/jupyterhub_config.py``. What it sets up:

- every user's server is spawned as that user's own Linux account (``LocalProcessSpawner``), so file permissions
  keep students apart;
- ngshare, nbgrader's exchange service, runs as a hub service at ``/services/ngshare/``; every server gets the
  nbgrader settings of ``hub/nbgrader_config.py`` (course ``ml4em``, exchange through ngshare);
- each server gets ``ML4EM_DATA_DIR`` (the shared, read-only cache of the real spectra) and a memory limit,
  ``MEM_LIMIT``, which is enforced with a memory cgroup where the machine has one writable.

The settings an instructor changes are environment variables read here, so that this file stays the one
tests/test_hub_round.py runs:

``ML4EM_HUB_STATE`` (default ``/srv/ml4em-hub``)
    Folder of the hub's database, cookie secret and ngshare's database and files (root only).
``ML4EM_HUB_URL`` (default ``http://:8000``)
    Address the proxy listens on.
``ML4EM_HUB_INSTRUCTORS`` (default ``instructor``)
    Comma-separated user names of the instructors: hub admins and ngshare admins.
``ML4EM_HUB_STUDENTS`` (default: anyone the authenticator accepts)
    Comma-separated user names allowed to log in besides the instructors.
``ML4EM_DATA_DIR`` (default ``/srv/ml4em-data``)
    The real-spectra cache every server reads (``ml4em data download`` fills it).
``ML4EM_HUB_MEM_LIMIT`` (default ``3G``)
    Memory of one user's server and kernels together. The tutorials peak below 2 GB at full size
    (``benchmarks/notebooks.py``); 3G leaves room for the server itself and one more kernel.

The authenticator is the system's (PAM, the users' own passwords). Use your institution's (OAuth, LDAP) by
setting ``c.JupyterHub.authenticator_class`` in a file that loads this one with ``load_subconfig``.
"""

import os
import shutil
import sys
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner

c = get_config()  # noqa: F821  (JupyterHub injects get_config)

HERE = Path(__file__).resolve().parent
STATE = Path(os.environ.get("ML4EM_HUB_STATE", "/srv/ml4em-hub"))
INSTRUCTORS = [u for u in os.environ.get("ML4EM_HUB_INSTRUCTORS", "instructor").split(",") if u]
STUDENTS = [u for u in os.environ.get("ML4EM_HUB_STUDENTS", "").split(",") if u]
DATA_DIR = os.environ.get("ML4EM_DATA_DIR") or "/srv/ml4em-data"
MEM_LIMIT = os.environ.get("ML4EM_HUB_MEM_LIMIT", "3G")
NGSHARE_PORT = 10101
STATE.mkdir(parents=True, exist_ok=True, mode=0o700)

c.JupyterHub.bind_url = os.environ.get("ML4EM_HUB_URL", "http://:8000")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# configurable-http-proxy from npm: `bash tools/setup-hub.sh` installs it into .venv/node
_proxy = shutil.which("configurable-http-proxy") or str(
    Path(sys.prefix) / "node" / "node_modules" / ".bin" / "configurable-http-proxy")
c.ConfigurableHTTPProxy.command = [_proxy]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")

c.Authenticator.admin_users = set(INSTRUCTORS)
if STUDENTS:
    c.Authenticator.allowed_users = set(INSTRUCTORS) | set(STUDENTS)
else:
    c.Authenticator.allow_all = True

# --- ngshare, the exchange: a hub service only the course's users reach (with their hub token)
c.JupyterHub.services = [{
    "name": "ngshare",
    "url": f"http://127.0.0.1:{NGSHARE_PORT}",
    "command": [sys.executable, "-m", "ml4em.ngshare_service", "--admins", ",".join(INSTRUCTORS),
                "--database", f"sqlite:///{STATE / 'ngshare.db'}", "--storage", str(STATE / "ngshare-files")],
}]
c.JupyterHub.load_roles = [
    # users, and the servers acting for them (nbgrader's fetch and submit), may call ngshare
    {"name": "user", "scopes": ["self", "access:services!service=ngshare"]},
    {"name": "server", "scopes": ["users:activity!user", "access:servers!user", "access:services!service=ngshare"]},
]


# --- the single-user servers
class CourseSpawner(LocalProcessSpawner):
    """A local server as the user's own account, inside a memory cgroup of ``mem_limit`` where one is writable."""

    def _cgroup(self):
        """The cgroup folder for this user (v2, else v1 memory), or None where none can be made."""
        candidates = []
        v2 = Path("/sys/fs/cgroup")
        if (v2 / "cgroup.controllers").exists():
            candidates.append((v2 / "ml4em-hub" / self.user.name, "memory.max"))
        v1 = Path("/sys/fs/cgroup/memory")
        if v1.is_dir():
            own = next((line.split(":", 2)[2] for line in Path("/proc/self/cgroup").read_text().splitlines()
                        if line.split(":")[1] == "memory"), "/")
            candidates.append((v1 / own.lstrip("/") / "ml4em-hub" / self.user.name, "memory.limit_in_bytes"))
        for folder, knob in candidates:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                (folder / knob).write_text(str(self.mem_limit))
                return folder
            except OSError:
                continue
        return None

    def make_preexec_fn(self, name):
        become = super().make_preexec_fn(name)
        cgroup = self._cgroup() if self.mem_limit else None
        if cgroup is None and self.mem_limit:
            self.log.warning("no writable memory cgroup: MEM_LIMIT=%s is advertised but not enforced", self.mem_limit)

        def preexec():
            if cgroup is not None:
                (cgroup / "cgroup.procs").write_text(str(os.getpid()))
            become()

        return preexec


c.JupyterHub.spawner_class = CourseSpawner
c.Spawner.cmd = [str(Path(sys.prefix) / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.mem_limit = MEM_LIMIT
c.Spawner.environment = {
    "ML4EM_DATA_DIR": DATA_DIR,
    # nbgrader reads the course's settings (course id, ngshare exchange) from here in every server
    "JUPYTER_CONFIG_PATH": str(HERE / "jupyter"),
    "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
}
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
