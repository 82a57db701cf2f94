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


# --- Unstorable text (issue 10): refused once, in the parsing layer -----------------------------

CONTROL = "Control characters (other than tab, CR and LF) are not allowed."
INVALID = "Invalid Unicode (a lone surrogate or bad UTF-8) is not allowed."


@pytest.mark.django_db
class TestUnstorableText:
    @pytest.mark.parametrize(
        ("payload", "fields"),
        [
            ('{"display_name": "a\\ud800b"}', {"display_name": [INVALID]}),
            ('{"display_name": "bell\\u0007"}', {"display_name": [CONTROL]}),
            (
                '{"display_name": "nul\\u0000"}',
                {"display_name": ["Null characters are not allowed."]},
            ),
            ('{"extra_data": {"k": ["ok", {"deep": "\\u001b"}]}}', {"extra_data": [CONTROL]}),
            ('{"extra_data": {"\\udc00": 1}}', {"extra_data": [INVALID]}),
            ('{"bad\\u0001key": "x"}', {"bad\\u0001key": [CONTROL]}),
        ],
    )
    def test_json_keys_and_values_nested_included(self, admin_client, devs, payload, fields):
        response = admin_client.put("/api/groups/devs/", payload, content_type="application/json")
        assert assert_error(response, 400, 105)["fields"] == fields
        devs.refresh_from_db()
        assert (devs.display_name, devs.extra_data) == ("Developers", {})

    @pytest.mark.parametrize(
        ("body", "fields"),
        [
            ("display_name=a%ED%A0%80b", {"display_name": [INVALID]}),  # UTF-8 of U+D800
            ("display_name=%FF", {"display_name": [INVALID]}),
            ("display_name=a%07b", {"display_name": [CONTROL]}),
            ("x%01=1", {"x\\u0001": [CONTROL]}),
        ],
    )
    def test_urlencoded(self, admin_client, devs, body, fields):
        response = admin_client.put(
            "/api/groups/devs/", body, content_type="application/x-www-form-urlencoded"
        )
        assert assert_error(response, 400, 105)["fields"] == fields
        devs.refresh_from_db()
        assert devs.display_name == "Developers"

    def test_multipart(self, admin_client, devs):
        content = encode_multipart(BOUNDARY, {"display_name": "tab\tok\x0bbad"})
        response = admin_client.put(
            "/api/groups/devs/", content, content_type=f"multipart/form-data; boundary={BOUNDARY}"
        )
        assert assert_error(response, 400, 105)["fields"] == {"display_name": [CONTROL]}
        devs.refresh_from_db()
        assert devs.display_name == "Developers"

    def test_tab_newline_and_carriage_return_are_text(self, admin_client, devs):
        response = admin_client.put(
            "/api/groups/devs/",
            json.dumps({"display_name": "a\tb\r\nc"}),
            content_type="application/json",
        )
        assert_ok(response)
        devs.refresh_from_db()
        assert devs.display_name == "a\tb\r\nc"

    @pytest.mark.parametrize(
        ("query", "fields"),
        [
            ("q=%ED%A0%80", {"q": [INVALID]}),
            ("q=%01", {"q": [CONTROL]}),
            ("q=%00", {"q": ["Null characters are not allowed."]}),
        ],
    )
    def test_query_parameters(self, anon_client, query, fields):
        response = anon_client.get(f"/api/groups/?{query}")
        assert assert_error(response, 400, 105)["fields"] == fields

    def test_deep_json_nesting_is_105(self, admin_client, devs):
        payload = '{"extra_data": ' + "[" * 5000 + "]" * 5000 + "}"
        response = admin_client.put("/api/groups/devs/", payload, content_type="application/json")
        assert assert_error(response, 400, 105)["fields"]["body"]


# --- Bounded input (issue 10) ----------------------------------------------------------------


