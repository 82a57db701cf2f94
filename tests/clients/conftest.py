"""Fixtures for driving a live rbapi server with real RBTools.

Every test gets a private ``HOME`` (and XDG dirs) and runs from an empty working directory, so
no ``.reviewboardrc``, cookie jar or API cache of the developer's leaks in or out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.request import install_opener

import pytest

from reviews.models import Group, Repository
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("RBTOOLS_CONFIG_PATH", raising=False)
    monkeypatch.delenv("APPDATA", raising=False)
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def people(transactional_db: Any) -> dict[str, Any]:
    """admin (superuser), doc and grumpy; the group ``devs`` with doc and grumpy in it."""
    admin = make_user("admin", superuser=True)
    doc = make_user("doc")
    grumpy = make_user("grumpy")
    devs = Group.objects.create(
        name="devs", display_name="Developers", mailing_list="devs@example.com"
    )
    devs.users.add(doc, grumpy)
    return {"admin": admin, "doc": doc, "grumpy": grumpy, "devs": devs}


@pytest.fixture
def repository(transactional_db: Any) -> Repository:
    return Repository.objects.create(
        name="rbapi", path="https://git.example.com/rbapi.git", tool="Git"
    )


@pytest.fixture
def rb_client(live_server: Any) -> Iterator[Callable[..., Any]]:
    """Build an RBTools ``RBClient`` for the live server: no HTTP cache, cookies in memory
    unless ``cookie_file`` is given."""
    from rbtools.api.client import RBClient

    def build(username: str | None = None, password: str | None = None, **kwargs: Any):
        kwargs.setdefault("allow_caching", False)
        if "cookie_file" in kwargs:
            kwargs.setdefault("save_cookies", True)
        else:
            kwargs.setdefault("save_cookies", False)
        return RBClient(live_server.url + "/", username=username, password=password, **kwargs)

    yield build
    # RBTools installs its opener process-wide; leave urllib as we found it.
    install_opener(None)
