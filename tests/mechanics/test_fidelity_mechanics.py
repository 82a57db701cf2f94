"""Mechanics where rbapi once answered differently from Review Board 8.1 (issue 14), each
pinned to what the original was observed to answer on the wire."""

from __future__ import annotations

import pytest

from status_updates.models import StatusUpdate

from ..conftest import assert_error, assert_ok, logged_in_client, make_user
from ..factories import make_diffset, make_review_request

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
BAD_TIMESTAMP = "This timestamp is not a valid ISO 8601 date/time"


@pytest.fixture
def published(owner):
    return make_review_request(submitter=owner, publish=True, people=[owner])


# --- XML: top-level element order ---------------------------------------------------------


def _top_level_elements(body: bytes) -> list[str]:
    lines = body.decode().splitlines()
    return [
        line.strip()[1:].split(">")[0]
        for line in lines
        if line.startswith(" <") and not line.startswith(" </")
    ]


def test_xml_list_puts_links_before_total_results(owner_client, published):
    response = owner_client.get("/api/review-requests/", HTTP_ACCEPT="application/xml")
    assert response.status_code == 200
    assert _top_level_elements(response.content) == [
        "stat",
        "review_requests",
        "links",
        "total_results",
    ]


def test_xml_item_with_empty_extra_data_is_an_empty_element(owner_client, published):
    # Published review requests carry calculated_trophies (as in Review Board): empty it.
    published.extra_data = {}
    published.save(update_fields=["extra_data"])
    response = owner_client.get(
        f"/api/review-requests/{published.pk}/?only-fields=extra_data",
        HTTP_ACCEPT="application/xml",
    )
    assert response.status_code == 200
    assert "  <extra_data>\n  </extra_data>\n" in response.content.decode()


# --- date filters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "/api/review-requests/?time-added-from=nope",
        "/api/review-requests/?last-updated-to=2026-W01",
        "/api/review-requests/?counts-only=1&last-updated-from=2026-13-45",
    ],
)
def test_bad_date_filter_in_review_boards_words(anon_client, query):
    body = assert_error(anon_client.get(query), 400, 105)
    name = query.split("&")[-1].split("?")[-1].split("=")[0]
    assert body["fields"] == {name: [BAD_TIMESTAMP]}


@pytest.mark.parametrize("value", ["2000-01-01", "2000-01-01 10:00:00", "20000101", "Jan 1 2000"])
def test_date_filter_reads_what_review_board_reads(anon_client, published, value):
    body = assert_ok(anon_client.get("/api/review-requests/", {"time-added-from": value}))
    assert body["total_results"] == 1
    body = assert_ok(anon_client.get("/api/review-requests/", {"time-added-to": value}))
    assert body["total_results"] == 0


def test_date_filter_overflow_is_a_form_error_not_a_500(anon_client):
    response = anon_client.get(
        "/api/review-requests/", {"last-updated-from": "9999-12-31T23:59:59-14:00"}
    )
    assert assert_error(response, 400, 105)["fields"] == {"last-updated-from": [BAD_TIMESTAMP]}


# --- force-text-type / include-text-types with bad values ----------------------------------


@pytest.mark.parametrize(
    "query",
    ["force-text-type=bogus", "include-text-types=bogus", "counts-only=1&force-text-type=x"],
)
def test_unknown_text_type_is_ignored_on_reads(anon_client, published, query):
    body = assert_ok(anon_client.get(f"/api/review-requests/?{query}"))
    if "counts-only" in query:
        assert body == {"stat": "ok", "count": 1}
    else:
        assert body["review_requests"][0]["description_text_type"] == "plain"
        assert "html_text_fields" not in body["review_requests"][0]


def test_known_include_text_types_still_apply_beside_unknown_ones(anon_client, published):
    body = assert_ok(
        anon_client.get(f"/api/review-requests/{published.pk}/?include-text-types=bogus,html")
    )
    html = body["review_request"]["html_text_fields"]
    assert html["description_text_type"] == "html"
    assert html["description"] == "Adds a frobnicator."


