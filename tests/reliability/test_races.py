"""Writes that race: threads released together by a barrier against a gunicorn server.

Each race publishes a review (or a review request's draft) while other clients change the same
object, for ``ROUNDS`` rounds, and checks after every round, with a fresh read of the database:

- the review request's Ship It and issue counters equal a recount of its public reviews;
- a review acknowledged as published (200 with ``public: true``) still exists and is public;
- at most one draft review per (user, review request) and one draft per review request;
- every answer is an envelope and none is a 5xx (a 503 with error 901 and ``Retry-After`` is a
  retryable answer: counted, not a failure).

The rounds of one race all run before its assertions, so a failing race still reports how many
rounds it ran and how many violations it saw (issue 10; spec: reliability.md §5.5).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import (
    REVIEWERS,
    SUBMITTER,
    ApiClient,
    Database,
    Ledger,
    Server,
    counters_and_recounts,
    duplicate_drafts,
    missing_published,
    publish_review_request,
    record_summary,
)

pytestmark = pytest.mark.slow

ROUNDS = int(os.environ.get("RBAPI_RACE_ROUNDS", "15"))
# A race stops early (after at least MIN_ROUNDS) once it has run this long, so the module stays
# bounded on a loaded machine; the summary says how many rounds each race ran.
RACE_SECONDS = float(os.environ.get("RBAPI_RACE_SECONDS", "12"))
MIN_ROUNDS = 5
AUTHOR = REVIEWERS[0]

Result = tuple[int, dict[str, Any]]


@dataclass
class Race:
    """What one race saw: rounds run, the answers' statuses per thread, violations."""

    name: str
    first_answer: int = 0  # the ledger's violations before this race are not its own
    rounds: int = 0
    bad_rounds: int = 0
    bad_answers: int = 0
    started: float = field(default_factory=time.monotonic)
    # Stored minus recounted value of each counter after the previous round: a round that
    # changes it broke the counters (later rounds are not blamed for an earlier drift).
    drift: dict[str, int] = field(default_factory=dict)
    outcomes: Counter = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)


class Arena:
    """The server, its clients and the races run against it in this module."""

    def __init__(self, database: Database, server: Server) -> None:
        self.database = database
        self.server = server
        self.ledger = Ledger()
        self.submitter = self.client(SUBMITTER)
        self.races: list[Race] = []
        # Reviews acknowledged as published, by any race: they must stay published.
        self.published: set[int] = set()
        self.lost: set[str] = set()  # lost published reviews already reported

    def client(self, username: str) -> ApiClient:
        return ApiClient(self.server, username, self.ledger, self.database.sessions[username])

    def clients(self, username: str, count: int) -> list[ApiClient]:
        """Separate HTTP clients of one user sharing its login, one per thread (a
        double-clicking user, or parallel CI jobs of one bot)."""
        return [self.client(username) for _ in range(count)]

    def review_request(self) -> int:
        return publish_review_request(self.submitter, REVIEWERS)

    def user_id(self, username: str) -> int:
        return self.database.scalar("SELECT id FROM auth_user WHERE username = %s", (username,))

    def draft_review(self, author: ApiClient, rr: int, **fields: str) -> int:
        """The author's draft review of ``rr`` with ``fields`` (a leftover draft of an earlier
        round is deleted first, so every round starts from the same state)."""
        for (review,) in self.database.query(
            "SELECT id FROM reviews_review WHERE review_request_id = %s AND user_id = %s"
            " AND NOT public AND base_reply_to_id IS NULL",
            (rr, self.user_id(author.username)),
        ):
            author.ok("DELETE", f"/api/review-requests/{rr}/reviews/{review}/")
        status, body = author.call("POST", f"/api/review-requests/{rr}/reviews/", fields)
        assert status == 201, (status, body)
        return body["review"]["id"]

    def comment(self, author: ApiClient, rr: int, review: int, *, issue: bool) -> int:
        body = author.ok(
            "POST",
            f"/api/review-requests/{rr}/reviews/{review}/general-comments/",
            {"text": "Please fix this.", "issue_opened": "1" if issue else "0"},
        )
        return body["general_comment"]["id"]

    def start(self, name: str) -> Race:
        race = Race(name, first_answer=len(self.ledger.violations))
        self.races.append(race)
        return race

    def check(self, race: Race, rr: int, extra: Sequence[str] = ()) -> None:
        """The invariants after one round, from a fresh read of the database."""
        lost = set(missing_published(self.database, self.published)) - self.lost
        self.lost |= lost
        problems = [*extra, *duplicate_drafts(self.database), *sorted(lost)]
        for name, (stored, recount) in counters_and_recounts(self.database, rr).items():
            drift = stored - recount
            if drift != race.drift.get(name, 0):
                problems.append(
                    f"review request {rr}: {name} stored {stored}, recount {recount}"
                    f" (off by {drift - race.drift.get(name, 0):+d} this round)"
                )
            race.drift[name] = drift
        race.rounds += 1
        race.bad_rounds += bool(problems)
        race.violations += [f"round {race.rounds}: {problem}" for problem in problems]


