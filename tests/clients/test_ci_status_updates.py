"""CI bots reporting through status updates, as the real clients do it, against a live server.

Three client paths (issue 5, spec: clients.md §3, resources.md §5):

1. RBTools: the ``rbt status-update set/get/delete`` command run as a subprocess (private
   ``HOME``, empty working directory), and the Python API client (``get_status_updates``,
   ``create``, ``update``), plus the Review Bot worker's session-cookie sequence;
2. the Jenkins plugin (jenkinsci/rb-plugin ``ReviewBoardUtils.updateStatusUpdate``): a
   urlencoded PUT to the hard-coded item URL, byte for byte as ``HttpURLConnection`` sends it,
   which the plugin counts as done only on exactly 200 (and tells 401, 403 and 404 apart);
3. a curl CI script: POST pending with a timeout, write a review with a general comment, PUT
   ``done-failure`` with that ``review_id``, publish the review.

Besides what the client sees, the database is checked where a client prints little.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote_plus
from urllib.request import HTTPRedirectHandler, ProxyHandler, Request, build_opener

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils import timezone
from rbtools.api.resource import (
    ReviewItemResource,
    StatusUpdateItemResource,
    StatusUpdateListResource,
)

from reviews.models import GeneralComment, Review
from status_updates.models import StatusUpdate
from tests.conftest import make_user
from tests.factories import make_review_request

from .helpers import expect_api_error, run_rbt

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

BUILD_URL = "https://jenkins.example.com/job/rbapi/42/"

# What java.net.HttpURLConnection adds on its own (JDK 11-21), besides Host and Content-Length.
JAVA_HEADERS = {
    "User-Agent": "Java/17.0.10",
    "Accept": "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2",
}


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def bots(people: dict[str, Any]) -> dict[str, Any]:
    """The people fixture plus two service users, ``ci`` and ``jenkins``, and a review request
    by doc (published, grumpy reviewing)."""
    review_request = make_review_request(
        submitter=people["doc"], publish=True, people=[people["grumpy"]], summary="Add frobs"
    )
    return {
        **people,
        "ci": make_user("ci"),
        "jenkins": make_user("jenkins"),
        "review_request": review_request,
    }


def items_url(live_server: Any, review_request_id: int) -> str:
    return f"{live_server.url}/api/review-requests/{review_request_id}/status-updates/"


def item_url(live_server: Any, review_request_id: int, status_update_id: int) -> str:
    return f"{items_url(live_server, review_request_id)}{status_update_id}/"


def basic(username: str, password: str | None = None) -> str:
    pair = f"{username}:{username if password is None else password}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


class Reply:
    """What came back: the status, the headers and the body (JSON when it parses)."""

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json: Any = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self) -> str:
        return f"<{self.status} {self.headers.get('Content-Type')} {self.body[:500]!r}>"


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None):
    """One request through a private urllib opener: no proxies from the environment, no
    redirects followed, nothing RBTools installed process-wide."""
    opener = build_opener(ProxyHandler({}), _NoRedirect())
    request = Request(url, data=body, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return Reply(response.status, response.headers, response.read())
    except HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


def java_urlencode(value: str) -> str:
    """``java.net.URLEncoder.encode(value, "UTF-8")``: space as ``+``; only letters, digits and
    ``.-*_`` left as they are."""
    return quote_plus(value, safe="*").replace("~", "%7E")


def jenkins_body(state: str, description: str, url: str | None, url_text: str | None) -> bytes:
    """The body ``ReviewBoardUtils.updateStatusUpdate`` writes, field order included."""
    content = f"state={java_urlencode(state)}&description={java_urlencode(description)}"
    if url is not None:
        content += f"&url={java_urlencode(url)}"
    if url_text is not None:
        content += f"&url_text={java_urlencode(url_text)}"
    return content.encode("utf-8")


def jenkins_put(
    live_server: Any,
    review_request_id: int,
    status_update_id: int,
    body: bytes,
    authorization: str,
) -> Reply:
    # The plugin builds the path itself: "/api/review-requests/%d/status-updates/%d/".
    path = f"/api/review-requests/{review_request_id}/status-updates/{status_update_id}/"
    return send(
        "PUT",
        live_server.url + path,
        body,
        {
            **JAVA_HEADERS,
            "Authorization": authorization,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def assert_error(reply: Reply, http_status: int, code: int) -> dict[str, Any]:
    assert reply.status == http_status, reply
    assert reply.json is not None, reply
    assert reply.json["stat"] == "fail", reply
    assert reply.json["err"]["code"] == code, reply
    return reply.json


def review_link(payload: dict[str, Any]) -> str | None:
    """The href of a status update's review. Like every foreign key, a set review is a link in
    ``links`` (with a title) and not a field; an unset one is the field ``review: null``."""
    link = payload["links"].get("review")
    if link is None:
        assert payload["review"] is None, payload
        return None
    assert "review" not in payload, payload
    assert link["method"] == "GET", link
    assert "title" in link, link
    return link["href"]


# --- 1. RBTools: the rbt status-update command ------------------------------------------------


def rbt_status_update(
    subcommand: str,
    review_request_id: int,
    *args: str,
    live_server: Any,
    home: Path,
    cwd: Path,
    username: str = "ci",
) -> subprocess.CompletedProcess[str]:
    return run_rbt(
        "status-update",
        subcommand,
        "--server",
        live_server.url,
        "--username",
        username,
        "--password",
        username,
        "--disable-cache",
        "--disable-cookie-storage",
        "-r",
        str(review_request_id),
        *args,
        home=home,
        cwd=cwd,
    )


def table_rows(result: subprocess.CompletedProcess[str]) -> list[list[str]]:
    """The rows of the table ``rbt status-update get/set`` prints (ID, Service ID, State,
    Summary), after checking that the command succeeded.

    ``--json`` cannot be used: RBTools 7.0 prints nothing for it on multi-commands (the command
    and its subcommand each suppress the console, and printing the JSON lifts only one)."""
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    header = next(index for index, line in enumerate(lines) if "Service ID" in line)
    assert re.split(r"\s{2,}", lines[header].strip()) == ["ID", "Service ID", "State", "Summary"]
    rows = []
    for line in lines[header + 1 :]:
        cells = re.split(r"\s{2,}", line.strip())
        if cells and cells[0].isdigit():
            rows.append(cells)
    return rows


def api_item(live_server: Any, review_request_id: int, status_update_id: int) -> dict[str, Any]:
    reply = send(
        "GET",
        item_url(live_server, review_request_id, status_update_id),
        headers={"Authorization": basic("ci")},
    )
    assert reply.status == 200, reply
    return reply.json["status_update"]


def test_rbt_status_update_set_get_delete(
    bots: dict[str, Any], live_server: Any, _isolated_home: Path, tmp_path: Path
) -> None:
    review_request_id = bots["review_request"].pk
    cwd = tmp_path / "work"
    assert not any(cwd.iterdir())

    def rbt(subcommand: str, *args: str) -> subprocess.CompletedProcess[str]:
        return rbt_status_update(
            subcommand,
            review_request_id,
            *args,
            live_server=live_server,
            home=_isolated_home,
            cwd=cwd,
        )

    # set without -s: POST to the list; rbt prints the created item.
    [row] = table_rows(
        rbt(
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
            "--timeout",
            "3600",
        )
    )
    stored = StatusUpdate.objects.get()
    status_update_id = stored.pk
    assert row == [str(status_update_id), "myci", "Pending", "Build: queued"]
    assert stored.review_request_id == review_request_id
    assert stored.user == bots["ci"]
    assert (stored.service_id, stored.summary, stored.description) == ("myci", "Build", "queued")
    assert (stored.state, stored.timeout) == ("P", 3600)
    assert (stored.url, stored.url_text) == (BUILD_URL, "See build")
    assert stored.change_description is None
    assert stored.review is None

    # set with -s: GET the item, then PUT only the options given.
    [row] = table_rows(
        rbt("set", "-s", str(status_update_id), "--state", "done-success", "--description", "ok")
    )
    assert row[0] == str(status_update_id)
    assert row[2].endswith("Succeeded")
    assert row[3] == "Build: ok"
    stored.refresh_from_db()
    assert (stored.state, stored.description, stored.summary) == ("S", "ok", "Build")
    assert (stored.url, stored.url_text, stored.timeout) == (BUILD_URL, "See build", 3600)
    assert api_item(live_server, review_request_id, status_update_id) | {"links": None} == {
        "id": status_update_id,
        "service_id": "myci",
        "summary": "Build",
        "description": "ok",
        "state": "done-success",
        "url": BUILD_URL,
        "url_text": "See build",
        "timeout": 3600,
        "extra_data": {},
        "change": None,
        "review": None,
        "links": None,
    }

    # get -s: that one item.
    [row] = table_rows(rbt("get", "-s", str(status_update_id)))
    assert row[:2] == [str(status_update_id), "myci"]
    assert row[2].endswith("Succeeded")
    assert row[3] == "Build: ok"

    # A second service on the same review request; get lists both, oldest first.
    [row] = table_rows(
        rbt("set", "--service-id", "lint", "--summary", "Lint", "--state", "done-failure")
    )
    lint_id = int(row[0])
    assert lint_id != status_update_id
    assert row[1:] == ["lint", row[2], "Lint"]
    assert row[2].endswith("Failed")
    rows = table_rows(rbt("get"))
    assert [(cells[0], cells[1], cells[3]) for cells in rows] == [
        (str(status_update_id), "myci", "Build: ok"),
        (str(lint_id), "lint", "Lint"),
    ]

    # Creating needs --service-id and --summary (checked by rbt itself, nothing is sent).
    missing = rbt("set", "--summary", "Nameless")
    assert missing.returncode == 1
    assert "--service-id and --summary are required" in missing.stdout + missing.stderr

    # An unknown ID: rbt reports the server's 404.
    unknown = rbt("get", "-s", "99999")
    assert unknown.returncode == 1
    assert "Could not retrieve the requested status update" in unknown.stdout + unknown.stderr
    unknown = rbt("set", "-s", "99999", "--state", "error")
    assert unknown.returncode == 1
    assert "Could not save the status update" in unknown.stdout + unknown.stderr

    # Someone who may not change it: the server's 403 becomes rbt's error.
    refused = rbt_status_update(
        "set",
        review_request_id,
        "-s",
        str(status_update_id),
        "--state",
        "error",
        live_server=live_server,
        home=_isolated_home,
        cwd=cwd,
        username="grumpy",
    )
    assert refused.returncode == 1
    assert "Could not save the status update" in refused.stdout + refused.stderr
    stored.refresh_from_db()
    assert stored.state == "S"

    # delete: GET, then DELETE (204).
    deleted = rbt("delete", "-s", str(lint_id))
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert f"Status update {lint_id} has been deleted." in deleted.stdout + deleted.stderr
    assert list(StatusUpdate.objects.values_list("pk", flat=True)) == [status_update_id]

    # Nothing was written where the command ran.
    assert not any(cwd.iterdir())


def test_rbt_status_update_set_with_review_file(
    bots: dict[str, Any], live_server: Any, _isolated_home: Path, tmp_path: Path
) -> None:
    """``set --review FILE``: rbt creates a draft review with the file's general comment, PUTs
    its ``review_id`` and the state on the status update, then publishes the review."""
    review_request_id = bots["review_request"].pk
    status_update = StatusUpdate.objects.create(
        review_request=bots["review_request"],
        user=bots["ci"],
        service_id="myci",
        summary="Build",
        timeout=600,
    )
    review_file = tmp_path / "review.json"
    review_file.write_text(
        json.dumps(
            {
                "review": {"body_top": "The build failed."},
                "general_comments": [{"text": "test_frob fails", "issue_opened": True}],
            }
        )
    )
    cwd = tmp_path / "work"

    [row] = table_rows(
        rbt_status_update(
            "set",
            review_request_id,
            "-s",
            str(status_update.pk),
            "--state",
            "done-failure",
            "--description",
            "failed.",
            "--review",
            str(review_file),
            live_server=live_server,
            home=_isolated_home,
            cwd=cwd,
        )
    )
    assert row[0] == str(status_update.pk)
    assert row[2].endswith("Failed")
    assert row[3] == "Build: failed."

    review = Review.objects.get(review_request_id=review_request_id)
    assert review.user == bots["ci"]
    assert review.public is True
    assert review.body_top == "The build failed."
    [comment] = GeneralComment.objects.filter(review=review)
    assert comment.text == "test_frob fails"
    assert comment.issue_opened is True
    status_update.refresh_from_db()
    assert (status_update.state, status_update.review_id) == ("F", review.pk)

    # The review link the item now carries leads to that (published) review.
    reply = send("GET", item_url(live_server, review_request_id, status_update.pk))
    assert reply.status == 200, reply
    href = review_link(reply.json["status_update"])
    assert (
        href == f"{live_server.url}/api/review-requests/{review_request_id}/reviews/{review.pk}/"
    )
    assert send("GET", href).json["review"]["public"] is True


# --- 1. RBTools: the Python API client ---------------------------------------------------------


def test_python_client_create_update_and_read_back(
    bots: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    review_request_id = bots["review_request"].pk
    root = rb_client("ci", "ci").get_root()

    updates = root.get_status_updates(review_request_id=review_request_id)
    assert isinstance(updates, StatusUpdateListResource)
    assert updates.total_results == 0
    assert len(updates) == 0

    created = updates.create(
        service_id="myci",
        summary="Build",
        state="pending",
        timeout=3600,
        url=BUILD_URL,
        url_text="See build",
        extra_data__build_number=42,
    )
    assert isinstance(created, StatusUpdateItemResource)
    assert created.service_id == "myci"
    assert created.summary == "Build"
    assert created.state == "pending"
    assert created.description == ""
    assert created.timeout == 3600
    assert created.url == BUILD_URL
    assert created.url_text == "See build"
    assert created.extra_data["build_number"] == 42  # extra_data.KEY values are typed
    # Real Review Board gives a status update no review_request link (golden case 038).
    assert set(created.links) == {"self", "update", "delete"}

    updated = created.update(state="done-success", description="Build #42 passed.")
    assert isinstance(updated, StatusUpdateItemResource)
    assert updated.id == created.id
    assert updated.state == "done-success"
    assert updated.description == "Build #42 passed."
    assert updated.summary == "Build"
    assert updated.url == BUILD_URL
    assert updated.timeout == 3600

    again = root.get_status_update(
        review_request_id=review_request_id, status_update_id=created.id
    )
    assert isinstance(again, StatusUpdateItemResource)
    assert (again.state, again.description, again.url_text) == (
        "done-success",
        "Build #42 passed.",
        "See build",
    )
    assert again.get_self().state == "done-success"

    stored = StatusUpdate.objects.get(pk=created.id)
    assert (stored.state, stored.description, stored.user) == (
        "S",
        "Build #42 passed.",
        bots["ci"],
    )
    assert stored.extra_data == {"build_number": 42}

    # The filters, through RBTools' own parameter names (service_id is sent as service-id).
    lint = updates.create(service_id="lint", summary="Lint", state="done-failure")
    everything = root.get_status_updates(review_request_id=review_request_id)
    assert [item.id for item in everything] == [created.id, lint.id]
    by_service = root.get_status_updates(review_request_id=review_request_id, service_id="lint")
    assert [item.id for item in by_service] == [lint.id]
    by_state = root.get_status_updates(review_request_id=review_request_id, state="done-success")
    assert [item.id for item in by_state] == [created.id]
    assert (
        root.get_status_updates(review_request_id=review_request_id, state="pending").total_results
        == 0
    )

    # The underscore spelling is not a state: 105 naming the field.
    error = expect_api_error(
        lambda: updates.create(service_id="x", summary="y", state="done_success"), 400, 105
    )
    assert "state" in error.rsp["fields"]
    # Neither service_id nor summary: both named.
    error = expect_api_error(lambda: updates.create(state="pending"), 400, 105)
    assert set(error.rsp["fields"]) >= {"service_id", "summary"}

    lint.delete()
    expect_api_error(
        lambda: root.get_status_update(
            review_request_id=review_request_id, status_update_id=lint.id
        ),
        404,
        100,
    )


def test_python_client_others_may_read_but_not_change(
    bots: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    review_request_id = bots["review_request"].pk
    created = (
        rb_client("ci", "ci")
        .get_root()
        .get_status_updates(review_request_id=review_request_id)
        .create(service_id="myci", summary="Build")
    )
    assert created.state == "pending"  # the default

    # A client built later takes over the process-wide opener: from here on, grumpy speaks.
    root = rb_client("grumpy", "grumpy").get_root()
    seen = root.get_status_update(review_request_id=review_request_id, status_update_id=created.id)
    assert seen.summary == "Build"
    expect_api_error(lambda: seen.update(state="done-success"), 403, 101)
    expect_api_error(lambda: seen.delete(), 403, 101)
    assert StatusUpdate.objects.get(pk=created.id).state == "P"

    # The review request's submitter may.
    root = rb_client("doc", "doc").get_root()
    mine = root.get_status_update(review_request_id=review_request_id, status_update_id=created.id)
    assert mine.update(state="cancelled").state == "cancelled"
    assert StatusUpdate.objects.get(pk=created.id).state == "C"


def test_review_bot_worker_with_session_cookie(
    bots: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    """The Review Bot worker's calls (clients.md §3.2): it holds only an ``rbsessionid`` the
    extension made for the bot user; reads the item, says running, writes its review through
    the standard resources, PUTs done-failure with ``review_id``; a retryable error may be run
    again with ``request-run``."""
    review_request = bots["review_request"]
    status_update = StatusUpdate.objects.create(
        review_request=review_request,
        user=bots["ci"],
        service_id="reviewbot.1",
        summary="flake8",
        timeout=120,
        extra_data={"can_retry": True},
    )
    # What the extension does for its bot user: a session in the configured store.
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(bots["ci"].pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = bots["ci"].get_session_auth_hash()
    session.create()
    assert settings.SESSION_COOKIE_NAME == "rbsessionid"

    root = rb_client(session=session.session_key, agent="ReviewBot/4.0").get_root()
    item = root.get_status_update(
        review_request_id=review_request.pk, status_update_id=status_update.pk
    )
    assert isinstance(item, StatusUpdateItemResource)
    assert item.extra_data["can_retry"] is True
    item = item.update(description="running...")
    assert (item.state, item.description) == ("pending", "running...")

    # A tool crash, then the user asks to run it again: the state stays until the bot reports.
    item = item.update(state="error", description="internal error.")
    assert item.state == "error"
    rerun = item.update(state="request-run")
    assert rerun.state == "error"
    item = rerun.update(state="pending", description="starting...")

    review = root.get_reviews(review_request_id=review_request.pk).create(
        body_top="flake8 found problems.", public=False
    )
    assert isinstance(review, ReviewItemResource)
    review.get_general_comments().create(text="E501 line too long", issue_opened=True)
    item = item.update(state="done-failure", description="failed.", review_id=review.id)
    assert item.state == "done-failure"
    linked = item.get_review()
    assert isinstance(linked, ReviewItemResource)
    assert linked.id == review.id
    assert linked.public is False
    assert review.update(public=True).public is True

    status_update.refresh_from_db()
    assert (status_update.state, status_update.review_id) == ("F", review.id)
    assert status_update.description == "failed."
    assert Review.objects.get(pk=review.id).public is True


# --- 2. The Jenkins plugin -----------------------------------------------------------------------

# Notifier step: Jenkins build result -> (state, description) from Messages.properties.
JENKINS_RESULTS = {
    "SUCCESS": ("done-success", "build succeeded.", "S"),
    "UNSTABLE": ("done-failure", "build succeeded with test failures.", "F"),
    "FAILURE": ("done-failure", "build failed.", "F"),
    "ABORTED": ("error", "build aborted.", "E"),
    "NOT_BUILT": ("error", "build did not complete.", "E"),
}


@pytest.fixture
def jenkins_update(bots: dict[str, Any]) -> StatusUpdate:
    """What rbintegrations' Jenkins integration makes before it triggers the job."""
    return StatusUpdate.objects.create(
        review_request=bots["review_request"],
        user=bots["jenkins"],
        service_id="jenkins-ci",
        summary="Jenkins CI",
        description="starting build...",
    )


