"""The course hub's configuration files, without starting a hub (tests/test_hub_round.py runs one).

- ``hub/z2jh/config.yaml`` (Zero to JupyterHub values) sets what the local hub round proves: the memory limit,
  ``ML4EM_DATA_DIR`` on a read-only volume, ngshare as a service with the same roles, the same nbgrader settings;
- ``ml4em.ngshare_service`` makes ngshare keep the rows it creates under SQLAlchemy 2.
"""

import os
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from traitlets.config import Config

from conftest import ROOT

HUB = ROOT / "hub"


def _bytes(size):
    number, unit = re.fullmatch(r"([\d.]+)([KMGT]?)", str(size)).groups()
    return float(number) * 1024 ** "KMGT".index(unit) * 1024 if unit else float(number)


def _load(path, source=None, **extra):
    c = Config()
    namespace = {"get_config": lambda: c, "__file__": str(path), **extra}
    exec(compile(source or Path(path).read_text(), str(path), "exec"), namespace)
    return c


@pytest.fixture(scope="module")
def local():
    """hub/jupyterhub_config.py as an instructor's hub loads it, with its defaults."""
    pytest.importorskip("jupyterhub")
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("ML4EM_HUB_") or k == "ML4EM_DATA_DIR"}
    with tempfile.TemporaryDirectory() as state:
        os.environ["ML4EM_HUB_STATE"] = state
        try:
            yield _load(HUB / "jupyterhub_config.py")
        finally:
            os.environ.pop("ML4EM_HUB_STATE")
            os.environ.update(saved)


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load((HUB / "z2jh" / "config.yaml").read_text())


def test_the_memory_limit_is_the_local_hubs_and_fits_a_full_size_tutorial(local, values):
    from test_hub_round import MEM_LIMIT

    memory = values["singleuser"]["memory"]
    assert memory["limit"] == local.Spawner.mem_limit == MEM_LIMIT  # the round asserts this reaches each server
    assert _bytes(memory["guarantee"]) >= 2 * 1024 ** 3  # the tutorials' full-size peak (benchmarks/notebooks.py)
    assert _bytes(memory["limit"]) > _bytes(memory["guarantee"])
    assert values["singleuser"]["cpu"]["limit"] >= 2  # the tutorials are timed on 2 cores


def test_every_server_reads_the_same_data_folder_read_only(local, values):
    single = values["singleuser"]
    folder = single["extraEnv"]["ML4EM_DATA_DIR"]
    assert folder == local.Spawner.environment["ML4EM_DATA_DIR"] == "/srv/ml4em-data"
    mounts = {m["mountPath"]: m for m in single["storage"]["extraVolumeMounts"]}
    assert mounts[folder]["readOnly"] is True
    assert mounts[folder]["name"] in {v["name"] for v in single["storage"]["extraVolumes"]}


def test_ngshare_is_a_hub_service_with_the_local_roles(local, values):
    assert values["hub"]["services"]["ngshare"]["url"].startswith("http://ngshare.")
    assert [s["name"] for s in local.JupyterHub.services] == ["ngshare"]
    assert "ml4em.ngshare_service" in local.JupyterHub.services[0]["command"]
    local_roles = {r["name"]: r["scopes"] for r in local.JupyterHub.load_roles}
    for role in ("user", "server"):
        assert values["hub"]["loadRoles"][role]["scopes"] == local_roles[role], role
        assert "access:services!service=ngshare" in local_roles[role]
    assert values["hub"]["config"]["Authenticator"]["admin_users"] == sorted(local.Authenticator.admin_users)
    assert values["hub"]["config"]["JupyterHub"]["admin_access"] is False


def test_every_server_has_the_courses_nbgrader_settings(local, values, monkeypatch):
    monkeypatch.setenv("USER", "instructor")  # ngshare_exchange reads the user's name when it is imported
    import ngshare_exchange

    on_k8s = values["singleuser"]["extraFiles"]["nbgrader-config"]
    assert on_k8s["mountPath"] == "/etc/jupyter/nbgrader_config.py"
    k8s = _load("k8s-nbgrader_config.py", on_k8s["stringData"])
    machine = _load(HUB / "jupyter" / "nbgrader_config.py")
    course = _load(ROOT / "nbgrader_config.py")
    assert k8s.CourseDirectory.course_id == machine.CourseDirectory.course_id == course.CourseDirectory.course_id
    for c in (k8s, machine):
        assert c.ExchangeFactory.exchange is ngshare_exchange.Exchange
        assert c.ExchangeFactory.submit is ngshare_exchange.ExchangeSubmit
    # the local hub points its servers at this folder of nbgrader settings
    assert local.Spawner.environment["JUPYTER_CONFIG_PATH"] == str(HUB / "jupyter")


def test_the_image_is_built_from_environment_yml(values):
    text = (HUB / "z2jh" / "config.yaml").read_text()
    assert "environment.yml" in text and "repo2docker" in text
    assert (ROOT / "environment.yml").exists() and (ROOT / "postBuild").exists()
    image = values["singleuser"]["image"]
    assert image["name"] in text.split("--image-name", 1)[1].splitlines()[0]
    assert f":{image['tag']}" in text.split("--image-name", 1)[1].splitlines()[0]


def test_ngshare_keeps_the_rows_it_creates_under_sqlalchemy_2():
    pytest.importorskip("ngshare")
    import warnings

    from ngshare.database import database as db
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SAWarning
    from sqlalchemy.orm import sessionmaker

    from ml4em.ngshare_service import restore_backref_cascade

    engine = create_engine("sqlite://")
    db.Base.metadata.create_all(engine)
    session = sessionmaker(engine)()
    course = db.Course("ml4em")
    session.add(course)
    session.commit()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SAWarning)
        db.Assignment("lost", course)  # SQLAlchemy 2 alone drops it, with a warning
        session.commit()
    assert [a.id for a in course.assignments] == [] and any("not in session" in str(w.message) for w in caught)
    assert restore_backref_cascade(db.Base) > 5
    db.Assignment("01_regression", course)
    session.commit()
    assert [a.id for a in session.query(db.Assignment)] == ["01_regression"]
    assert [a.id for a in course.assignments] == ["01_regression"]
