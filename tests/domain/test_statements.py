"""Compiled statements (core.statements) return what the ORM would, write what ``save`` would,
and keep Django's guarantees (errors, signals, broken transactions, query logging)."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_save
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.statements import Statement, execute, insert_row, update_row
from reviews.models import ReviewRequest
from status_updates.models import StatusUpdate
from tests.conftest import make_user
from tests.factories import make_review_request

pytestmark = pytest.mark.django_db(transaction=True)

WITH_SUBMITTER = Statement(
    lambda key: ReviewRequest.objects.select_related("submitter", "repository").filter(pk=key),
    key=int,
)
UPDATES_SINCE = Statement(
    lambda review_request, since, service: StatusUpdate.objects.filter(
        review_request_id=review_request, timestamp__gte=since, service_id=service
    ),
    review_request=int,
    since=datetime.datetime,
    service=str,
)


def fields_of(obj: Model) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def world():
    owner = make_user("owner")
    review_request = make_review_request(submitter=owner, publish=True, people=[owner])
    updates = [
        StatusUpdate.objects.create(
            review_request=review_request,
            user=owner,
            service_id=service,
            summary="s",
            extra_data={"n": n, "nested": {"é": [1, None]}},
        )
        for n, service in enumerate(("ci", "ci", "lint"))
    ]
    return {"owner": owner, "review_request": review_request, "updates": updates}


def test_rows_and_joined_objects_equal_the_orms(world):
    review_request = world["review_request"]
    got = WITH_SUBMITTER.get(key=review_request.pk)
    expected = ReviewRequest.objects.select_related("submitter", "repository").get(
        pk=review_request.pk
    )
    assert fields_of(got) == fields_of(expected)
    assert fields_of(got.submitter) == fields_of(expected.submitter)
    assert got.repository is None
    assert got._state.adding is False and got._state.db == "default"
    # The joined user is cached: reading it costs no query.
    with CaptureQueriesContext(connection) as captured:
        assert got.submitter.username == "owner"
    assert captured.captured_queries == []


def test_parameters_of_every_kind_bind_each_time(world):
    rr = world["review_request"].pk
    earliest = min(update.timestamp for update in world["updates"])
    for service, count in (("ci", 2), ("lint", 1), ("none", 0)):
        got = UPDATES_SINCE.all(review_request=rr, since=earliest, service=service)
        expected = list(
            StatusUpdate.objects.filter(
                review_request=rr, timestamp__gte=earliest, service_id=service
            )
        )
        assert [fields_of(o) for o in got] == [fields_of(o) for o in expected]
        assert len(got) == count
    later = timezone.now() + datetime.timedelta(days=1)
    assert UPDATES_SINCE.all(review_request=rr, since=later, service="ci") == []
    # JSON and datetimes come back converted, as the ORM gives them.
    first = UPDATES_SINCE.all(review_request=rr, since=earliest, service="ci")[0]
    assert first.extra_data == {"n": 0, "nested": {"é": [1, None]}}
    assert timezone.is_aware(first.timestamp)


def test_get_raises_the_models_own_errors(world):
    with pytest.raises(ReviewRequest.DoesNotExist):
        WITH_SUBMITTER.get(key=world["review_request"].pk + 1000)
    many = Statement(lambda key: StatusUpdate.objects.filter(review_request_id=key), key=int)
    with pytest.raises(StatusUpdate.MultipleObjectsReturned):
        many.get(key=world["review_request"].pk)


def test_wrong_parameters_are_programming_errors(world):
    with pytest.raises(TypeError):
        WITH_SUBMITTER.get(pk=1)
    with pytest.raises(TypeError):
        Statement(lambda key: ReviewRequest.objects.filter(pk=key), key=float)
    unused = Statement(lambda key, other: ReviewRequest.objects.filter(pk=key), key=int, other=int)
    with pytest.raises(TypeError, match="other"):
        unused.all(key=1, other=2)
    naive = datetime.datetime(2020, 1, 1)
    with pytest.raises(ValueError):
        UPDATES_SINCE.all(review_request=1, since=naive, service="ci")


def test_statements_are_logged_like_any_query(world):
    with CaptureQueriesContext(connection) as captured:
        WITH_SUBMITTER.get(key=world["review_request"].pk)
        execute("SELECT value FROM rbapi_cachegeneration WHERE id = %s", [1])
    assert len(captured.captured_queries) == 2
    assert 'FROM "reviews_reviewrequest"' in captured.captured_queries[0]["sql"]


def test_execute_matches_djangos_cursor_and_wraps_errors(world):
    sql = "SELECT service_id FROM status_updates_statusupdate WHERE service_id = %s ORDER BY id"
    direct = execute(sql, ["ci"]).rows
    with CaptureQueriesContext(connection):  # the logged path, through Django's cursor
        logged = execute(sql, ["ci"]).rows
    assert direct == logged == [("ci",), ("ci",)]
    assert execute("SELECT '100%%'", []).rows == [("100%",)]
    with pytest.raises(DatabaseError):
        execute("SELECT * FROM no_such_table", [])


def test_a_broken_transaction_refuses_further_statements(world):
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic():
            execute("INSERT INTO rbapi_cachegeneration (id, value) VALUES (%s, %s)", [1, 1])
        # The savepoint rolled back: statements still run.
        assert execute("SELECT 1", []).rows == [(1,)]
    with pytest.raises(TransactionManagementError), transaction.atomic():
        transaction.set_rollback(True)
        execute("SELECT 1", [])


def test_insert_row_stores_what_save_stores_and_sends_the_signals(world):
    owner, review_request = world["owner"], world["review_request"]
    seen = []

    def record(sender, **kwargs):
        seen.append((kwargs.get("created"), kwargs["update_fields"], kwargs["instance"].pk))

    pre_save.connect(record, sender=StatusUpdate)
    post_save.connect(record, sender=StatusUpdate)
    try:
        values = {
            "review_request": review_request,
            "user": owner,
            "service_id": "ci",
            "summary": "build",
            "timeout": 30,
            "extra_data": {"a": [1, "ü"]},
        }
        ours = StatusUpdate(**values)
        insert_row(ours)
        theirs = StatusUpdate(**values)
        theirs.save()
    finally:
        pre_save.disconnect(record, sender=StatusUpdate)
        post_save.disconnect(record, sender=StatusUpdate)
    assert ours.pk is not None and ours.pk != theirs.pk
    assert ours._state.adding is False
    stored_ours = fields_of(StatusUpdate.objects.get(pk=ours.pk))
    stored_theirs = fields_of(StatusUpdate.objects.get(pk=theirs.pk))
    for stored in (stored_ours, stored_theirs):
        stored.pop("id")
        stored.pop("timestamp")
    assert stored_ours == stored_theirs
    assert seen[:2] == [(None, None, None), (True, None, ours.pk)]


def test_update_row_writes_only_the_named_fields(world):
    update = world["updates"][0]
    other = StatusUpdate.objects.get(pk=update.pk)
    other.summary = "changed elsewhere"
    other.save(update_fields=["summary"])
    update.state = StatusUpdate.DONE_SUCCESS
    update.extra_data = {"x": 1}
    update.summary = "stale"  # not named: not written
    seen = []

    def record(sender, **kwargs):
        seen.append(kwargs["update_fields"])

    post_save.connect(record, sender=StatusUpdate)
    try:
        update_row(update, ["state", "extra_data"])
    finally:
        post_save.disconnect(record, sender=StatusUpdate)
    stored = StatusUpdate.objects.get(pk=update.pk)
    assert stored.state == StatusUpdate.DONE_SUCCESS
    assert stored.extra_data == {"x": 1}
    assert stored.summary == "changed elsewhere"
    assert seen == [frozenset({"state", "extra_data"})]


def test_update_row_of_a_gone_row_is_an_error_like_save(world):
    update = world["updates"][0]
    StatusUpdate.objects.filter(pk=update.pk).delete()
    update.state = StatusUpdate.ERROR
    with pytest.raises(DatabaseError):
        update_row(update, ["state"])
    with pytest.raises(DatabaseError):
        update.save(update_fields=["state"])


def test_a_statement_is_compiled_once_per_connection(world, monkeypatch):
    from core import statements

    compiled = []
    original = statements._Plan.__init__

    def counting(self, statement, connection):
        compiled.append(connection.alias)
        original(self, statement, connection)

    monkeypatch.setattr(statements._Plan, "__init__", counting)
    fresh = Statement(lambda key: ReviewRequest.objects.filter(pk=key), key=int)
    for _ in range(3):
        fresh.get(key=world["review_request"].pk)
    assert compiled == ["default"]