@pytest.mark.parametrize("result", list(JENKINS_RESULTS))
def test_jenkins_setup_then_notifier(
    result: str, bots: dict[str, Any], jenkins_update: StatusUpdate, live_server: Any
) -> None:
    review_request_id = bots["review_request"].pk
    authorization = basic("jenkins")

    # Setup step, after rbt patch: the build is running, with a link to it.
    body = jenkins_body("pending", "build running", BUILD_URL, "See build")
    assert body == (
        b"state=pending&description=build+running"
        b"&url=https%3A%2F%2Fjenkins.example.com%2Fjob%2Frbapi%2F42%2F&url_text=See+build"
    )
    reply = jenkins_put(live_server, review_request_id, jenkins_update.pk, body, authorization)
    assert reply.status == 200, reply  # the only status the plugin takes as success
    payload = reply.json["status_update"]
    assert reply.json["stat"] == "ok"
    assert payload["id"] == jenkins_update.pk
    assert payload["state"] == "pending"
    assert payload["description"] == "build running"
    assert payload["url"] == BUILD_URL
    assert payload["url_text"] == "See build"
    jenkins_update.refresh_from_db()
    assert (jenkins_update.state, jenkins_update.description) == ("P", "build running")

    # Notifier step: state and description only (url and url_text are null, so not sent).
    state, description, letter = JENKINS_RESULTS[result]
    body = jenkins_body(state, description, None, None)
    reply = jenkins_put(live_server, review_request_id, jenkins_update.pk, body, authorization)
    assert reply.status == 200, reply
    payload = reply.json["status_update"]
    assert (payload["state"], payload["description"]) == (state, description)
    assert (payload["url"], payload["url_text"]) == (BUILD_URL, "See build")
    assert payload["summary"] == "Jenkins CI"
    jenkins_update.refresh_from_db()
    assert (jenkins_update.state, jenkins_update.description) == (letter, description)
    assert jenkins_update.url == BUILD_URL
    assert jenkins_update.user == bots["jenkins"]


