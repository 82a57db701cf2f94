"""If-Match and Idempotency-Key under contention, against a gunicorn server (two processes of
four threads) on the database the run uses (SQLite file or PostgreSQL).

- Writers holding the same ETag, released together by a barrier: exactly one wins (200 or
  204), every other one gets 412 (or 404 after a winning DELETE), and what is stored is the
  winner's write.
- POSTs with one Idempotency-Key, released together: one object is created and every client
  gets the same answer (status, body bytes, Location).

Every answer must be an envelope and none a 5xx (the ledger of tests/reliability/conftest.py).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
import requests

from tests.reliability.conftest import (
    REVIEWERS,
    SUBMITTER,
    ApiClient,
    Database,
    Ledger,
    Server,
    publish_review_request,
    record_summary,
)

pytestmark = pytest.mark.slow

ROUNDS = int(os.environ.get("RBAPI_CONDITIONAL_ROUNDS", "8"))
WRITERS = 4
AUTHOR = REVIEWERS[0]


class Arena:
    def __init__(self, database: Database, server: Server) -> None:
        self.database = database
        self.server = server
        self.ledger = Ledger()
        self.submitter = self.clients(SUBMITTER, 1)[0]
        self.figures: Counter = Counter()

    def clients(self, username: str, count: int) -> list[ApiClient]:
        """Clients of one user sharing its session, as a user's parallel CI jobs would."""
        session = self.database.sessions[username]
        return [ApiClient(self.server, username, self.ledger, session) for _ in range(count)]


def send(
    client: ApiClient,
    method: str,
    path: str,
    data: dict[str, Any] | None = None,
    **headers: str,
) -> requests.Response:
    response = client.session.request(
        method,
        f"{client.server.url}{path}",
        data=data,
        headers=headers,
        allow_redirects=False,
        timeout=60,
    )
    client.ledger.record(method, path, response)
    return response