def test_bad_force_text_type_in_a_write_body_is_named_with_its_body_name(owner_client, published):
    response = owner_client.put(
        f"/api/review-requests/{published.pk}/draft/",
        "force_text_type=bogus&branch=feature",
        content_type="application/x-www-form-urlencoded",
    )
    body = assert_error(response, 400, 105)
    assert body["fields"] == {
        "force_text_type": [
            '"bogus" is not a valid value. Valid values are: "plain", "markdown", "html"'
        ]
    }
    # Nothing was stored: the draft (if the PUT left one) does not hold the new branch.
    draft = owner_client.get(f"/api/review-requests/{published.pk}/draft/")
    assert draft.status_code == 404 or draft.json()["draft"]["branch"] != "feature"


@pytest.mark.parametrize("param", ["start=abc", "max-results=abc"])
def test_counts_only_still_checks_paging(anon_client, param):
    body = assert_error(anon_client.get(f"/api/review-requests/?counts-only=1&{param}"), 400, 105)
    name, value = param.split("=")
    assert body["fields"] == {name: [f'"{value}" is not an integer']}


# --- self link of a singleton keeps the query string ---------------------------------------


def test_draft_self_link_keeps_the_query_string(owner_client, owner):
    review_request = make_review_request(submitter=owner)
    url = f"/api/review-requests/{review_request.pk}/draft/"
    body = assert_ok(owner_client.get(url + "?only-fields=summary&only-links=self"))
    assert body["draft"]["links"]["self"]["href"] == (
        f"http://testserver{url}?only-fields=summary&only-links=self"
    )
    body = assert_ok(owner_client.get(url))
    assert body["draft"]["links"]["self"]["href"] == f"http://testserver{url}"


def test_item_self_link_drops_the_query_string(anon_client, published):
    body = assert_ok(anon_client.get(f"/api/review-requests/{published.pk}/?only-fields=id"))
    assert body["review_request"]["links"]["self"]["href"] == (
        f"http://testserver/api/review-requests/{published.pk}/"
    )


# --- status update validation: form errors first, then the lookups ------------------------


@pytest.fixture
def bot_client():
    return logged_in_client(make_user("bot"))


def _post_status(client, review_request, data: str):
    return client.post(
        f"/api/review-requests/{review_request.pk}/status-updates/",
        data,
        content_type="application/x-www-form-urlencoded",
    )


def test_status_update_form_errors_hide_bad_ids(bot_client, published):
    response = _post_status(
        bot_client, published, "service_id=a&summary=s&state=bogus&change_id=999&review_id=999"
    )
    fields = assert_error(response, 400, 105)["fields"]
    assert set(fields) == {"state"}
    assert not StatusUpdate.objects.exists()


def test_status_update_bad_change_is_named_before_bad_review(bot_client, published):
    response = _post_status(
        bot_client, published, "service_id=a&summary=s&change_id=9&review_id=9"
    )
    assert assert_error(response, 400, 105)["fields"] == {
        "change_id": ["Invalid change description ID"]
    }
    response = _post_status(bot_client, published, "service_id=a&summary=s&review_id=9")
    assert assert_error(response, 400, 105)["fields"] == {"review_id": ["Invalid review ID"]}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ("change_id=abc", "change_id", '"abc" is not an integer'),
        ("change_id=", "change_id", '"" is not an integer'),
        ("review_id=", "review_id", '"" is not an integer'),
        ("timeout=", "timeout", '"" is not an integer'),
    ],
)
def test_status_update_ids_and_timeout_must_be_integers(
    bot_client, published, data, field, message
):
    response = _post_status(bot_client, published, f"service_id=a&summary=s&{data}")
    assert assert_error(response, 400, 105)["fields"] == {field: [message]}
    status_update = StatusUpdate.objects.create(
        review_request=published, user=published.submitter, service_id="ci", summary="s"
    )
    response = logged_in_client(published.submitter).put(
        f"/api/review-requests/{published.pk}/status-updates/{status_update.pk}/",
        data,
        content_type="application/x-www-form-urlencoded",
    )
    assert assert_error(response, 400, 105)["fields"] == {field: [message]}


# --- status update PUT: Review Board's precedence, each step alone (issue 14) ----------------


