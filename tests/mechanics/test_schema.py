"""The API's OpenAPI schema (/api/schema/), its local docs (/api/docs/) and the commands.

What a client sees: every route of the registry is a documented path with its methods and
path-parameter regexes, answers of real requests validate against the documented schema for
their status and content type, and the docs page loads only local assets.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import jsonschema_rs
import pytest
import yaml
from django.core.management import call_command
from django.test import Client

from rbapi.registry import build_tree
from rbapi.schema import get_schema

pytestmark = pytest.mark.django_db

BASIC = {"HTTP_AUTHORIZATION": "Basic YWRtaW46YWRtaW4="}  # admin:admin


def _nullable_to_json_schema(value: Any) -> Any:
    """OpenAPI 3.0 ``nullable`` as JSON Schema (as schemathesis reads it)."""
    if isinstance(value, dict):
        value = {key: _nullable_to_json_schema(item) for key, item in value.items()}
        if value.pop("nullable", False):
            return {"anyOf": [value, {"type": "null"}]}
        return value
    if isinstance(value, list):
        return [_nullable_to_json_schema(item) for item in value]
    return value


def _validate(template: str, method: str, response: Any) -> None:
    """The response's status and content type are documented and its body validates."""
    schema = get_schema()
    documented = schema["paths"][template][method.lower()]["responses"]
    assert str(response.status_code) in documented, (template, method, response.status_code)
    content = documented[str(response.status_code)].get("content")
    if not content:
        return
    content_type = response["Content-Type"].split(";")[0]
    assert content_type in content, (template, content_type, sorted(content))
    body_schema = _nullable_to_json_schema(
        {**content[content_type]["schema"], "components": schema["components"]}
    )
    errors = [
        error.message
        for error in jsonschema_rs.validator_for(body_schema).iter_errors(
            json.loads(response.content)
        )
    ]
    assert not errors, (template, errors[:3])


@pytest.fixture
def admin(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "admin")


def test_schema_has_every_route_method_and_path_regex() -> None:
    schema = Client().get("/api/schema/").json()
    assert schema["openapi"].startswith("3.")
    routes = build_tree()
    assert sorted(schema["paths"]) == sorted({route.template for route in routes})
    for route in routes:
        methods = (
            route.resource.list_methods if route.mode == "list" else route.resource.item_methods
        )
        item = schema["paths"][route.template]
        assert sorted(key for key in item if key != "parameters") == sorted(
            method.lower() for method in methods
        )
        # The documented placeholders, matched with their patterns, give back the route.
        path = route.template
        for param in item.get("parameters", []):
            assert param["in"] == "path" and param["required"]
            pattern = param["schema"]["pattern"]
            sample = {"[0-9]+": "12"}.get(pattern.strip("^$"), "abc")
            assert re.match(pattern, sample)
            path = path.replace("{" + param["name"] + "}", sample)
        assert re.match(route.regex, path[1:]), (route.template, path)


