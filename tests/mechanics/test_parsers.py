"""rbapi.parsers: form, multipart and JSON bodies on POST and PUT, ``_method``, booleans."""

from __future__ import annotations

import json

import pytest
from django.test.client import MULTIPART_CONTENT, encode_multipart

from rbapi.errors import WebAPIException
from rbapi.parsers import parse_bool, parse_comma_list, parse_int
from reviews.models import Group

from ..conftest import assert_error, assert_ok


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("0", False),
        ("false", False),
        ("yes", False),
        ("", False),
        (True, True),
    ],
)
def test_parse_bool(value, expected):
    assert parse_bool(value) is expected


def test_parse_int_error_is_105_in_review_board_words():
    with pytest.raises(WebAPIException) as info:
        parse_int("max-results", "abc")
    assert info.value.payload()["fields"] == {"max-results": ['"abc" is not an integer']}


def test_parse_comma_list():
    assert parse_comma_list("doc, admin,,") == ["doc", "admin"]
    assert parse_comma_list('["doc", "admin"]') == ["doc", "admin"]
    assert parse_comma_list("") == []


@pytest.fixture
def devs(db):
    return Group.objects.create(name="devs", display_name="Developers")


BOUNDARY = "===============8675309=="


@pytest.mark.django_db
class TestBodies:
    def test_put_urlencoded(self, admin_client, devs):
        response = admin_client.put(
            "/api/groups/devs/",
            "display_name=Dev+Team&visible=0",
            content_type="application/x-www-form-urlencoded",
        )
        body = assert_ok(response, mimetype="review-group")
        assert body["group"]["display_name"] == "Dev Team"
        devs.refresh_from_db()
        assert (devs.display_name, devs.visible) == ("Dev Team", False)

    def test_put_multipart_as_rbtools_sends_it(self, admin_client, devs):
        content = encode_multipart(BOUNDARY, {"display_name": "Multi", "invite_only": "True"})
        response = admin_client.put(
            "/api/groups/devs/", content, content_type=f"multipart/form-data; boundary={BOUNDARY}"
        )
        assert_ok(response)
        devs.refresh_from_db()
        assert (devs.display_name, devs.invite_only) == ("Multi", True)

    def test_put_json(self, admin_client, devs):
        response = admin_client.put(
            "/api/groups/devs/",
            json.dumps({"display_name": "Json", "invite_only": True}),
            content_type="application/json",
        )
        assert_ok(response)
        devs.refresh_from_db()
        assert (devs.display_name, devs.invite_only) == ("Json", True)

    def test_malformed_json_is_105_and_stores_nothing(self, admin_client, devs):
        response = admin_client.put("/api/groups/devs/", "{nope", content_type="application/json")
        body = assert_error(response, 400, 105)
        assert "body" in body["fields"]
        devs.refresh_from_db()
        assert devs.display_name == "Developers"

    def test_method_override_put(self, admin_client, devs):
        response = admin_client.post(
            "/api/groups/devs/",
            {"_method": "PUT", "display_name": "Over"},
            content_type=MULTIPART_CONTENT,
        )
        assert_ok(response)
        assert Group.objects.get(pk=devs.pk).display_name == "Over"

    def test_method_override_delete(self, admin_client, devs):
        response = admin_client.post("/api/groups/devs/", {"_method": "DELETE"})
        assert response.status_code == 204
        assert not Group.objects.filter(pk=devs.pk).exists()

    def test_query_string_on_post_shapes_the_response(self, admin_client):
        response = admin_client.post(
            "/api/groups/?only-fields=name&only-links=", {"name": "qa", "display_name": "QA"}
        )
        body = assert_ok(response, 201)
        assert body["group"] == {"name": "qa"}

    def test_body_field_selection_on_put(self, admin_client, devs):
        response = admin_client.put(
            "/api/groups/devs/",
            "display_name=X&only_fields=id",
            content_type="application/x-www-form-urlencoded",
        )
        assert set(assert_ok(response)["group"]) == {"id", "links"}