class TestStatusUpdateValidationPrecedence:
    """Malformed fields first, then a run the stored state does not allow, then the change
    and review IDs, then the extra_data forms (as the original, checked on a reference)."""

    @pytest.fixture
    def done(self, published):
        return StatusUpdate.objects.create(
            review_request=published,
            user=published.submitter,
            service_id="ci",
            summary="s",
            state=StatusUpdate.DONE_SUCCESS,
        )

    @pytest.fixture
    def runnable(self, published):
        return StatusUpdate.objects.create(
            review_request=published,
            user=published.submitter,
            service_id="ci",
            summary="s",
            state=StatusUpdate.NOT_YET_RUN,
        )

    def put(self, status_update, data: str):
        return logged_in_client(status_update.review_request.submitter).put(
            f"/api/review-requests/{status_update.review_request_id}/status-updates/"
            f"{status_update.pk}/",
            data,
            content_type="application/x-www-form-urlencoded",
        )

    @pytest.mark.parametrize(
        "data",
        [
            "state=request-run&change_id=999",
            "state=request-run&review_id=999",
            "state=request-run&extra_data:json=nope",
            "state=request-run&change_id=999&extra_data:json=nope&summary=x",
        ],
    )
    def test_a_run_that_cannot_start_is_named_before_ids_and_extra_data(self, done, data):
        response = self.put(done, data)
        assert assert_error(response, 400, 105)["fields"] == {
            "state": ["This status update cannot be run"]
        }
        done.refresh_from_db()
        assert (done.summary, done.extra_data) == ("s", {})

    def test_malformed_fields_come_before_the_run_check(self, done):
        response = self.put(done, "state=request-run&timeout=x&extra_data:json=nope")
        assert assert_error(response, 400, 105)["fields"] == {"timeout": ['"x" is not an integer']}

    @pytest.mark.parametrize(
        ("data", "fields"),
        [
            (
                "state=request-run&change_id=999&extra_data:json=nope",
                {"change_id": ["Invalid change description ID"]},
            ),
            (
                "state=request-run&extra_data:json=nope",
                {
                    "extra_data": [
                        "Could not parse JSON data: Expecting value: line 1 column 1 (char 0)"
                    ]
                },
            ),
            ("timeout=x&extra_data:json=nope", {"timeout": ['"x" is not an integer']}),
        ],
    )
    def test_a_runnable_update_reports_ids_then_extra_data(self, runnable, data, fields):
        assert assert_error(self.put(runnable, data), 400, 105)["fields"] == fields

    def test_post_reports_extra_data_after_everything_else(self, bot_client, published):
        response = _post_status(
            bot_client, published, "service_id=a&summary=s&change_id=999&extra_data:json=nope"
        )
        assert assert_error(response, 400, 105)["fields"] == {
            "change_id": ["Invalid change description ID"]
        }
        response = _post_status(bot_client, published, "summary=s&extra_data:json=nope")
        assert assert_error(response, 400, 105)["fields"] == {
            "service_id": ["This field is required"]
        }
        assert not StatusUpdate.objects.exists()


# --- XML: item field and link order, as the original writes them (issue 14) -----------------


def _children(body: bytes, *path: str) -> list[str]:
    """The element names directly under ``rsp/<path...>``."""
    import xml.etree.ElementTree as ET

    node = ET.fromstring(body)
    for name in path:
        node = node.find(name)
    return [child.tag for child in node]