Call = tuple[ApiClient, str, str, dict[str, str] | None]


def run_together(calls: list[Call]) -> list[Result]:
    """Send every call (client, method, path, data) from its own thread, all released at once
    by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def work(index: int) -> None:
        client, method, path, data = calls[index]
        try:
            barrier.wait(timeout=30)
            results[index] = client.call(method, path, data)
        except BaseException as exc:  # a dead connection is an answer too: record it
            results[index] = (0, {"exception": repr(exc)})

    threads = [threading.Thread(target=work, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return results


def acknowledged_publish(result: Result) -> bool:
    status, body = result
    return status == 200 and body.get("review", {}).get("public") is True


@pytest.fixture(scope="module")
def arena(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    """gunicorn with two processes of four threads each: races between threads of one
    process and between processes."""
    log = tmp_path_factory.mktemp("races") / "gunicorn.log"
    server = Server(database, log, worker_args=["--workers", "2", "--threads", "4"])
    try:
        server.wait_ready(workers=2)
        arena = Arena(database, server)
        yield arena
    finally:
        server.stop()
    report(arena, database, log)


def report(arena: Arena, database: Database, log: Path) -> None:
    rows = [
        (
            race.name,
            f"{race.rounds} rounds, {race.bad_rounds} with violations "
            f"({len(race.violations)} violations), "
            f"{race.bad_answers} bad answers, "
            f"outcomes {dict(race.outcomes.most_common())}",
        )
        for race in arena.races
    ]
    answers = arena.ledger.answers
    rows += [
        ("requests", answers["total"]),
        ("5xx answers", answers["5xx"]),
        ("503 + 901 + Retry-After", answers["503 retryable"]),
        ("bad answers (5xx, not an envelope)", len(arena.ledger.violations)),
    ]
    tracebacks = log.read_text(errors="replace").count("Traceback")
    rows.append(("tracebacks in the server log", tracebacks))
    record_summary(f"race rounds on {database.vendor}", rows)


def finish(arena: Arena, race: Race) -> None:
    """Fail with every violation of the race and every bad answer so far."""
    bad_answers = arena.ledger.violations[race.first_answer :]
    race.bad_answers = len(bad_answers)
    assert race.violations == [] and bad_answers == [], (
        f"{race.name}: {race.bad_rounds} of {race.rounds} rounds broke an invariant\n"
        + "\n".join(race.violations[:20] + bad_answers[:10])
    )


def rounds(race: Race) -> Iterator[int]:
    """Round numbers: ROUNDS of them, or fewer (at least MIN_ROUNDS) past the time budget."""
    for number in range(ROUNDS):
        if number >= MIN_ROUNDS and time.monotonic() - race.started > RACE_SECONDS:
            return
        yield number


def outcome(results: list[Result]) -> str:
    return " ".join(str(status) for status, _ in results)


# --- publish vs another write of the same review ---------------------------------------------


def test_publish_vs_delete(arena: Arena) -> None:
    """A review published and deleted at once: one of the two wins, never both."""
    race = arena.start("publish x2 vs DELETE draft review")
    rr = arena.review_request()
    publisher, double_click, deleter = arena.clients(AUTHOR, 3)
    for _ in rounds(race):
        review = arena.draft_review(publisher, rr, body_top="Ship It!", ship_it="1")
        arena.comment(publisher, rr, review, issue=True)
        path = f"/api/review-requests/{rr}/reviews/{review}/"
        results = run_together(
            [
                (publisher, "PUT", path, {"public": "1"}),
                (double_click, "PUT", path, {"public": "1"}),
                (deleter, "DELETE", path, None),
            ]
        )
        race.outcomes[outcome(results)] += 1
        published = any(acknowledged_publish(result) for result in results[:2])
        deleted = results[2][0] == 204
        if published:
            arena.published.add(review)
        extra = []
        if published and deleted:
            extra.append(f"review {review}: publish (200) and DELETE (204) both acknowledged")
        arena.check(race, rr, extra)
    finish(arena, race)


def test_publish_vs_new_issue_comment(arena: Arena) -> None:
    """An issue-opening comment posted while its review is published: either it is in the
    published review and counted, or it is refused."""
    race = arena.start("publish x2 vs POST issue comment")
    rr = arena.review_request()
    publisher, double_click, commenter = arena.clients(AUTHOR, 3)
    for _ in rounds(race):
        review = arena.draft_review(publisher, rr, body_top="Some issues.")
        path = f"/api/review-requests/{rr}/reviews/{review}/"
        results = run_together(
            [
                (publisher, "PUT", path, {"public": "1"}),
                (double_click, "PUT", path, {"public": "1"}),
                (
                    commenter,
                    "POST",
                    f"{path}general-comments/",
                    {"text": "Late issue", "issue_opened": "1"},
                ),
            ]
        )
        race.outcomes[outcome(results)] += 1
        if any(acknowledged_publish(result) for result in results[:2]):
            arena.published.add(review)
        extra = []
        if results[2][0] == 201:
            comment = results[2][1]["general_comment"]["id"]
            stored = arena.database.query(
                "SELECT review_id FROM reviews_generalcomment WHERE id = %s", (comment,)
            )
            if stored != [(review,)]:
                extra.append(f"comment {comment} was acknowledged (201) and is not stored")
        arena.check(race, rr, extra)
    finish(arena, race)


def test_publish_vs_ship_it(arena: Arena) -> None:
    """Ship It set while the review is published: counted iff the public review has it."""
    race = arena.start("publish x2 vs PUT ship_it=1")
    rr = arena.review_request()
    publisher, double_click, editor = arena.clients(AUTHOR, 3)
    for _ in rounds(race):
        review = arena.draft_review(publisher, rr, body_top="Looks good.")
        path = f"/api/review-requests/{rr}/reviews/{review}/"
        results = run_together(
            [
                (publisher, "PUT", path, {"public": "1"}),
                (double_click, "PUT", path, {"public": "1"}),
                (editor, "PUT", path, {"ship_it": "1"}),
            ]
        )
        race.outcomes[outcome(results)] += 1
        if any(acknowledged_publish(result) for result in results[:2]):
            arena.published.add(review)
        extra = []
        if results[2][0] == 200 and results[2][1].get("review", {}).get("ship_it") is True:
            ship_it = arena.database.scalar(
                "SELECT ship_it FROM reviews_review WHERE id = %s", (review,)
            )
            if not ship_it:
                extra.append(f"review {review}: ship_it=1 acknowledged and not stored")
        arena.check(race, rr, extra)
    finish(arena, race)


def test_publish_vs_issue_opened_on_comment(arena: Arena) -> None:
    """A comment of the draft opens an issue while the review is published."""
    race = arena.start("publish x2 vs PUT issue_opened=1 on a comment")
    rr = arena.review_request()
    publisher, double_click, editor = arena.clients(AUTHOR, 3)
    for _ in rounds(race):
        review = arena.draft_review(publisher, rr, body_top="One remark.")
        comment = arena.comment(publisher, rr, review, issue=False)
        path = f"/api/review-requests/{rr}/reviews/{review}/"
        results = run_together(
            [
                (publisher, "PUT", path, {"public": "1"}),
                (double_click, "PUT", path, {"public": "1"}),
                (editor, "PUT", f"{path}general-comments/{comment}/", {"issue_opened": "1"}),
            ]
        )
        race.outcomes[outcome(results)] += 1
        if any(acknowledged_publish(result) for result in results[:2]):
            arena.published.add(review)
        arena.check(race, rr)
    finish(arena, race)


# --- review request drafts and published issues ----------------------------------------------


def test_review_request_draft_published_twice(arena: Arena) -> None:
    """Three publishes of one review request draft: exactly one succeeds and records one
    change description; the others are refused."""
    race = arena.start("review request draft publish x3")
    rr = arena.review_request()
    publishers = arena.clients(SUBMITTER, 3)
    path = f"/api/review-requests/{rr}/draft/"
    for number in rounds(race):
        description = f"Round {number} of the double publish."
        arena.submitter.ok("PUT", path, {"description": description})
        changes_before = arena.database.scalar(
            "SELECT COUNT(*) FROM changes_changedescription WHERE review_request_id = %s"
            " AND public",
            (rr,),
        )
        results = run_together([(client, "PUT", path, {"public": "1"}) for client in publishers])
        race.outcomes[outcome(results)] += 1
        successes = sum(status == 200 for status, _ in results)
        changes_after = arena.database.scalar(
            "SELECT COUNT(*) FROM changes_changedescription WHERE review_request_id = %s"
            " AND public",
            (rr,),
        )
        stored = arena.database.scalar(
            "SELECT description FROM reviews_reviewrequest WHERE id = %s", (rr,)
        )
        extra = []
        if successes != 1:
            extra.append(f"{successes} publishes of one draft acknowledged")
        if changes_after - changes_before != successes:
            extra.append(
                f"{changes_after - changes_before} change descriptions for {successes} publishes"
            )
        if successes and stored != description:
            extra.append(f"published description is {stored!r}")
        arena.check(race, rr, extra)
    finish(arena, race)


ISSUE_MOVES = (
    # (comment index, who, new status) per thread; two batches per round.
    ((0, SUBMITTER, "resolved"), (0, AUTHOR, "dropped"), (1, SUBMITTER, "verifying-dropped"),
     (1, AUTHOR, "resolved")),
    ((0, SUBMITTER, "open"), (0, AUTHOR, "open"), (1, SUBMITTER, "dropped"),
     (1, AUTHOR, "verifying-resolved")),
)  # fmt: skip


def test_issue_status_changes_race(arena: Arena) -> None:
    """Four clients move the issues of two published comments at once: the counters follow
    every move (no increment lost, none applied twice)."""
    race = arena.start("issue status changes x4 on published comments")
    rr = arena.review_request()
    author = arena.client(AUTHOR)
    movers = {SUBMITTER: arena.clients(SUBMITTER, 2), AUTHOR: arena.clients(AUTHOR, 2)}
    for _ in rounds(race):
        review = arena.draft_review(author, rr, body_top="Two issues.")
        comments = [arena.comment(author, rr, review, issue=True) for _ in range(2)]
        base = f"/api/review-requests/{rr}/reviews/{review}/"
        body = author.ok("PUT", base, {"public": "1"})
        assert body["review"]["public"] is True
        arena.published.add(review)
        for batch in ISSUE_MOVES:
            used: Counter = Counter()
            calls: list[Call] = []
            for index, who, status in batch:
                client = movers[who][used[who]]
                used[who] += 1
                url = f"{base}general-comments/{comments[index]}/"
                calls.append((client, "PUT", url, {"issue_status": status}))
            results = run_together(calls)
            race.outcomes[outcome(results)] += 1
        arena.check(race, rr)
    finish(arena, race)