def test_jenkins_statuses_the_plugin_tells_apart(
    bots: dict[str, Any], jenkins_update: StatusUpdate, live_server: Any
) -> None:
    review_request_id = bots["review_request"].pk
    body = jenkins_body("done-success", "build succeeded.", None, None)

    # 401 "Review Board API token is invalid": bad credentials.
    reply = jenkins_put(
        live_server, review_request_id, jenkins_update.pk, body, basic("jenkins", "wrong")
    )
    assert_error(reply, 401, 104)
    assert reply.headers.get("WWW-Authenticate", "").startswith("Basic")

    # 403 "API token does not have permission": a user who neither made the update nor owns
    # the review request.
    reply = jenkins_put(live_server, review_request_id, jenkins_update.pk, body, basic("grumpy"))
    assert_error(reply, 403, 101)

    # 404 "Status Update or Review Request not found": an unknown status update, an unknown
    # review request, and a status update asked for under another review request.
    reply = jenkins_put(live_server, review_request_id, 99999, body, basic("jenkins"))
    assert_error(reply, 404, 100)
    reply = jenkins_put(live_server, 99999, jenkins_update.pk, body, basic("jenkins"))
    assert_error(reply, 404, 100)
    elsewhere = make_review_request(submitter=bots["doc"], publish=True, people=[bots["grumpy"]])
    reply = jenkins_put(live_server, elsewhere.pk, jenkins_update.pk, body, basic("jenkins"))
    assert_error(reply, 404, 100)

    jenkins_update.refresh_from_db()
    assert (jenkins_update.state, jenkins_update.description) == ("P", "starting build...")

    # The same credentials, right: 200.
    reply = jenkins_put(live_server, review_request_id, jenkins_update.pk, body, basic("jenkins"))
    assert reply.status == 200, reply
    jenkins_update.refresh_from_db()
    assert jenkins_update.state == "S"