class TestXMLItemOrder:
    """Element orders captured from Review Board 8.1; JSON keys stay sorted."""

    def get_xml(self, client, url: str) -> bytes:
        response = client.get(url, HTTP_ACCEPT="application/xml")
        assert response.status_code == 200
        return response.content

    def test_status_update_fields_are_alphabetical(self, anon_client, published):
        update = StatusUpdate.objects.create(
            review_request=published, user=published.submitter, service_id="ci", summary="s"
        )
        body = self.get_xml(
            anon_client, f"/api/review-requests/{published.pk}/status-updates/{update.pk}/"
        )
        assert _children(body, "status_update") == [
            "change",
            "description",
            "extra_data",
            "id",
            "review",
            "service_id",
            "state",
            "summary",
            "timeout",
            "url",
            "url_text",
            "links",
        ]

    def test_user_fields_and_links(self, owner_client, owner):
        body = self.get_xml(owner_client, f"/api/users/{owner.username}/")
        assert _children(body, "user") == [
            "avatar_html",
            "avatar_url",
            "avatar_urls",
            "is_active",
            "id",
            "username",
            "first_name",
            "last_name",
            "fullname",
            "email",
            "url",
            "links",
        ]

    def test_review_fields_and_links(self, owner_client, published, owner):
        from reviews.models import Review

        review = Review.objects.create(review_request=published, user=owner, public=True)
        body = self.get_xml(
            owner_client, f"/api/review-requests/{published.pk}/reviews/{review.pk}/"
        )
        assert _children(body, "review") == [
            "absolute_url",
            "body_bottom",
            "body_bottom_text_type",
            "body_top",
            "body_top_text_type",
            "extra_data",
            "id",
            "public",
            "ship_it",
            "text_type",
            "timestamp",
            "links",
        ]
        links = _children(body, "review", "links")
        assert links[:4] == ["self", "update", "delete", "diff_comments"]
        assert links.index("replies") < links.index("screenshot_comments")
        assert links[-1] == "user"
        # Every link object is method, href (then title).
        assert _children(body, "review", "links", "user") == ["method", "href", "title"]

    def test_review_request_links_and_expanded_fields(self, owner_client, published):
        body = self.get_xml(
            owner_client, f"/api/review-requests/{published.pk}/?expand=submitter,target_people"
        )
        fields = _children(body, "review_request")
        assert fields.index("issue_verifying_count") + 1 == fields.index("submitter")
        assert fields.index("submitter") + 1 == fields.index("time_added")
        assert fields[-2:] == ["links", "_expanded"]
        assert _children(body, "review_request", "_expanded") == ["submitter", "target_people"]
        links = _children(body, "review_request", "links")
        assert links.index("reviews") < links.index("draft") < links.index("last_update")

    def test_json_keys_stay_sorted(self, anon_client, published):
        response = anon_client.get(f"/api/review-requests/{published.pk}/")
        text = response.content.decode()
        item = response.json()["review_request"]
        positions = [text.index(f'"{key}":') for key in item]
        assert positions == sorted(positions)
        assert list(item) == sorted(item)


def test_xml_expanded_child_notes_in_the_originals_order(owner_client, published):
    response = owner_client.get(
        "/api/review-requests/?expand=draft", HTTP_ACCEPT="application/xml"
    )
    assert response.status_code == 200
    body = response.content
    assert _children(body, "review_requests", "array", "item", "_expanded", "draft") == [
        "list_url",
        "list_mimetype",
        "item_mimetype",
    ]


def test_expanded_object_left_out_by_only_fields_has_no_link_either(anon_client, published):
    # Review Board 8.1 drops the link of every field named in expand, even when only-fields
    # leaves the expanded object out of the answer too (found by the differential replay).
    path = f"/api/review-requests/{published.pk}/?expand=submitter&only-fields=summary,id,links"
    item = assert_ok(anon_client.get(path))["review_request"]
    assert "submitter" not in item and "submitter" not in item["links"]
    assert "_expanded" not in item
    assert "self" in item["links"]
    # Without expand the link stays (only-fields leaves the field out, not its link).
    plain = f"/api/review-requests/{published.pk}/?only-fields=summary,id,links"
    assert "submitter" in assert_ok(anon_client.get(plain))["review_request"]["links"]


def test_an_empty_expanded_list_has_no_expanded_note(anon_client, published):
    # Review Board 8.1 writes ``_expanded`` for a list only when it has items (replay).
    path = f"/api/review-requests/{published.pk}/?expand=depends_on,target_people"
    item = assert_ok(anon_client.get(path))["review_request"]
    assert item["depends_on"] == []
    assert set(item["_expanded"]) == {"target_people"}


def test_an_embedded_review_request_links_its_latest_diff(owner_client, owner, published):
    # Review Board 8.1 links ``latest_diff`` on review requests inside change records and
    # expansions too (found by the replay), not only on those at their own URL.
    other = make_review_request(submitter=owner, publish=True, people=[owner])
    make_diffset(review_request=other, revision=1)
    path = f"/api/review-requests/{published.pk}/draft/"
    assert_ok(owner_client.put(path, f"depends_on={other.pk}", content_type=FORM))
    assert_ok(owner_client.put(path, "public=1", content_type=FORM))
    change = assert_ok(owner_client.get(f"/api/review-requests/{published.pk}/changes/"))
    added = change["changes"][0]["fields_changed"]["depends_on"]["added"][0]
    want = f"http://testserver/api/review-requests/{other.pk}/diffs/1/"
    assert added["links"]["latest_diff"] == {"href": want, "method": "GET"}
    expanded = assert_ok(
        owner_client.get(f"/api/review-requests/{published.pk}/?expand=depends_on")
    )["review_request"]["depends_on"][0]
    assert expanded["links"]["latest_diff"]["href"] == want