@pytest.mark.django_db
class TestLimits:
    def test_form_body_over_the_limit_is_413(self, admin_client, devs, settings):
        settings.RBAPI_MAX_FORM_BYTES = 1000
        response = admin_client.put(
            "/api/groups/devs/",
            "display_name=" + "x" * 2000,
            content_type="application/x-www-form-urlencoded",
        )
        body = assert_error(response, 413, 903)
        assert "1000 bytes" in body["err"]["msg"]
        devs.refresh_from_db()
        assert devs.display_name == "Developers"

    def test_json_body_over_the_default_limit_is_413(self, admin_client, devs):
        payload = json.dumps({"display_name": "x" * (1024 * 1024 + 1)})
        response = admin_client.put("/api/groups/devs/", payload, content_type="application/json")
        assert_error(response, 413, 903)

    def test_multipart_bodies_have_their_own_larger_limit(self, admin_client, devs, settings):
        settings.RBAPI_MAX_FORM_BYTES = 1000
        settings.RBAPI_MAX_BODY_BYTES = 100_000
        content = encode_multipart(BOUNDARY, {"display_name": "Multi", "pad": "p" * 500})
        response = admin_client.put(
            "/api/groups/devs/", content, content_type=f"multipart/form-data; boundary={BOUNDARY}"
        )
        assert_ok(response)
        big = encode_multipart(BOUNDARY, {"display_name": "Multi", "pad": "p" * 200_000})
        response = admin_client.put(
            "/api/groups/devs/", big, content_type=f"multipart/form-data; boundary={BOUNDARY}"
        )
        assert_error(response, 413, 903)

    def test_413_under_oauth2_too(self, anon_client, settings):
        settings.RBAPI_MAX_FORM_BYTES = 100
        response = anon_client.post(
            "/oauth2/token/",
            "grant_type=" + "x" * 200,
            content_type="application/x-www-form-urlencoded",
        )
        assert_error(response, 413, 903)

    def test_too_many_form_fields_is_105(self, admin_client, devs):
        body = "&".join(f"f{i}=1" for i in range(1001))
        response = admin_client.put(
            "/api/groups/devs/", body, content_type="application/x-www-form-urlencoded"
        )
        assert assert_error(response, 400, 105)["fields"] == {
            "body": ["Too many fields were sent (at most 1000 are allowed)."]
        }

    def test_too_many_multipart_fields_is_105(self, admin_client, devs):
        content = encode_multipart(BOUNDARY, {f"f{i}": "1" for i in range(1001)})
        response = admin_client.put(
            "/api/groups/devs/", content, content_type=f"multipart/form-data; boundary={BOUNDARY}"
        )
        assert "body" in assert_error(response, 400, 105)["fields"]

    def test_too_many_query_parameters_is_105(self, anon_client):
        response = anon_client.get("/api/groups/?" + "&".join(f"q{i}=1" for i in range(1001)))
        assert assert_error(response, 400, 105)["fields"] == {
            "query": ["Too many query parameters (at most 1000 are allowed)."]
        }

    def test_bad_host_is_an_envelope_not_djangos_page(self, anon_client, settings):
        settings.ALLOWED_HOSTS = ["rb.example.com"]
        response = anon_client.get("/api/", HTTP_HOST="evil.example.net")
        assert assert_error(response, 400, 105)["fields"] == {
            "Host": ["The Host header names a host this server does not serve."]
        }

    def test_malformed_multipart_is_105(self, admin_client, devs):
        response = admin_client.put(
            "/api/groups/devs/",
            b"--nope\r\ngarbage",
            content_type="multipart/form-data; boundary=",
        )
        assert_error(response, 400, 105)


# --- The body is read only once a write may happen (issue 10) ------------------------------------


@pytest.mark.django_db
class TestBodyReadOrder:
    @pytest.fixture
    def reads(self, monkeypatch):
        from rbapi.parsers import RBRequest

        calls = []
        original = RBRequest._load_data_and_files

        def spy(request):
            calls.append(request.path)
            return original(request)

        monkeypatch.setattr(RBRequest, "_load_data_and_files", spy)
        return calls

    def test_post_to_a_read_only_url_is_405_unread(self, admin_client, reads):
        response = admin_client.post("/api/info/", {"_method": "PUT", "x": "1"})
        assert_error(response, 405, 900)
        assert reads == []

    def test_anonymous_write_is_103_unread(self, anon_client, devs, reads):
        response = anon_client.post("/api/groups/devs/", {"_method": "PUT", "display_name": "X"})
        assert_error(response, 401, 103)
        assert reads == []
        devs.refresh_from_db()
        assert devs.display_name == "Developers"

    def test_logged_in_override_reads_the_body(self, admin_client, devs, reads):
        response = admin_client.post("/api/groups/devs/", {"_method": "PUT", "display_name": "Y"})
        assert_ok(response)
        assert reads