def test_jenkins_api_token_is_refused_until_tokens_exist(
    bots: dict[str, Any], jenkins_update: StatusUpdate, live_server: Any
) -> None:
    """The plugin really sends ``Authorization: token <tok>``. rbapi has no API tokens yet, so
    every token is an unknown one: 401 with error 104, as Review Board answers a bad token.
    When tokens arrive this test should gain a valid-token case expecting 200."""
    body = jenkins_body("pending", "build running", BUILD_URL, "See build")
    reply = jenkins_put(
        live_server,
        bots["review_request"].pk,
        jenkins_update.pk,
        body,
        "token 1d2f9a6c0e8b4c7f5a3d1e2b6c9f8a7d0e1c2b3a",
    )
    error = assert_error(reply, 401, 104)
    assert error["err"]["msg"] == "The username or password was not correct"
    jenkins_update.refresh_from_db()
    assert (jenkins_update.state, jenkins_update.description) == ("P", "starting build...")
    assert jenkins_update.url == ""


# --- 3. A curl CI script -------------------------------------------------------------------------


@pytest.fixture
def curl() -> Callable[..., Reply]:
    binary = shutil.which("curl")
    if binary is None:
        pytest.skip("curl is not installed")

    def run(*args: str, user: str = "ci") -> Reply:
        """``curl -sS -u user:user ARGS``; returns the status and the parsed body."""
        marker = "\n--rbapi-status:"
        result = subprocess.run(
            [
                binary,
                "-sS",
                "--noproxy",
                "*",
                "-u",
                f"{user}:{user}",
                "-H",
                "Accept: application/json",
                "-w",
                marker + "%{http_code}",
                *args,
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        body, _, status = result.stdout.rpartition(marker.encode())
        return Reply(int(status), {}, body)

    return run


def test_curl_ci_script_pending_then_failure_with_review(
    bots: dict[str, Any], live_server: Any, curl: Callable[..., Reply]
) -> None:
    review_request_id = bots["review_request"].pk
    api = f"{live_server.url}/api/review-requests/{review_request_id}"

    # 1. The build starts: POST pending, with a timeout (urlencoded -d fields).
    reply = curl(
        "-X",
        "POST",
        "-d",
        "service_id=myci",
        "-d",
        "summary=Build",
        "-d",
        "state=pending",
        "-d",
        "timeout=3600",
        "--data-urlencode",
        f"url={BUILD_URL}",
        "--data-urlencode",
        "url_text=Build log",
        f"{api}/status-updates/",
    )
    assert reply.status == 201, reply
    created = reply.json["status_update"]
    status_update_id = created["id"]
    assert created["state"] == "pending"
    assert created["timeout"] == 3600
    assert created["url"] == BUILD_URL
    assert created["url_text"] == "Build log"
    assert review_link(created) is None
    stored = StatusUpdate.objects.get(pk=status_update_id)
    assert (stored.state, stored.timeout, stored.user) == ("P", 3600, bots["ci"])
    assert stored.effective_state == "P"  # an hour to go

    # 2. The build failed: the bot writes its review (a draft) with a general comment.
    reply = curl("-X", "POST", "--data-urlencode", "body_top=The build failed.", f"{api}/reviews/")
    assert reply.status == 201, reply
    review_id = reply.json["review"]["id"]
    assert reply.json["review"]["public"] is False
    reply = curl(
        "-X",
        "POST",
        "--data-urlencode",
        "text=test_frob fails: expected 3, got 4",
        "-d",
        "issue_opened=1",
        f"{api}/reviews/{review_id}/general-comments/",
    )
    assert reply.status == 201, reply
    comment_id = reply.json["general_comment"]["id"]

    # 3. PUT done-failure naming that review.
    reply = curl(
        "-X",
        "PUT",
        "-d",
        "state=done-failure",
        "-d",
        f"review_id={review_id}",
        "--data-urlencode",
        "description=1 test failed.",
        f"{api}/status-updates/{status_update_id}/",
    )
    assert reply.status == 200, reply
    assert reply.json["status_update"]["state"] == "done-failure"
    assert review_link(reply.json["status_update"]) == f"{api}/reviews/{review_id}/"

    # 4. Publish the review.
    reply = curl("-X", "PUT", "-d", "public=1", f"{api}/reviews/{review_id}/")
    assert reply.status == 200, reply
    assert reply.json["review"]["public"] is True

    # What anybody (here the reviewer, grumpy) now reads.
    reply = curl(f"{api}/status-updates/{status_update_id}/", user="grumpy")
    assert reply.status == 200, reply
    final = reply.json["status_update"]
    assert final["id"] == status_update_id
    assert final["service_id"] == "myci"
    assert final["summary"] == "Build"
    assert final["state"] == "done-failure"
    assert final["description"] == "1 test failed."
    assert final["url"] == BUILD_URL
    assert final["url_text"] == "Build log"
    assert final["timeout"] == 3600
    assert final["links"]["self"]["href"] == f"{api}/status-updates/{status_update_id}/"
    assert final["change"] is None
    href = review_link(final)
    assert href == f"{api}/reviews/{review_id}/"
    reply = curl(href, user="grumpy")
    assert reply.status == 200, reply
    assert reply.json["review"]["public"] is True
    assert reply.json["review"]["body_top"] == "The build failed."
    reply = curl(f"{href}general-comments/", user="grumpy")
    assert [item["id"] for item in reply.json["general_comments"]] == [comment_id]

    # The list filters find it by service and by state.
    reply = curl(f"{api}/status-updates/?service-id=myci&state=done-failure", user="grumpy")
    assert [item["id"] for item in reply.json["status_updates"]] == [status_update_id]
    reply = curl(f"{api}/status-updates/?state=pending", user="grumpy")
    assert reply.json["status_updates"] == []

    stored.refresh_from_db()
    assert (stored.state, stored.review_id, stored.description) == (
        "F",
        review_id,
        "1 test failed.",
    )
    assert (stored.timeout, stored.url, stored.user) == (3600, BUILD_URL, bots["ci"])
    review = Review.objects.get(pk=review_id)
    assert (review.public, review.user, review.body_top) == (True, bots["ci"], "The build failed.")
    [comment] = GeneralComment.objects.filter(review=review)
    assert (comment.pk, comment.issue_opened) == (comment_id, True)
    assert comment.text == "test_frob fails: expected 3, got 4"


def test_curl_ci_script_multipart_and_errors(
    bots: dict[str, Any], live_server: Any, curl: Callable[..., Reply]
) -> None:
    """The same calls as multipart (-F), which any client may send instead, and the errors a
    script sees."""
    review_request_id = bots["review_request"].pk
    api = f"{live_server.url}/api/review-requests/{review_request_id}"

    reply = curl(
        "-F",
        "service_id=myci",
        "-F",
        "summary=Build",
        "-F",
        "timeout=3600",
        "-F",
        "extra_data.build=7",
        f"{api}/status-updates/",
    )
    assert reply.status == 201, reply
    status_update_id = reply.json["status_update"]["id"]
    assert reply.json["status_update"]["state"] == "pending"
    assert reply.json["status_update"]["extra_data"] == {"build": 7}

    reply = curl(
        "-X",
        "PUT",
        "-F",
        "state=error",
        "-F",
        "description=agent lost",
        f"{api}/status-updates/{status_update_id}/",
    )
    assert reply.status == 200, reply
    assert reply.json["status_update"]["state"] == "error"

    # A review that does not exist, or that belongs to another review request: 105.
    elsewhere = make_review_request(submitter=bots["doc"], publish=True, people=[bots["grumpy"]])
    reply = curl(
        "-X",
        "POST",
        "-d",
        "body_top=x",
        f"{live_server.url}/api/review-requests/{elsewhere.pk}/reviews/",
    )
    assert reply.status == 201, reply
    foreign_review_id = reply.json["review"]["id"]
    for review_id in ("99999", str(foreign_review_id)):
        reply = curl(
            "-X",
            "PUT",
            "-d",
            "state=done-failure",
            "-d",
            f"review_id={review_id}",
            f"{api}/status-updates/{status_update_id}/",
        )
        assert_error(reply, 400, 105)
        assert reply.json["fields"] == {"review_id": ["Invalid review ID"]}

    # The underscore spelling of a state; a timeout that is not a number.
    reply = curl(
        "-X", "PUT", "-d", "state=done_failure", f"{api}/status-updates/{status_update_id}/"
    )
    assert_error(reply, 400, 105)
    assert list(reply.json["fields"]) == ["state"]
    reply = curl(
        "-d", "service_id=a", "-d", "summary=b", "-d", "timeout=soon", f"{api}/status-updates/"
    )
    assert_error(reply, 400, 105)
    assert list(reply.json["fields"]) == ["timeout"]

    stored = StatusUpdate.objects.get(pk=status_update_id)
    assert (stored.state, stored.description, stored.review_id) == ("E", "agent lost", None)
    assert stored.extra_data == {"build": 7}
    assert StatusUpdate.objects.count() == 1


def test_curl_bot_that_died_reads_timed_out_until_it_reports(
    bots: dict[str, Any], live_server: Any, curl: Callable[..., Reply]
) -> None:
    """A pending update past its timeout reads ``timed-out``; the stored state (and so the
    ``state`` filter) stays pending; the next PUT restarts the clock."""
    review_request_id = bots["review_request"].pk
    api = f"{live_server.url}/api/review-requests/{review_request_id}/status-updates"
    reply = curl("-d", "service_id=myci", "-d", "summary=Build", "-d", "timeout=60", f"{api}/")
    assert reply.status == 201, reply
    status_update_id = reply.json["status_update"]["id"]
    assert reply.json["status_update"]["state"] == "pending"
    # The bot went quiet two minutes ago.
    StatusUpdate.objects.filter(pk=status_update_id).update(
        timestamp=timezone.now() - datetime.timedelta(minutes=2)
    )

    reply = curl(f"{api}/{status_update_id}/", user="grumpy")
    assert reply.json["status_update"]["state"] == "timed-out"
    reply = curl(f"{api}/?state=pending", user="grumpy")
    assert [(item["id"], item["state"]) for item in reply.json["status_updates"]] == [
        (status_update_id, "timed-out")
    ]
    reply = curl(f"{api}/?state=timed-out", user="grumpy")
    assert reply.json["status_updates"] == []

    # It comes back and says it is still running: pending again, for another 60 seconds.
    reply = curl("-X", "PUT", "-d", "description=still running", f"{api}/{status_update_id}/")
    assert reply.status == 200, reply
    assert reply.json["status_update"]["state"] == "pending"
    assert StatusUpdate.objects.get(pk=status_update_id).state == "P"
