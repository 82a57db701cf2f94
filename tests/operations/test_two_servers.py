"""Two app servers on one PostgreSQL and one Redis behave as one (README "Production"):
a session, a rate-limit count and a write made through one are seen through the other."""

from __future__ import annotations

import base64
import socket
import uuid
from collections.abc import Iterator

import pytest

from tests.operations.servers import RBAPI, Server, call, clean_env, run

pytestmark = pytest.mark.slow

DATABASE = "rbapi_two_servers"
POSTGRES = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
REDIS = "redis://127.0.0.1:6379/0"


def reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    if not (reachable(5432) and reachable(6379)):
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379")
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {DATABASE}")
    workdir = tmp_path_factory.mktemp("two-servers")
    env = clean_env(
        DATABASE_URL=POSTGRES,
        RBAPI_CACHE_URL=REDIS,
        RBAPI_BEHIND_PROXY="true",
        RBAPI_WORKERS="2",
        RBAPI_SECRET_KEY=uuid.uuid4().hex * 2,
    )
    # Migrations are one step of their own, run once, before the servers start.
    run([*RBAPI, "migrate", "--noinput"], workdir, env)
    run([*RBAPI, "ensure_demo_user"], workdir, env)
    first = Server([*RBAPI, "serve"], workdir, env)
    try:
        second = Server([*RBAPI, "serve"], workdir, env)
    except BaseException:
        first.stop()
        raise
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()
        with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def login(server: Server) -> str:
    basic = "Basic " + base64.b64encode(b"admin:admin").decode()
    status, headers, body = call("GET", server.url + "/api/session/", Authorization=basic)
    assert (status, body["session"]["authenticated"]) == (200, True)
    cookie = headers["Set-Cookie"].split(";")[0]
    assert cookie.startswith("rbsessionid=")
    return cookie


def test_a_session_made_through_one_works_on_the_other(servers: tuple[Server, Server]) -> None:
    first, second = servers
    cookie = login(first)
    status, _, body = call("GET", second.url + "/api/session/", Cookie=cookie)
    assert (status, body["session"]["authenticated"]) == (200, True)
    assert body["session"]["links"]["user"]["title"] == "admin"
    # Logging out through the second ends the session on the first too.
    assert call("DELETE", second.url + "/api/session/", Cookie=cookie)[0] == 204
    status, _, body = call("GET", first.url + "/api/session/", Cookie=cookie)
    assert (status, body["session"]["authenticated"]) == (200, False)


def test_a_rate_limit_count_is_shared(servers: tuple[Server, Server]) -> None:
    first, second = servers
    # A client address of its own (behind the proxy, X-Forwarded-For), so the count is ours.
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}, 10.0.0.{uuid.uuid4().int % 250}"
    remaining = []
    for server in (first, second, first, second):
        status, headers, _ = call("GET", server.url + "/api/", **{"X-Forwarded-For": address})
        assert status == 200
        remaining.append(int(headers["X-RateLimit-Remaining"]))
    start = remaining[0]
    assert remaining == [start, start - 1, start - 2, start - 3]


def test_a_write_through_one_is_read_through_the_other(servers: tuple[Server, Server]) -> None:
    first, second = servers
    cookie = login(first)
    name = f"ops{uuid.uuid4().hex[:8]}"
    status, _, body = call(
        "POST",
        first.url + "/api/groups/",
        {"name": name, "display_name": "Operations"},
        Cookie=cookie,
    )
    assert (status, body["stat"]) == (201, "ok"), body
    status, _, body = call("GET", second.url + f"/api/groups/{name}/")
    assert (status, body["group"]["display_name"]) == (200, "Operations")
