"""kill -9 of a gunicorn worker while reviews are being published.

gunicorn runs two sync workers against a file SQLite database (or PostgreSQL when
``DATABASE_URL`` names one). Each trial prepares draft reviews (Ship It and two issues each) by
several reviewers of a new review request, publishes them all at once from threads, and kills a
worker with SIGKILL a few milliseconds later, while publishes are in flight. The master starts a
new worker; then, from a fresh read of the database:

- every publish acknowledged (200, ``public: true``) is stored as public;
- nothing is half-applied: the review request's counters equal a recount, every public review's
  comments carry its publish timestamp, and every review still has its comments;
- a publish that got no answer can simply be sent again and succeeds (no stale lock, no
  half-written row in the way), after which the counters still match;
- no answer is a 5xx, every answer is an envelope; on SQLite ``PRAGMA integrity_check`` is ok.

The number of trials is bounded (``RBAPI_KILL_TRIALS``, 8 by default) and the server's process
group is always ended (spec: reliability.md §5.5 point 3; issue 10).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
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
    counter_mismatches,
    missing_published,
    publish_review_request,
    record_summary,
)

pytestmark = pytest.mark.slow

TRIALS = int(os.environ.get("RBAPI_KILL_TRIALS", "8"))
PUBLISHERS = REVIEWERS[:4]
COMMENTS_PER_REVIEW = 2


@pytest.fixture(scope="module")
def server(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two sync workers, the app preloaded so that a killed worker is replaced at once."""
    log = tmp_path_factory.mktemp("kill") / "gunicorn.log"
    server = Server(database, log, worker_args=["--workers", "2", "--preload"])
    try:
        server.wait_ready(workers=2)
        yield server
    finally:
        server.stop()


def prepare_drafts(clients: dict[str, ApiClient], rr: int) -> dict[str, int]:
    """One draft review per publisher: Ship It and two issue-opening comments."""
    drafts = {}
    for name, client in clients.items():
        body = client.ok(
            "POST", f"/api/review-requests/{rr}/reviews/", {"body_top": "Ship It!", "ship_it": "1"}
        )
        review = body["review"]["id"]
        for number in range(COMMENTS_PER_REVIEW):
            client.ok(
                "POST",
                f"/api/review-requests/{rr}/reviews/{review}/general-comments/",
                {"text": f"Issue {number}", "issue_opened": "1"},
            )
        drafts[name] = review
    return drafts


def publish_all(
    clients: dict[str, ApiClient], rr: int, drafts: dict[str, int], server: Server
) -> tuple[dict[str, Any], bool]:
    """Publish every draft from its own thread and SIGKILL one worker while they run.
    Returns each publisher's outcome (an answer, or the connection error) and whether a
    worker was killed."""
    barrier = threading.Barrier(len(drafts) + 1)
    outcomes: dict[str, Any] = {}

    def publish(name: str) -> None:
        barrier.wait(timeout=30)
        path = f"/api/review-requests/{rr}/reviews/{drafts[name]}/"
        try:
            outcomes[name] = clients[name].call("PUT", path, {"public": "1"})
        except requests.RequestException as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=publish, args=(name,)) for name in drafts]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=30)
    time.sleep(random.uniform(0.002, 0.04))
    workers = server.worker_pids()
    killed = False
    if workers:
        try:
            os.kill(random.choice(workers), signal.SIGKILL)
            killed = True
        except ProcessLookupError:
            pass
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a publish never finished"
    return outcomes, killed


def half_applied(database: Database, rr: int) -> list[str]:
    """Public reviews whose comments were not stamped with the publish, and reviews that lost
    comments."""
    problems = [
        f"review {review}: public, but comment timestamps differ from the publish"
        for (review,) in database.query(
            "SELECT DISTINCT r.id FROM reviews_review r"
            " JOIN reviews_generalcomment c ON c.review_id = r.id"
            " WHERE r.review_request_id = %s AND r.public AND c.timestamp <> r.timestamp",
            (rr,),
        )
    ]
    problems += [
        f"review {review}: {count} comments instead of {COMMENTS_PER_REVIEW}"
        for review, count in database.query(
            "SELECT r.id, COUNT(c.id) FROM reviews_review r"
            " LEFT JOIN reviews_generalcomment c ON c.review_id = r.id"
            " WHERE r.review_request_id = %s GROUP BY r.id",
            (rr,),
        )
        if count != COMMENTS_PER_REVIEW
    ]
    return problems


def test_kill_worker_during_publishes(server: Server, database: Database) -> None:
    ledger = Ledger()
    submitter = ApiClient(server, SUBMITTER, ledger, database.sessions[SUBMITTER])
    clients = {
        name: ApiClient(server, name, ledger, database.sessions[name]) for name in PUBLISHERS
    }
    figures: Counter = Counter()
    violations: list[str] = []
    acknowledged: set[int] = set()
    started = time.monotonic()
    for trial in range(1, TRIALS + 1):
        rr = publish_review_request(submitter, REVIEWERS)
        drafts = prepare_drafts(clients, rr)
        outcomes, killed = publish_all(clients, rr, drafts, server)
        figures["trials"] += 1
        figures["workers killed"] += killed
        server.wait_ready(workers=2)
        unanswered = []
        for name, result in outcomes.items():
            if isinstance(result, Exception):
                figures["publishes cut off by the kill"] += 1
                unanswered.append(name)
            elif result[0] == 200 and result[1]["review"]["public"] is True:
                figures["publishes acknowledged"] += 1
                acknowledged.add(drafts[name])
            else:
                figures[f"publishes answered {result[0]}"] += 1
        problems = [
            *missing_published(database, acknowledged),
            *counter_mismatches(database, rr),
            *half_applied(database, rr),
        ]
        # A publish cut off by the kill is sent again; it must go through (or find the
        # review already public, which a published review refuses with 403).
        for name in unanswered:
            review = drafts[name]
            public = database.scalar("SELECT public FROM reviews_review WHERE id = %s", (review,))
            figures["cut-off publishes stored anyway" if public else "cut-off publishes lost"] += 1
            if public:
                continue
            status, body = clients[name].call(
                "PUT", f"/api/review-requests/{rr}/reviews/{review}/", {"public": "1"}
            )
            if status != 200:
                problems.append(f"review {review}: publish sent again answered {status} {body}")
            else:
                acknowledged.add(review)
        problems += counter_mismatches(database, rr) + half_applied(database, rr)
        violations += [f"trial {trial}: {problem}" for problem in dict.fromkeys(problems)]
        figures["trials with a half-applied or lost write"] += bool(problems)
    if database.vendor == "sqlite":
        integrity = database.scalar("PRAGMA integrity_check")
        if integrity != "ok":
            violations.append(f"PRAGMA integrity_check: {integrity}")
    figures["violations"] = len(violations)
    record_summary(
        f"kill -9 trials on {database.vendor}",
        [
            *sorted(figures.items()),
            ("requests", ledger.answers["total"]),
            ("5xx answers", ledger.answers["5xx"]),
            ("503 + 901 + Retry-After", ledger.answers["503 retryable"]),
            ("seconds", round(time.monotonic() - started, 1)),
        ],
    )
    assert violations == [] and ledger.violations == [], "\n".join(
        violations[:20] + ledger.violations[:10]
    )
    assert figures["workers killed"] == TRIALS