def test_schema_describes_mimetypes_envelope_errors_parameters_and_auth() -> None:
    schema = get_schema()
    groups = schema["paths"]["/api/groups/"]["get"]
    ok = groups["responses"]["200"]["content"]
    assert set(ok) == {
        "application/vnd.reviewboard.org.review-groups+json",
        "application/vnd.reviewboard.org.review-groups+xml",
        "application/json",
    }
    envelope = ok["application/json"]["schema"]["oneOf"][0]
    assert envelope["required"] == ["stat", "groups", "total_results", "links"]
    names = {param["name"] for param in groups["parameters"]}
    assert {"start", "max-results", "counts-only", "expand", "only-fields", "only-links"} <= names
    assert {"q", "invite-only"} <= names  # the GroupFilterSet's filters
    not_found = groups["responses"]["404"]
    assert "100 (resource-does-not-exist)" in not_found["description"]
    assert not_found["content"]["application/vnd.reviewboard.org.error+json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    error = schema["components"]["schemas"]["Error"]
    assert (
        error["required"] == ["stat", "err"]
        and 105 in error["properties"]["err"]["properties"]["code"]["enum"]
    )
    # Field types of the item payload, from the declarations and the model.
    group = schema["components"]["schemas"]["Group"]["properties"]
    assert group["id"]["type"] == "integer" and group["visible"]["type"] == "boolean"
    assert group["name"]["type"] == "string" and group["extra_data"]["type"] == "object"
    request_fields = schema["components"]["schemas"]["ReviewRequest"]["properties"]
    assert request_fields["time_added"]["format"] == "date-time"
    assert request_fields["description_text_type"]["enum"] == ["plain", "markdown", "html"]
    # Request bodies: form, multipart and JSON, typed known fields, others allowed.
    body = schema["paths"]["/api/groups/"]["post"]["requestBody"]["content"]
    assert set(body) == {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json",
    }
    form = body["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["name", "display_name"] and form["additionalProperties"]
    assert form["properties"]["invite_only"]["type"] == "boolean"
    assert form["properties"]["name"]["maxLength"] == 64
    schemes = schema["components"]["securitySchemes"]
    assert schemes["basic"]["scheme"] == "basic"
    assert schemes["apiToken"]["name"] == "Authorization"
    assert schemes["oauth2"]["type"] == "oauth2"
    assert schemes["session"] == {"type": "apiKey", "in": "cookie", "name": "rbsessionid"}
    # The one resource that always answers 501 documents it.
    info = schema["paths"]["/api/repositories/{repository_id}/info/"]["get"]["responses"]
    assert "209 (repository-request-not-supported)" in info["501"]["description"]


def test_schema_is_yaml_on_request_and_cached() -> None:
    client = Client()
    by_query = client.get("/api/schema/?format=yaml")
    by_accept = client.get("/api/schema/", HTTP_ACCEPT="application/yaml")
    as_json = client.get("/api/schema/")
    assert by_query["Content-Type"].startswith("application/yaml")
    assert by_accept["Content-Type"].startswith("application/yaml")
    assert as_json["Content-Type"].startswith("application/json")
    assert yaml.safe_load(by_query.content) == json.loads(as_json.content) == get_schema()
    assert get_schema() is get_schema()
    refused = client.post("/api/schema/")
    assert refused.status_code == 405 and refused.json()["err"]["code"] == 900


def test_unknown_api_urls_still_reach_the_api_404() -> None:
    for url in ("/api/schema/x", "/api/docs/nosuch", "/api/docs/assets/../settings.py"):
        response = Client().get(url)
        assert response.status_code == 404
        assert response.json()["err"]["code"] == 100


def test_real_answers_validate_against_the_schema(admin: Any) -> None:
    client = Client(**BASIC)
    created = client.post("/api/groups/", {"name": "devs", "display_name": "Devs"})
    _validate("/api/groups/", "POST", created)
    request = client.post("/api/review-requests/", {})
    _validate("/api/review-requests/", "POST", request)
    rid = request.json()["review_request"]["id"]
    review = client.post(f"/api/review-requests/{rid}/reviews/", {"body_top": "Hi"})
    _validate("/api/review-requests/{review_request_id}/reviews/", "POST", review)
    for template, url in [
        ("/api/", "/api/"),
        ("/api/groups/", "/api/groups/"),
        ("/api/groups/", "/api/groups/?counts-only=1"),
        ("/api/groups/{group_name}/", "/api/groups/devs/"),
        ("/api/users/", "/api/users/?expand=x"),
        ("/api/users/{username}/", "/api/users/admin/"),
        ("/api/review-requests/", "/api/review-requests/"),
        (
            "/api/review-requests/{review_request_id}/",
            f"/api/review-requests/{rid}/?expand=submitter",
        ),
        ("/api/review-requests/{review_request_id}/draft/", f"/api/review-requests/{rid}/draft/"),
        (
            "/api/review-requests/{review_request_id}/reviews/",
            f"/api/review-requests/{rid}/reviews/",
        ),
        (
            "/api/review-requests/{review_request_id}/reviews/draft/",
            f"/api/review-requests/{rid}/reviews/draft/",
        ),
        (
            "/api/review-requests/{review_request_id}/last-update/",
            f"/api/review-requests/{rid}/last-update/",
        ),
        ("/api/session/", "/api/session/"),
        ("/api/info/", "/api/info/"),
        ("/api/review-requests/{review_request_id}/", "/api/review-requests/999/"),
        ("/api/groups/", "/api/groups/?max-results=x"),
    ]:
        _validate(template, "GET", client.get(url, HTTP_ACCEPT="application/json"))
    deleted = client.delete("/api/groups/devs/")
    _validate("/api/groups/{group_name}/", "DELETE", deleted)


def test_docs_page_and_every_asset_it_references_are_local() -> None:
    client = Client()
    page = client.get("/api/docs/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert not re.search(r"(https?:)?//", html), "no external (or protocol-relative) URL"
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(references) == 5
    expected = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}
    for url in references:
        assert url.startswith("/api/docs/")
        response = client.get(url)
        assert response.status_code == 200, url
        kind = next(value for suffix, value in expected.items() if url.endswith(suffix))
        assert response["Content-Type"].startswith(kind), (url, response["Content-Type"])
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(body) > 50
    init = client.get("/api/docs/init.js").content.decode()
    assert 'url: "/api/schema/"' in init


def test_schema_command_and_generateschema_print_the_schema() -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("schema", stdout=out)
    assert json.loads(out.getvalue()) == get_schema()
    out = io.StringIO()
    call_command("schema", "--format", "yaml", stdout=out)
    assert yaml.safe_load(out.getvalue()) == get_schema()
    out = io.StringIO()
    call_command("generateschema", stdout=out, stderr=err)
    assert json.loads(out.getvalue()) == get_schema()
    assert "DRF's generator cannot describe" in err.getvalue()
