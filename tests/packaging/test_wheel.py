"""The wheel alone runs rbapi: built from the tree, installed into a fresh venv, served from
another folder (issue 11: the package left out apps and could not start)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.operations.servers import Server, call, clean_env, run

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# What the wheel must leave out (pyproject.toml's exclude list); everything else ships.
NOT_SHIPPED = {"tests", "benchmarks", "scripts", "deploy", "examples", "docs", "build"}
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.sqlite3*", ".cache",
    ".pytest_cache", ".ruff_cache",
)  # fmt: skip


def build_wheel(scratch: Path) -> Path:
    """``pip wheel`` on a copy of the tree, so the checkout gets no build/ or egg-info."""
    source = scratch / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    dist = scratch / "dist"
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(source)],
        scratch,
        clean_env(),
    )  # fmt: skip
    (wheel,) = dist.glob("rbapi-*.whl")
    return wheel


def fresh_venv(scratch: Path, wheel: Path) -> Path:
    """A new venv with only the wheel installed; its dependencies are found, offline, in this
    environment's site-packages (a path line in a .pth file: no download, and no editable
    rbapi, whose finder lives in a .pth file that is not processed that way)."""
    venv = scratch / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], scratch, clean_env())
    python = venv / "bin" / "python"
    site = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            scratch, clean_env()).strip()
    )  # fmt: skip
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    run([*pip, "install", "-q", "--no-deps", "--no-index", str(wheel)], scratch, clean_env())
    # Every dependency the wheel declares is satisfied (nothing is missing from its metadata
    # that the code imports: the server start below proves that). Only rbapi's own lines
    # count: the dev tools beside it may disagree among themselves (reviewbot-worker pins an
    # older RBTools than the client tests use).
    checked = subprocess.run(
        [*pip, "check"], cwd=scratch, env=clean_env(), capture_output=True, text=True
    )
    problems = [line for line in checked.stdout.splitlines() if line.startswith("rbapi ")]
    assert not problems, problems
    return venv


def local_packages() -> set[str]:
    return {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_SHIPPED
    }


def test_wheel_installs_and_serves_from_another_folder(tmp_path: Path) -> None:
    began = time.monotonic()
    wheel = build_wheel(tmp_path)
    built = time.monotonic()

    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {name.split("/")[0] for name in names if name.endswith("/__init__.py")}
    assert shipped == local_packages()
    for app in settings.INSTALLED_APPS:
        package = app.split(".")[0]
        if (ROOT / package).is_dir():
            assert f"{package}/apps.py" in names or f"{package}/__init__.py" in names
            for migration in (ROOT / package).glob("migrations/0*.py"):
                assert f"{package}/migrations/{migration.name}" in names
    assert not any(name.startswith(("tests/", "benchmarks/", "scripts/")) for name in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "rbapi = rbapi.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()

    venv = fresh_venv(tmp_path, wheel)
    installed = time.monotonic()
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = clean_env(RBAPI_WORKERS="2")
    env.pop("PYTHONPATH", None)  # only the venv's own packages
    location = run([str(venv / "bin" / "python"), "-c", "import rbapi; print(rbapi.__file__)"],
                   workdir, env)  # fmt: skip
    assert location.startswith(str(venv)), location

    rbapi = str(venv / "bin" / "rbapi")
    run([rbapi, "migrate", "--noinput"], workdir, env)
    assert (workdir / "rbapi.sqlite3").is_file()  # the data folder, not site-packages
    assert "demo user created" in run([rbapi, "ensure_demo_user"], workdir, env)
    server = Server([rbapi, "serve"], workdir, env)
    try:
        status, headers, body = call("GET", server.url + "/api/")
        assert (status, body["stat"]) == (200, "ok")
        assert headers["Content-Type"] == "application/vnd.reviewboard.org.root+json"
        status, _, body = call("GET", server.url + "/health/ready")
        assert (status, body["status"]) == (200, "ok")
    finally:
        assert server.ctrl_c() < 3
    print(
        f"wheel built in {built - began:.1f} s, venv+install in {installed - built:.1f} s, "
        f"total {time.monotonic() - began:.1f} s"
    )
