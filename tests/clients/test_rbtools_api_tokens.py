"""API tokens from real clients against a live server (spec: clients.md §2.5, §3; mechanics.md §9).

* RBTools with ``--api-token`` and no username or password: ``rbt status`` in a throwaway git
  checkout and ``rbt status-update set/get/delete``. RBTools sends ``Authorization: token
  <tok>`` on its first request only and then rides the ``rbsessionid`` cookie, so the
  token's policy has to keep holding on the cookie-only requests that follow.
* Tokens that may not log in any more (invalidated with a reason, expired): rbt fails and
  nothing is stored.
* A CI job's urlencoded PUT with ``Authorization: token <tok>``, the way the Jenkins plugin
  sends it: 200 with a good token, 401/104 with a wrong one, 403/101 when the token's policy
  blocks the PUT.

Every rbt run has a private ``HOME`` (no ``.reviewboardrc``, no cookie jar from earlier runs).
"""

from __future__ import annotations

import datetime
import os
import subprocess
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from reviews.models import Repository, ReviewRequest
from status_updates.models import StatusUpdate
from tests.conftest import make_user
from tests.factories import make_review_request
from webapi.models import WebAPIToken
from webapi.services import api_token_create, api_token_update

from .helpers import run_rbt
from .test_ci_status_updates import (
    BUILD_URL,
    JAVA_HEADERS,
    Reply,
    assert_error,
    jenkins_body,
    send,
    table_rows,
)
from .test_rbtools_review_requests import REMOTE_URL, make_checkout

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

FULL_ACCESS: dict[str, Any] = {}
READ_ONLY = {"resources": {"*": {"allow": ["GET"], "block": ["*"]}}}
NO_STATUS_UPDATE_PUT = {"resources": {"status_update": {"*": {"block": ["PUT"]}}}}
POLICY_REFUSAL = (
    "This API token's policy does not allow this request. (API Error 101: Permission Denied)"
)


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _stdin_not_a_terminal() -> Iterator[None]:
    """rbt prompts for a username and password after a 401 when stdin is a terminal; a test
    run from a terminal would then hang instead of seeing rbt fail."""
    saved = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(devnull, 0)
        yield
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(devnull)


@pytest.fixture
def scene(transactional_db: Any) -> dict[str, Any]:
    """doc (who owns the review requests and the tokens), grumpy (reviewing), the repository
    the checkout's origin points at, and review requests by doc: two published ones in that
    repository, one elsewhere, one closed, and one by grumpy."""
    doc = make_user("doc")
    grumpy = make_user("grumpy")
    repository = Repository.objects.create(name="localgit", path=REMOTE_URL, tool="Git")
    first = make_review_request(
        submitter=doc,
        publish=True,
        people=[grumpy],
        repository=repository,
        summary="Tokened change one",
    )
    second = make_review_request(
        submitter=doc,
        publish=True,
        people=[grumpy],
        repository=repository,
        summary="Tokened change two",
    )
    elsewhere = make_review_request(
        submitter=doc, publish=True, people=[grumpy], summary="Not in this repository"
    )
    landed = make_review_request(
        submitter=doc,
        publish=True,
        people=[grumpy],
        repository=repository,
        summary="Already landed",
    )
    ReviewRequest.objects.filter(pk=landed.pk).update(status=ReviewRequest.SUBMITTED)
    grumpys = make_review_request(
        submitter=grumpy,
        publish=True,
        people=[doc],
        repository=repository,
        summary="Grumpy's change",
    )
    return {
        "doc": doc,
        "grumpy": grumpy,
        "repository": repository,
        "first": first,
        "second": second,
        "elsewhere": elsewhere,
        "landed": landed,
        "grumpys": grumpys,
    }


def token_for(user: Any, policy: dict[str, Any], **kwargs: Any) -> WebAPIToken:
    return api_token_create(user=user, note="CI", policy=policy, **kwargs)