def together(jobs: list[Callable[[], requests.Response]]) -> list[requests.Response | None]:
    """Every job in its own thread, released at once by a barrier."""
    barrier = threading.Barrier(len(jobs))
    results: list[requests.Response | None] = [None] * len(jobs)

    def work(index: int) -> None:
        barrier.wait(timeout=30)
        results[index] = jobs[index]()

    threads = [threading.Thread(target=work, args=(index,)) for index in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return results


def statuses(results: list[requests.Response | None]) -> list[int]:
    return sorted(0 if response is None else response.status_code for response in results)


def error_code(response: requests.Response) -> int | None:
    return response.json().get("err", {}).get("code")


@pytest.fixture(scope="module")
def arena(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    log = tmp_path_factory.mktemp("conditional") / "gunicorn.log"
    server = Server(database, log, worker_args=["--workers", "2", "--threads", "4"])
    try:
        server.wait_ready(workers=2)
        arena = Arena(database, server)
        yield arena
    finally:
        server.stop()
    rows = [(name, value) for name, value in sorted(arena.figures.items())]
    rows += [
        ("requests", arena.ledger.answers["total"]),
        ("5xx answers", arena.ledger.answers["5xx"]),
        ("bad answers", len(arena.ledger.violations)),
        ("tracebacks in the server log", log.read_text(errors="replace").count("Traceback")),
    ]
    record_summary(f"If-Match / Idempotency-Key on {database.vendor}", rows)


@pytest.fixture(scope="module")
def rr(arena: Arena) -> int:
    return publish_review_request(arena.submitter, REVIEWERS)


# --- If-Match -----------------------------------------------------------------------------------


def test_concurrent_puts_with_one_etag(arena: Arena, rr: int) -> None:
    """Writers of one draft review, all with the ETag of the same GET: one 200, the rest 412,
    and the stored text is the winner's."""
    writers = arena.clients(AUTHOR, WRITERS)
    created = writers[0].ok("POST", f"/api/review-requests/{rr}/reviews/", {"body_top": "0"})
    url = f"/api/review-requests/{rr}/reviews/{created['review']['id']}/"
    for round_ in range(ROUNDS):
        etag = send(writers[0], "GET", url).headers["ETag"]
        texts = [f"round {round_} writer {index}" for index in range(WRITERS)]
        results = together(
            [
                partial(send, client, "PUT", url, {"body_top": text}, **{"If-Match": etag})
                for client, text in zip(writers, texts, strict=True)
            ]
        )
        assert statuses(results) == [200] + [412] * (WRITERS - 1), statuses(results)
        winner = next(r for r in results if r is not None and r.status_code == 200)
        assert all(error_code(r) == 910 for r in results if r is not None and r is not winner)
        stored = arena.database.scalar(
            "SELECT body_top FROM reviews_review WHERE id = %s", (created["review"]["id"],)
        )
        assert stored == winner.json()["review"]["body_top"]
        arena.figures["If-Match PUT rounds (one 200, rest 412)"] += 1
    assert arena.ledger.violations == []


def test_concurrent_status_update_puts(arena: Arena, rr: int) -> None:
    """CI bots retrying one status update with the same ETag: one state wins."""
    bots = arena.clients("admin", WRITERS)
    created = bots[0].ok(
        "POST",
        f"/api/review-requests/{rr}/status-updates/",
        {"service_id": "ci", "summary": "Build"},
    )
    su = created["status_update"]["id"]
    url = f"/api/review-requests/{rr}/status-updates/{su}/"
    states = ["done-success", "done-failure", "error", "pending"]
    for round_ in range(ROUNDS):
        match = {"If-Match": send(bots[0], "GET", url).headers["ETag"]}
        # Every write changes the representation: an identical write would leave the ETag as
        # it was, and the next writer's If-Match would rightly still match.
        results = together(
            [
                partial(
                    send, bot, "PUT", url, {"state": st, "description": f"{round_} {st}"}, **match
                )
                for bot, st in zip(bots, states, strict=True)
            ]
        )
        assert statuses(results) == [200] + [412] * (WRITERS - 1), statuses(results)
        winner = next(r for r in results if r is not None and r.status_code == 200)
        stored = arena.database.scalar(
            "SELECT description FROM status_updates_statusupdate WHERE id = %s", (su,)
        )
        assert stored == winner.json()["status_update"]["description"]
        arena.figures["If-Match status update rounds"] += 1
    assert arena.ledger.violations == []


def test_put_and_delete_with_one_etag(arena: Arena, rr: int) -> None:
    """A DELETE and PUTs of one comment holding the same ETag: one wins; after a winning
    DELETE the others get 412 or 404 and the comment is gone; after a winning PUT the DELETE
    is 412 and the comment holds the winner's text."""
    author = arena.clients(AUTHOR, WRITERS)
    # The author's draft review (201, or 303 when an earlier test left it).
    review = send(author[0], "POST", f"/api/review-requests/{rr}/reviews/", {"body_top": "x"})
    assert review.status_code in (201, 303)
    base = f"/api/review-requests/{rr}/reviews/{review.json()['review']['id']}/general-comments/"
    for round_ in range(ROUNDS):
        comment = author[0].ok("POST", base, {"text": f"round {round_}"})["general_comment"]
        url = f"{base}{comment['id']}/"
        etag = send(author[0], "GET", url).headers["ETag"]
        jobs = [partial(send, author[0], "DELETE", url, **{"If-Match": etag})]
        jobs += [
            partial(send, client, "PUT", url, {"text": f"edit {index}"}, **{"If-Match": etag})
            for index, client in enumerate(author[1:])
        ]
        results = together(jobs)
        wins = [r for r in results if r is not None and r.status_code in (200, 204)]
        assert len(wins) == 1, statuses(results)
        losers = [r for r in results if r is not None and r not in wins]
        assert all(r.status_code in (412, 404) for r in losers), statuses(results)
        rows = arena.database.query(
            "SELECT text FROM reviews_generalcomment WHERE id = %s", (comment["id"],)
        )
        if wins[0].status_code == 204:
            assert rows == []
            arena.figures["If-Match DELETE won"] += 1
        else:
            assert rows == [(wins[0].json()["general_comment"]["text"],)]
            assert results[0] is not None and results[0].status_code == 412
            arena.figures["If-Match PUT won over DELETE"] += 1
    assert arena.ledger.violations == []


# --- Idempotency-Key ----------------------------------------------------------------------------


def _one_answer(results: list[requests.Response | None]) -> requests.Response:
    """All answers equal (status, body, Location); exactly one was not a replay."""
    first = results[0]
    assert first is not None
    for response in results:
        assert response is not None
        assert response.status_code == first.status_code
        assert response.content == first.content
        assert response.headers.get("Location") == first.headers.get("Location")
        assert response.headers["Content-Type"] == first.headers["Content-Type"]
    fresh = [r for r in results if r is not None and "Idempotent-Replayed" not in r.headers]
    assert len(fresh) == 1
    return first


def test_concurrent_posts_with_one_key_create_one_status_update(arena: Arena, rr: int) -> None:
    bots = arena.clients("admin", WRITERS)
    path = f"/api/review-requests/{rr}/status-updates/"
    for round_ in range(ROUNDS):
        before = arena.database.scalar("SELECT COUNT(*) FROM status_updates_statusupdate")
        data = {"service_id": f"ci-{round_}", "summary": "Build", "state": "pending"}
        key = f"su-{round_}"
        results = together(
            [partial(send, bot, "POST", path, data, **{"Idempotency-Key": key}) for bot in bots]
        )
        assert _one_answer(results).status_code == 201
        after = arena.database.scalar("SELECT COUNT(*) FROM status_updates_statusupdate")
        assert after == before + 1
        arena.figures["Idempotency-Key status update rounds (one created)"] += 1
    assert arena.ledger.violations == []


def test_concurrent_posts_with_one_key_create_one_review_request(arena: Arena) -> None:
    clients = arena.clients(SUBMITTER, WRITERS)
    for round_ in range(ROUNDS):
        before = arena.database.scalar("SELECT COUNT(*) FROM reviews_reviewrequest")
        key = f"rr-{round_}"
        results = together(
            [
                partial(send, client, "POST", "/api/review-requests/", **{"Idempotency-Key": key})
                for client in clients
            ]
        )
        assert _one_answer(results).status_code == 201
        after = arena.database.scalar("SELECT COUNT(*) FROM reviews_reviewrequest")
        assert after == before + 1
        arena.figures["Idempotency-Key review request rounds (one created)"] += 1
    assert arena.ledger.violations == []


def test_concurrent_posts_with_one_key_create_one_review(arena: Arena, rr: int) -> None:
    """Different reviewers may use the same key: keys are per user."""
    for round_, name in enumerate(REVIEWERS[1:]):
        clients = arena.clients(name, WRITERS)
        key = "review"  # the same key for every reviewer
        results = together(
            [
                partial(
                    send,
                    client,
                    "POST",
                    f"/api/review-requests/{rr}/reviews/",
                    {"body_top": f"round {round_}", "ship_it": "1"},
                    **{"Idempotency-Key": key},
                )
                for client in clients
            ]
        )
        assert _one_answer(results).status_code == 201
        count = arena.database.scalar(
            "SELECT COUNT(*) FROM reviews_review r JOIN auth_user u ON r.user_id = u.id"
            " WHERE u.username = %s AND r.review_request_id = %s",
            (name, rr),
        )
        assert count == 1
        arena.figures["Idempotency-Key review rounds (one created)"] += 1
    assert arena.ledger.violations == []
