"""rbapi.fields and rbapi.text: rich text on the wire and in storage, field selection."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.http import QueryDict
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from rbapi.errors import WebAPIException
from rbapi.fields import (
    Output,
    RichTextField,
    SerializeContext,
    apply_text_type,
    format_datetime,
)
from rbapi.text import markdown_escape, markdown_unescape, render_markdown

from ..conftest import assert_ok


def ctx_for(query: str = "") -> SerializeContext:
    request = Request(APIRequestFactory().get(f"/api/x/?{query}"))
    return SerializeContext.from_request(request, {})


def serialize(field, obj, ctx) -> dict:
    out = Output()
    field.serialize(None, obj, ctx, out)
    out.data.update(out.text_blocks)
    return out.data


def test_datetimes_drop_microseconds_and_use_z():
    value = datetime.datetime(2026, 11, 23, 13, 27, 19, 123456, tzinfo=datetime.UTC)
    assert format_datetime(value) == "2026-11-23T13:27:19Z"
    offset = datetime.timezone(datetime.timedelta(hours=2))
    assert format_datetime(value.astimezone(offset)) == "2026-11-23T13:27:19Z"


class TestMarkdownText:
    def test_escape_and_unescape_round_trip(self):
        text = "*bold* text with [link](x) and `code` and a_b_c\n# heading\n- item\n1. one"
        escaped = markdown_escape(text)
        assert escaped.startswith("\\*bold\\* text")
        assert "a_b_c" in escaped  # underscores inside a word stay
        assert "\\# heading" in escaped and "\\- item" in escaped and "1\\. one" in escaped
        assert markdown_unescape(escaped) == text

    @pytest.mark.parametrize(
        "vector",
        [
            "<script>alert(1)</script>",
            '<img src=x onerror="alert(1)">',
            "[click](javascript:alert(1))",
            '<a href="javascript:alert(1)">x</a>',
            "<iframe src=//evil></iframe>",
            '<div style="background:url(javascript:alert(1))">x</div>',
        ],
    )
    def test_rendered_html_is_sanitised(self, vector):
        html = render_markdown(vector).lower()
        assert "<script" not in html and "onerror" not in html
        assert "javascript:" not in html and "<iframe" not in html and "style=" not in html

    def test_markdown_renders(self):
        assert render_markdown("This adds a **frobnicator**.") == (
            "<p>This adds a <strong>frobnicator</strong>.</p>"
        )


class TestRichTextField:
    obj = SimpleNamespace(description="*bold* text", description_rich_text=False)
    field = RichTextField("description")

    def test_text_type_is_always_sent(self):
        assert serialize(self.field, self.obj, ctx_for()) == {
            "description": "*bold* text",
            "description_text_type": "plain",
        }
        data = serialize(self.field, self.obj, ctx_for("only-fields=id"))
        assert data == {"description_text_type": "plain"}

    def test_force_and_include_text_types(self):
        data = serialize(
            self.field, self.obj, ctx_for("force-text-type=html&include-text-types=raw,markdown")
        )
        assert data == {
            "description": "*bold* text",
            "description_text_type": "html",
            "markdown_text_fields": {
                "description": "\\*bold\\* text",
                "description_text_type": "markdown",
            },
            "raw_text_fields": {"description": "*bold* text", "description_text_type": "plain"},
        }

    def test_markdown_to_html_renders(self):
        obj = SimpleNamespace(description="**b** <script>x</script>", description_rich_text=True)
        data = serialize(self.field, obj, ctx_for("force-text-type=html"))
        assert data["description"].startswith("<p><strong>b</strong>")
        assert "<script" not in data["description"]

    def test_bad_force_text_type_is_ignored_on_get(self):
        # Review Board 8.1 ignores it; only a write's ``force_text_type`` body field is 105.
        assert ctx_for("force-text-type=rtf").force_text_type is None


class TestApplyTextType:
    def make(self, text, rich):
        return SimpleNamespace(description=text, description_rich_text=rich)

    def test_new_text_is_stripped_and_typed(self):
        obj = self.make("", False)
        changed = apply_text_type(
            obj, "description", QueryDict("description=++hi+&description_text_type=markdown")
        )
        assert (obj.description, obj.description_rich_text) == ("hi", True)
        assert set(changed) == {"description", "description_rich_text"}

    def test_type_change_alone_escapes_or_unescapes(self):
        obj = self.make("*x*", False)
        apply_text_type(obj, "description", QueryDict("description_text_type=markdown"))
        assert (obj.description, obj.description_rich_text) == ("\\*x\\*", True)
        apply_text_type(obj, "description", QueryDict("description_text_type=plain"))
        assert (obj.description, obj.description_rich_text) == ("*x*", False)

    def test_legacy_text_type_applies(self):
        obj = self.make("a", False)
        apply_text_type(obj, "description", QueryDict("text_type=markdown"))
        assert obj.description_rich_text is True

    def test_unknown_type_is_105_and_changes_nothing(self):
        obj = self.make("a", False)
        with pytest.raises(WebAPIException):
            apply_text_type(obj, "description", QueryDict("description_text_type=html"))
        assert (obj.description, obj.description_rich_text) == ("a", False)


@pytest.mark.django_db
class TestFieldSelection:
    @pytest.fixture(autouse=True)
    def group(self, admin):
        from reviews.models import Group

        group = Group.objects.create(name="devs", display_name="Devs")
        group.users.add(admin)

    def test_only_fields_and_only_links(self, anon_client):
        body = assert_ok(anon_client.get("/api/groups/devs/?only-fields=id,name&only-links=self"))
        assert set(body["group"]) == {"id", "name", "links"}
        assert set(body["group"]["links"]) == {"self"}

    def test_empty_only_links_removes_links(self, anon_client):
        body = assert_ok(anon_client.get("/api/groups/devs/?only-links="))
        assert "links" not in body["group"]

    def test_empty_only_fields_keeps_links_only(self, anon_client):
        body = assert_ok(anon_client.get("/api/groups/devs/?only-fields="))
        assert set(body["group"]) == {"links"}

    def test_only_links_applies_to_list_items_not_the_list(self, anon_client):
        body = assert_ok(anon_client.get("/api/groups/?only-links=self"))
        assert set(body["groups"][0]["links"]) == {"self"}
        assert {"self", "create"} <= set(body["links"])

    def test_expand_a_child_list(self, anon_client):
        body = assert_ok(anon_client.get("/api/groups/devs/?expand=review_group_users"))
        group = body["group"]
        assert [user["username"] for user in group["review_group_users"]] == ["admin"]
        assert "review_group_users" not in group["links"]
        assert group["_expanded"]["review_group_users"] == {
            "item_mimetype": "application/vnd.reviewboard.org.review-group-user+json",
            "list_mimetype": "application/vnd.reviewboard.org.review-group-users+json",
            "list_url": "http://testserver/api/groups/devs/users/",
        }

    def test_expand_wildcard_does_nothing(self, anon_client):
        body = assert_ok(anon_client.get("/api/groups/devs/?expand=*"))
        assert "_expanded" not in body["group"]

    def test_bad_include_text_types_is_ignored_on_get(self, anon_client):
        # Review Board 8.1 ignores an unknown text type in a read's query string.
        assert_ok(anon_client.get("/api/groups/?include-text-types=rtf"))
