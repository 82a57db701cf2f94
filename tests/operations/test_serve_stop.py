"""``rbapi serve`` stops at once on Ctrl-C (issue 11: gthread workers hung for 31 s)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from tests.operations.servers import RBAPI, Server, clean_env, run

pytestmark = pytest.mark.slow


def test_ctrl_c_stops_the_server_in_under_3_seconds(tmp_path: Path) -> None:
    env = clean_env(RBAPI_DATA_DIR=str(tmp_path), RBAPI_CACHE_URL=f"file://{tmp_path}/cache")
    run([*RBAPI, "migrate", "--noinput"], tmp_path, env)
    stops = []
    for _ in range(5):
        server = Server([*RBAPI, "serve"], tmp_path, env)
        try:
            for _ in range(8):  # every worker has served (and started its threads)
                urllib.request.urlopen(server.url + "/api/", timeout=10).read()
            stops.append(server.ctrl_c())
        finally:
            server.stop()
        assert server.process.returncode == 0, server.log.read_text()
        assert "Perhaps out of memory" not in server.log.read_text()
    assert max(stops) < 3, stops