def rbt(
    *args: str, token: str, live_server: Any, home: Path, cwd: Path, store_cookies: bool = False
) -> subprocess.CompletedProcess[str]:
    """``rbt ARGS --server <live> --api-token <token>``: no username, no password, no cache,
    and unless asked no cookie jar on disk (cookies live for the one run)."""
    extra = () if store_cookies else ("--disable-cookie-storage",)
    return run_rbt(
        *args,
        "--server",
        live_server.url,
        "--api-token",
        token,
        "--disable-cache",
        *extra,
        home=home,
        cwd=cwd,
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def status_update_args(subcommand: str, review_request_id: int, *args: str) -> tuple[str, ...]:
    return ("status-update", subcommand, "-r", str(review_request_id), *args)


def session_cookie(reply: Reply) -> str | None:
    """The ``rbsessionid`` value a reply sets, if any."""
    for header in reply.headers.get_all("Set-Cookie") or ():
        cookie = SimpleCookie()
        cookie.load(header)
        if "rbsessionid" in cookie and cookie["rbsessionid"].value:
            return cookie["rbsessionid"].value
    return None


def token_put(
    live_server: Any,
    review_request_id: int,
    status_update_id: int,
    body: bytes,
    authorization: str | None = None,
    cookie: str | None = None,
) -> Reply:
    """The CI job's urlencoded PUT to the status update's item URL."""
    headers = {**JAVA_HEADERS, "Content-Type": "application/x-www-form-urlencoded"}
    if authorization is not None:
        headers["Authorization"] = authorization
    if cookie is not None:
        headers["Cookie"] = f"rbsessionid={cookie}"
    return send(
        "PUT",
        f"{live_server.url}/api/review-requests/{review_request_id}/status-updates/"
        f"{status_update_id}/",
        body,
        headers,
    )


def snapshot(status_update: StatusUpdate) -> tuple[Any, ...]:
    status_update.refresh_from_db()
    return (
        status_update.state,
        status_update.description,
        status_update.url,
        status_update.url_text,
    )


# --- 1. rbt status with --api-token --------------------------------------------------------------


def test_rbt_status_with_api_token_in_a_checkout(
    scene: dict[str, Any], live_server: Any, _isolated_home: Path, tmp_path: Path
) -> None:
    token = token_for(scene["doc"], FULL_ACCESS)
    assert token.token.startswith("rbp_")
    assert token.last_used is None
    checkout = make_checkout(tmp_path / "checkout")
    cookie_file = _isolated_home / ".rbtools-cookies"
    assert not cookie_file.exists()
    assert not (checkout / ".reviewboardrc").exists()

    result = rbt(
        "status",
        "--format",
        "%(id)s|%(status)s|%(summary)s",
        token=token.token,
        live_server=live_server,
        home=_isolated_home,
        cwd=checkout,
        store_cookies=True,
    )
    assert result.returncode == 0, output(result)
    # doc's pending requests in the checkout's repository, newest first: not the one in
    # another repository, not the closed one, not grumpy's.
    assert result.stdout.splitlines() == [
        f"{scene['second'].pk}|Pending|Tokened change two",
        f"{scene['first'].pk}|Pending|Tokened change one",
    ]
    token.refresh_from_db()
    assert token.last_used is not None
    # The token started a session, which RBTools kept in its cookie jar.
    assert cookie_file.exists()
    assert "rbsessionid" in cookie_file.read_text()

    # The plain table, in a fresh HOME so nothing but the token logs in.
    fresh_home = tmp_path / "fresh-home"
    fresh_home.mkdir()
    result = rbt(
        "status", token=token.token, live_server=live_server, home=fresh_home, cwd=checkout
    )
    assert result.returncode == 0, output(result)
    assert "Tokened change one" in result.stdout
    assert "Tokened change two" in result.stdout
    assert "Not in this repository" not in result.stdout
    assert "Already landed" not in result.stdout
    assert "Grumpy's change" not in result.stdout
    assert not (fresh_home / ".rbtools-cookies").exists()


def test_rbt_status_with_grumpys_token_lists_grumpys(
    scene: dict[str, Any], live_server: Any, _isolated_home: Path, tmp_path: Path
) -> None:
    """The token decides who "me" is."""
    token = token_for(scene["grumpy"], FULL_ACCESS)
    checkout = make_checkout(tmp_path / "checkout")
    result = rbt(
        "status",
        "--format",
        "%(id)s:%(summary)s",
        token=token.token,
        live_server=live_server,
        home=_isolated_home,
        cwd=checkout,
    )
    assert result.returncode == 0, output(result)
    assert result.stdout.splitlines() == [f"{scene['grumpys'].pk}:Grumpy's change"]


# --- 2. rbt status-update with --api-token -------------------------------------------------------


def test_rbt_status_update_set_get_delete_with_api_token(
    scene: dict[str, Any], live_server: Any, _isolated_home: Path, tmp_path: Path
) -> None:
    ci = make_user("ci")
    token = token_for(ci, FULL_ACCESS)
    review_request_id = scene["first"].pk
    cwd = tmp_path / "work"

    def run(subcommand: str, *args: str) -> subprocess.CompletedProcess[str]:
        return rbt(
            *status_update_args(subcommand, review_request_id, *args),
            token=token.token,
            live_server=live_server,
            home=_isolated_home,
            cwd=cwd,
        )

    [row] = table_rows(
        run(
            "set",
            "--service-id",
            "myci",
            "--summary",
            "Build",
            "--state",
            "pending",
            "--description",
            "queued",
            "--url",
            BUILD_URL,
            "--url-text",
            "See build",
        )
    )
    stored = StatusUpdate.objects.get()
    assert row == [str(stored.pk), "myci", "Pending", "Build: queued"]
    assert stored.review_request_id == review_request_id
    assert stored.user == ci  # the token's owner
    assert (stored.service_id, stored.summary, stored.state) == ("myci", "Build", "P")
    assert (stored.url, stored.url_text) == (BUILD_URL, "See build")

    [row] = table_rows(
        run("set", "-s", str(stored.pk), "--state", "done-success", "--description", "ok")
    )
    assert row[0] == str(stored.pk)
    assert row[2].endswith("Succeeded")
    assert row[3] == "Build: ok"
    stored.refresh_from_db()
    assert (stored.state, stored.description) == ("S", "ok")

    [row] = table_rows(run("get", "-s", str(stored.pk)))
    assert row[:2] == [str(stored.pk), "myci"]
    assert row[3] == "Build: ok"
    [row] = table_rows(run("get"))
    assert row[0] == str(stored.pk)

    deleted = run("delete", "-s", str(stored.pk))
    assert deleted.returncode == 0, output(deleted)
    assert f"Status update {stored.pk} has been deleted." in output(deleted)
    assert not StatusUpdate.objects.exists()

    token.refresh_from_db()
    assert token.last_used is not None
    assert not (_isolated_home / ".rbtools-cookies").exists()
    assert not any(cwd.iterdir())


# --- 3. a read-only token ------------------------------------------------------------------------


def test_rbt_with_read_only_token(
    scene: dict[str, Any], live_server: Any, _isolated_home: Path, tmp_path: Path
) -> None:
    """``{"*": {"allow": ["GET"], "block": ["*"]}}``: reading works, writing does not, and
    the block holds on the requests RBTools makes with only the session cookie (everything
    after its first request, which is ``GET /api/``)."""
    token = token_for(scene["doc"], READ_ONLY)
    checkout = make_checkout(tmp_path / "checkout")
    review_request_id = scene["first"].pk
    existing = StatusUpdate.objects.create(
        review_request=scene["first"],
        user=scene["doc"],
        service_id="myci",
        summary="Build",
        description="queued",
    )

    result = rbt(
        "status",
        "--format",
        "%(id)s",
        token=token.token,
        live_server=live_server,
        home=_isolated_home,
        cwd=checkout,
    )
    assert result.returncode == 0, output(result)
    assert result.stdout.split() == [str(scene["second"].pk), str(scene["first"].pk)]

    # Reading a status update is a GET: allowed.
    [row] = table_rows(
        rbt(
            *status_update_args("get", review_request_id, "-s", str(existing.pk)),
            token=token.token,
            live_server=live_server,
            home=_isolated_home,
            cwd=checkout,
        )
    )
    assert row[:2] == [str(existing.pk), "myci"]

    # Creating one is a POST (on the cookie, after GET /api/ with the token): refused.
    created = rbt(
        *status_update_args("set", review_request_id, "--service-id", "ro", "--summary", "RO"),
        token=token.token,
        live_server=live_server,
        home=_isolated_home,
        cwd=checkout,
    )
    assert created.returncode != 0, output(created)
    assert "Could not save the status update" in output(created)
    assert POLICY_REFUSAL in output(created)
    assert list(StatusUpdate.objects.values_list("pk", flat=True)) == [existing.pk]

    # Changing one: the GET of the item works, the PUT is refused.
    changed = rbt(
        *status_update_args(
            "set", review_request_id, "-s", str(existing.pk), "--state", "done-success"
        ),
        token=token.token,
        live_server=live_server,
        home=_isolated_home,
        cwd=checkout,
    )
    assert changed.returncode != 0, output(changed)
    assert "Could not save the status update" in output(changed)
    assert POLICY_REFUSAL in output(changed)

    # Deleting one: refused too.
    deleted = rbt(
        *status_update_args("delete", review_request_id, "-s", str(existing.pk)),
        token=token.token,
        live_server=live_server,
        home=_isolated_home,
        cwd=checkout,
    )
    assert deleted.returncode != 0, output(deleted)
    assert POLICY_REFUSAL in output(deleted)
    assert snapshot(existing) == ("P", "queued", "", "")
    assert StatusUpdate.objects.count() == 1


def test_read_only_token_session_cookie_stays_read_only(
    scene: dict[str, Any], live_server: Any
) -> None:
    """The same thing on the wire: the token's GET starts a session; a write carrying only
    that session cookie is still 403/101."""
    token = token_for(scene["doc"], READ_ONLY)
    status_update = StatusUpdate.objects.create(
        review_request=scene["first"], user=scene["doc"], service_id="myci", summary="Build"
    )
    reply = send(
        "GET", f"{live_server.url}/api/", headers={"Authorization": f"token {token.token}"}
    )
    assert reply.status == 200, reply
    cookie = session_cookie(reply)
    assert cookie

    # The cookie alone reads as doc...
    reply = send(
        "GET", f"{live_server.url}/api/session/", headers={"Cookie": f"rbsessionid={cookie}"}
    )
    assert reply.status == 200, reply
    assert reply.json["session"]["authenticated"] is True
    # ...but may not write.
    body = jenkins_body("done-success", "build succeeded.", None, None)
    reply = token_put(live_server, scene["first"].pk, status_update.pk, body, cookie=cookie)
    assert_error(reply, 403, 101)
    reply = send(
        "POST",
        f"{live_server.url}/api/review-requests/{scene['first'].pk}/status-updates/",
        b"service_id=x&summary=y",
        {
            "Cookie": f"rbsessionid={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert_error(reply, 403, 101)
    assert snapshot(status_update) == ("P", "", "", "")
    assert StatusUpdate.objects.count() == 1


# --- 4. tokens that may not log in any more ------------------------------------------------------


@pytest.mark.parametrize("how", ["invalidated", "expired"])
def test_rbt_with_unusable_token_fails(
    how: str, scene: dict[str, Any], live_server: Any, _isolated_home: Path, tmp_path: Path
) -> None:
    token = token_for(scene["doc"], FULL_ACCESS)
    if how == "invalidated":
        token = api_token_update(token=token, invalid_reason="leaked")
        assert token.valid is False
        message = "became invalid"
    else:
        token = api_token_update(token=token, expires=timezone.now() - datetime.timedelta(days=1))
        assert token.expired
        message = "expired"
    checkout = make_checkout(tmp_path / "checkout")

    # On the wire: 401 with error 104 and Review Board's message for why.
    reply = send(
        "GET", f"{live_server.url}/api/", headers={"Authorization": f"token {token.token}"}
    )
    error = assert_error(reply, 401, 104)
    assert message in error["err"]["msg"], error
    if how == "invalidated":
        assert error["err"]["msg"].endswith(": leaked"), error
    assert reply.headers.get("WWW-Authenticate") == 'Basic realm="Web API"'
    assert session_cookie(reply) is None

    # rbt passes the server's message on.
    result = rbt(
        "status", token=token.token, live_server=live_server, home=_isolated_home, cwd=checkout
    )
    assert result.returncode != 0, output(result)
    assert "Tokened change" not in result.stdout
    assert error["err"]["msg"] in output(result)
    assert "API Error 104" in output(result)

    result = rbt(
        *status_update_args(
            "set", scene["first"].pk, "--service-id", "myci", "--summary", "Build"
        ),
        token=token.token,
        live_server=live_server,
        home=_isolated_home,
        cwd=checkout,
    )
    assert result.returncode != 0, output(result)
    assert message in output(result)
    assert "API Error 104" in output(result)
    assert not StatusUpdate.objects.exists()
    token.refresh_from_db()
    assert token.last_used is None


def test_token_invalidated_mid_session_ends_the_session(
    scene: dict[str, Any], live_server: Any
) -> None:
    """A session the token started stops working once the token is invalidated."""
    token = token_for(scene["doc"], FULL_ACCESS)
    status_update = StatusUpdate.objects.create(
        review_request=scene["first"], user=scene["doc"], service_id="myci", summary="Build"
    )
    reply = send(
        "GET", f"{live_server.url}/api/", headers={"Authorization": f"token {token.token}"}
    )
    assert reply.status == 200, reply
    cookie = session_cookie(reply)
    assert cookie

    api_token_update(token=token, invalid_reason="leaked")
    body = jenkins_body("done-success", "build succeeded.", None, None)
    reply = token_put(live_server, scene["first"].pk, status_update.pk, body, cookie=cookie)
    error = assert_error(reply, 401, 103)
    assert error["err"]["msg"].startswith("This API token became invalid on "), error
    assert error["err"]["msg"].endswith(": leaked"), error
    assert snapshot(status_update) == ("P", "", "", "")


# --- 5. a CI job's urlencoded PUT with a token ---------------------------------------------------


def test_ci_urlencoded_put_with_api_token(scene: dict[str, Any], live_server: Any) -> None:
    jenkins = make_user("jenkins")
    token = token_for(jenkins, FULL_ACCESS)
    review_request_id = scene["first"].pk
    status_update = StatusUpdate.objects.create(
        review_request=scene["first"],
        user=jenkins,
        service_id="jenkins-ci",
        summary="Jenkins CI",
        description="starting build...",
    )
    authorization = f"token {token.token}"
    assert token.last_used is None

    # Setup step: the build is running, with a link to it.
    body = jenkins_body("pending", "build running", BUILD_URL, "See build")
    assert body == (
        b"state=pending&description=build+running"
        b"&url=https%3A%2F%2Fjenkins.example.com%2Fjob%2Frbapi%2F42%2F&url_text=See+build"
    )
    reply = token_put(live_server, review_request_id, status_update.pk, body, authorization)
    assert reply.status == 200, reply
    assert reply.json["stat"] == "ok"
    payload = reply.json["status_update"]
    assert payload["id"] == status_update.pk
    assert (payload["state"], payload["description"]) == ("pending", "build running")
    assert (payload["url"], payload["url_text"]) == (BUILD_URL, "See build")
    assert snapshot(status_update) == ("P", "build running", BUILD_URL, "See build")
    assert status_update.user == jenkins
    # The token login started a session and recorded its use.
    assert session_cookie(reply)
    token.refresh_from_db()
    first_use = token.last_used
    assert first_use is not None
    assert timezone.now() - first_use < datetime.timedelta(minutes=1)

    # Notifier step: the result.
    body = jenkins_body("done-success", "build succeeded.", None, None)
    reply = token_put(live_server, review_request_id, status_update.pk, body, authorization)
    assert reply.status == 200, reply
    payload = reply.json["status_update"]
    assert (payload["state"], payload["description"]) == ("done-success", "build succeeded.")
    assert payload["url"] == BUILD_URL
    assert snapshot(status_update) == ("S", "build succeeded.", BUILD_URL, "See build")
    token.refresh_from_db()
    assert token.last_used >= first_use


def test_ci_urlencoded_put_refusals(scene: dict[str, Any], live_server: Any) -> None:
    jenkins = make_user("jenkins")
    review_request_id = scene["first"].pk
    status_update = StatusUpdate.objects.create(
        review_request=scene["first"],
        user=jenkins,
        service_id="jenkins-ci",
        summary="Jenkins CI",
        description="starting build...",
    )
    good = token_for(jenkins, FULL_ACCESS)
    body = jenkins_body("done-failure", "build failed.", BUILD_URL, "See build")

    # A wrong token (well-formed, but nobody's; then a mangled copy of a real one): 401/104,
    # with the challenge urllib's Basic handler answers to.
    for wrong in (
        "rbp_" + "x" * 251,
        good.token[:-1] + ("A" if good.token[-1] != "A" else "B"),
        "1d2f9a6c0e8b4c7f5a3d1e2b6c9f8a7d0e1c2b3a",
    ):
        reply = token_put(live_server, review_request_id, status_update.pk, body, f"token {wrong}")
        assert_error(reply, 401, 104)
        assert reply.headers.get("WWW-Authenticate") == 'Basic realm="Web API"', reply
        assert session_cookie(reply) is None
    good.refresh_from_db()
    assert good.last_used is None

    # A token whose policy blocks PUT on status updates: 403/101, though the owner may.
    blocked = token_for(jenkins, NO_STATUS_UPDATE_PUT)
    reply = token_put(
        live_server, review_request_id, status_update.pk, body, f"token {blocked.token}"
    )
    assert_error(reply, 403, 101)
    # It still reads the status update (GET is not blocked).
    reply = send(
        "GET",
        f"{live_server.url}/api/review-requests/{review_request_id}/status-updates/"
        f"{status_update.pk}/",
        headers={"Authorization": f"token {blocked.token}"},
    )
    assert reply.status == 200, reply
    assert reply.json["status_update"]["state"] == "pending"

    # A token for someone who may not change this status update: 403/101.
    stranger = token_for(scene["grumpy"], FULL_ACCESS)
    reply = token_put(
        live_server, review_request_id, status_update.pk, body, f"token {stranger.token}"
    )
    assert_error(reply, 403, 101)

    assert snapshot(status_update) == ("P", "starting build...", "", "")

    # "token" is case-sensitive: "Token <tok>" is an unknown scheme, so not logged in.
    reply = token_put(
        live_server, review_request_id, status_update.pk, body, f"Token {good.token}"
    )
    assert reply.status == 401, reply
    assert reply.json["err"]["code"] == 103, reply
    assert snapshot(status_update) == ("P", "starting build...", "", "")

    # And the good token still works after all that.
    reply = token_put(
        live_server, review_request_id, status_update.pk, body, f"token {good.token}"
    )
    assert reply.status == 200, reply
    assert snapshot(status_update) == ("F", "build failed.", BUILD_URL, "See build")
