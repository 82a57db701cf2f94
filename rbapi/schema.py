"""The OpenAPI 3 description of the API, generated from the resource registry.

Why a generator of ours and not drf-spectacular: spectacular introspects ``serializer_class``
and DRF's generic views, while a resource here is one ``APIView`` mounted twice
(``as_view(mode="list"|"item")``) whose output is its declared ``fields`` (``rbapi.fields``:
links, expansion, text types), whose methods are ``list_methods``/``item_methods``, whose
answers carry vendor mimetypes and Review Board's envelope, and whose inputs are validated
inside ``create``/``update``. Its hooks would see none of that, so every operation would need a
hand-written override that could drift. Walking the same tree the URL patterns come from
(``rbapi.registry.build_tree``) keeps the schema exact: a path exists here if and only if a
route exists, with the same placeholder regexes.

Everything is computed from static declarations, so the schema is built once per process
(``get_schema``). Declarations the resource classes do not carry yet are read with
``getattr(resource, name, default)`` and default to the tables below:

* ``schema_create_input`` / ``schema_update_input``: the ``RBSerializer`` class (or a JSON
  schema dict) of a POST / PUT body;
* ``schema_item_payload``: the JSON schema of the item payload of a resource whose output is not
  its ``fields`` (root, info, session, last-update);
* ``schema_field_types``: ``{field name: JSON schema}`` for computed fields (hooks).
"""

from __future__ import annotations

import functools
import importlib
import json
from typing import Any

import django_filters
from django.db import models
from django.http import HttpRequest, HttpResponse
from rest_framework import serializers

from rbapi import errors, fields, filters, inputs
from rbapi import registry as registry_module
from rbapi.negotiation import VENDOR_PREFIX
from rbapi.pagination import DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP
from rbapi.parsers import MAX_ID
from rbapi.registry import Route, build_tree

OPENAPI_VERSION = "3.0.3"
REF = "#/components/schemas/"

# --- declarations not (yet) on the resource classes ----------------------------------------------
# Input serializers by resource name: (POST, PUT). A string is "module:Class".
_INPUTS: dict[str, tuple[str | dict | None, str | dict | None]] = {
    "group": ("reviews.resources.groups:GroupInput", "reviews.resources.groups:GroupInput"),
    "review_group_user": ("reviews.resources.groups:GroupMemberInput", None),
    "oauth_app": ("oauth.resources:ApplicationInput", "oauth.resources:ApplicationInput"),
    "oauth_token": (None, "oauth.resources:TokenInput"),
    "api_token": ("webapi.resources:APITokenInput", "webapi.resources:APITokenInput"),
    "user": ("rbapi.users:UserCreateInput", "rbapi.users:UserUpdateInput"),
    "status_update": (
        "status_updates.resources:StatusUpdateCreateInput",
        "status_updates.resources:StatusUpdateUpdateInput",
    ),
    "review": ("reviews.resources.reviews:ReviewInput", "reviews.resources.reviews:ReviewInput"),
    "review_reply": (
        "reviews.resources.reviews:ReplyInput",
        "reviews.resources.reviews:ReplyInput",
    ),
    "review_general_comment": (
        "reviews.resources.comments:CommentInput",
        "reviews.resources.comments:CommentInput",
    ),
    "review_reply_general_comment": (
        "reviews.resources.comments:CommentInput",
        "reviews.resources.comments:CommentInput",
    ),
    "draft": ("reviews.resources.drafts:DraftInput", "reviews.resources.drafts:DraftInput"),
    # Parsed by hand in ReviewRequestResource.create/update: declared minimally here.
    "review_request": (
        {
            "submit_as": {"type": "string"},
            "repository": {"type": "string", "description": "ID, name or path"},
            "commit_id": {"type": "string"},
            "changenum": {"type": "string"},
            "create_from_commit_id": {"type": "boolean"},
            "create_with_history": {"type": "boolean"},
        },
        {
            "status": {"type": "string", "enum": ["pending", "discarded", "submitted"]},
            "close_description": {"type": "string"},
            "close_description_text_type": {"type": "string", "enum": ["plain", "markdown"]},
            "text_type": {"type": "string", "enum": ["plain", "markdown"]},
        },
    ),
}

# POST answers 303 with the existing object: the caller's one draft review or reply, and a
# reply's one comment per replied-to comment.
_SEE_OTHER = {"review", "review_reply", "review_reply_general_comment"}

_STRING = {"type": "string"}
_LINK_SCHEMA = {"$ref": REF + "Link"}
_LINKS = {"type": "object", "additionalProperties": _LINK_SCHEMA}
_ANY_OBJECT = {"type": "object", "additionalProperties": True}

# Payloads of resources whose answer is not built from ``fields``.
_PAYLOADS: dict[str, dict[str, Any]] = {
    "info": _ANY_OBJECT,
    "session": {
        "type": "object",
        "properties": {
            "authenticated": {"type": "boolean"},
            "links": _LINKS,
            "user": _ANY_OBJECT,
        },
        "required": ["authenticated"],
        "additionalProperties": True,
    },
    "last_update": {
        "type": "object",
        "properties": {
            "summary": _STRING,
            "timestamp": {"type": "string", "format": "date-time"},
            "type": {"type": "string", "enum": ["review-request", "diff", "review", "reply"]},
            "user": _ANY_OBJECT,
        },
        "additionalProperties": True,
    },
}

# Computed fields (``serialize_<name>_field`` hooks) by name, shared by every resource.
_FIELD_TYPES: dict[str, dict[str, Any]] = {
    "url": _STRING,
    "absolute_url": _STRING,
    "fullname": _STRING,
    "avatar_url": {"type": "string", "nullable": True},
    "avatar_urls": {"type": "object", "additionalProperties": _STRING},
    "avatar_html": {"type": "object", "additionalProperties": _STRING, "nullable": True},
    "text_type": {"type": "string", "enum": [*fields.TEXT_TYPES, None], "nullable": True},
    "commit_id": {"type": "string", "nullable": True},
    "branch": _STRING,
    "summary": _STRING,
    "id": {"type": "integer"},
    "status": _STRING,
    "public": {"type": "boolean"},
    "created_with_history": {"type": "boolean"},
    "state": _STRING,
    "bugs_closed": {"type": "array", "items": _STRING},
    "fields_changed": _ANY_OBJECT,
    "policy": _ANY_OBJECT,
    "redirect_uris": {"type": "array", "items": _STRING},
    "scope": {"type": "array", "items": _STRING},
    "application": _ANY_OBJECT,
    "token": _STRING,
    "deprecated": {"type": "boolean"},
    "expired": {"type": "boolean"},
    "valid": {"type": "boolean"},
    "approved": {"type": "boolean"},
    "approval_failure": {"type": "string", "nullable": True},
    "changenum": {"type": "integer", "nullable": True},
    "timeout": {"type": "integer", "nullable": True},
    "issue_status": {"type": "string", "nullable": True},
    "service_id": _STRING,
    "description": {"type": "string", "nullable": True},
    "tool": _STRING,
    "supports_post_commit": {"type": "boolean"},
    "requires_basedir": {"type": "boolean"},
    "requires_change_number": {"type": "boolean"},
}


# --- model and field types --------------------------------------------------------------------
def _model_field_schema(model: type[models.Model] | None, source: str) -> dict[str, Any] | None:
    """The JSON type of ``source`` on ``model`` (following dotted relations), or None."""
    if model is None:
        return None
    field: Any = None
    for part in source.split("."):
        try:
            field = model._meta.get_field(part)
        except Exception:
            return None
        model = getattr(field, "related_model", None)
    if field is None or field.is_relation:
        return None
    schema: dict[str, Any]
    if isinstance(field, models.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, models.AutoField | models.IntegerField):
        schema = {"type": "integer"}
    elif isinstance(field, models.FloatField | models.DecimalField):
        schema = {"type": "number"}
    elif isinstance(field, models.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, models.DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, models.JSONField):
        return None
    elif isinstance(field, models.CharField | models.TextField):
        schema = {"type": "string"}
    else:
        return None
    if field.null:
        schema["nullable"] = True
    return schema


def _field_schemas(resource: type) -> dict[str, dict[str, Any]]:
    """Each declared output field of ``resource`` -> its JSON schema."""
    overrides = getattr(resource, "schema_field_types", {})
    out: dict[str, dict[str, Any]] = {}
    for field in resource.fields:
        name = field.name
        if name in overrides:
            out[name] = overrides[name]
        elif isinstance(field, fields.ObjectField):
            target = _component_name(field.resource_name)
            out[name] = {
                "description": f"Null, or the {field.resource_name} itself with ?expand="
                f"{name} (otherwise a link in `links`).",
                "allOf": [{"$ref": REF + target}],
                "nullable": True,
            }
        elif isinstance(field, fields.ObjectListField):
            target = _component_name(field.resource_name)
            out[name] = {
                "type": "array",
                "description": f"Links to each {field.resource_name}, or the objects "
                f"themselves with ?expand={name}.",
                "items": {"anyOf": [_LINK_SCHEMA, {"$ref": REF + target}]},
            }
        elif isinstance(field, fields.RichTextField):
            out[name] = {"type": "string", "nullable": True}
            out[field.type_name] = {"type": "string", "enum": list(fields.TEXT_TYPES)}
        elif isinstance(field, fields.ExtraDataField):
            out[name] = {**_ANY_OBJECT, "description": "Public extra_data (no `__` keys)."}
            if field.empty_as_null:
                out[name]["nullable"] = True
        elif isinstance(field, fields.IsoDateTimeField):
            out[name] = {"type": "string", "format": "date-time", "nullable": True}
        else:
            # A ``serialize_<name>_field`` hook decides the value, not the model column.
            schema = None
            if not hasattr(resource, f"serialize_{name}_field"):
                schema = _model_field_schema(resource.model, field.source)
            out[name] = schema if schema is not None else _FIELD_TYPES.get(name, {})
    return out


def _component_name(resource_name: str) -> str:
    return "".join(part.capitalize() for part in resource_name.split("_"))


def _item_schema(resource: type) -> dict[str, Any]:
    payload = getattr(resource, "schema_item_payload", None) or _PAYLOADS.get(resource.name)
    if payload is not None:
        return payload
    properties = _field_schemas(resource)
    properties["links"] = _LINKS
    properties["_expanded"] = {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "properties": {"item_mimetype": _STRING},
        },
    }
    for kind in ("raw", *fields.TEXT_TYPES):
        properties[f"{kind}_text_fields"] = _ANY_OBJECT
    # No field is required: only-fields may leave any of them out.
    return {"type": "object", "properties": properties, "additionalProperties": True}


# --- inputs -----------------------------------------------------------------------------------
def _input_field_schema(field: serializers.Field) -> dict[str, Any]:
    if isinstance(field, inputs.BooleanField):
        schema: dict[str, Any] = {"type": "boolean"}
    elif isinstance(field, inputs.IntegerField):
        schema = {
            "type": "integer",
            "format": "int64",
            "minimum": field.min_value,
            "maximum": field.max_value,
        }
    elif isinstance(field, inputs.ChoiceField):
        schema = {"type": "string", "enum": list(field.choices)}
    elif isinstance(field, inputs.CommaListField):
        schema = {"type": "string", "description": "Comma-separated list"}
    elif isinstance(field, inputs.RelatedField):
        schema = {"type": "string", "description": "ID or name of the related object"}
    elif isinstance(field, serializers.CharField):
        schema = {"type": "string"}
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        for validator in field.validators:
            limit = getattr(validator, "limit_value", None)
            if type(validator).__name__ == "MaxLengthValidator" and isinstance(limit, int):
                schema["maxLength"] = limit
    else:
        schema = {}
    if getattr(field, "allow_null", False):
        schema["nullable"] = True
    return schema


def _load(spec: str | dict | type | None) -> Any:
    if isinstance(spec, str):
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)
    return spec


def _input_schema(resource: type, method: str) -> dict[str, Any] | None:
    index = 0 if method == "POST" else 1
    attr = "schema_create_input" if method == "POST" else "schema_update_input"
    spec = getattr(resource, attr, None) or _load(_INPUTS.get(resource.name, (None, None))[index])
    properties: dict[str, Any] = {}
    required: list[str] = []
    extra_data = False
    if isinstance(spec, dict):
        properties = dict(spec)
    elif isinstance(spec, type) and issubclass(spec, serializers.Serializer):
        extra_data = bool(getattr(spec, "extra_data", False))
        for name, field in spec().get_fields().items():
            if field.read_only:
                continue
            properties[name] = _input_field_schema(field)
            if field.required and method == "POST":
                required.append(name)
    elif method == "DELETE" or not spec:
        return None
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        # Output options and extra_data.<key> fields may come with any write.
        "additionalProperties": True,
    }
    if extra_data:
        schema["description"] = (
            "Also accepts `extra_data.<key>`, `extra_data:json` and `extra_data:json-patch`."
        )
    if required:
        schema["required"] = required
    return schema


# --- parameters -------------------------------------------------------------------------------
def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_ID}

OUTPUT_PARAMETERS = [
    _query("expand", _STRING, "Comma-separated fields to send in full instead of as links."),
    _query("only-fields", _STRING, "Comma-separated fields to send (empty: none)."),
    _query("only-links", _STRING, "Comma-separated links to send (empty: none)."),
    _query(
        "force-text-type",
        {"type": "string", "enum": list(fields.TEXT_TYPES)},
        "Render every text field in this type.",
    ),
    _query(
        "include-text-types",
        _STRING,
        "Comma-separated extra renderings (raw, plain, markdown, html) in *_text_fields.",
    ),
]
PAGING_PARAMETERS = [
    _query("start", _ID_SCHEMA, "0-based index of the first item (negatives count as 0)."),
    _query(
        "max-results",
        {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_RESULTS_CAP},
        f"Page size (default {DEFAULT_MAX_RESULTS}, capped at {MAX_RESULTS_CAP}).",
    ),
    _query(
        "counts-only",
        {"type": "string", "enum": ["1", "true"]},
        "Answer with only `count`, the number of matching items.",
    ),
]


def _filter_schema(flt: django_filters.Filter) -> dict[str, Any]:
    if isinstance(flt, filters.BooleanFilter):
        return {"type": "boolean"}
    if isinstance(flt, filters.NumberFilter):
        return {"type": "integer", "format": "int64", "minimum": -MAX_ID, "maximum": MAX_ID}
    if isinstance(flt, filters.IDFilter):
        return dict(_ID_SCHEMA)
    if isinstance(flt, filters.DateTimeFilter):
        return {"type": "string", "format": "date-time"}
    if isinstance(flt, filters.ChoiceFilter):
        return {"type": "string", "enum": list(flt.extra.get("choices", ()))}
    if isinstance(flt, filters.CommaListFilter):
        return {"type": "string", "description": "Comma-separated list"}
    return {"type": "string"}


def _filter_parameters(resource: type) -> list[dict[str, Any]]:
    filterset_class = resource.filterset_class
    if filterset_class is None:
        return []
    return [
        _query(name, _filter_schema(flt), f"Filter ({type(flt).__name__}).")
        for name, flt in filterset_class.base_filters.items()
    ]


# Examples for the docs' "Try it out" (the demo user, the README's group), and the first
# object of each kind otherwise.
_PATH_EXAMPLES = {"username": "admin", "group_name": "devs"}


def _path_parameters(template: str) -> list[dict[str, Any]]:
    params = []
    for match in registry_module._PLACEHOLDER.finditer(template):
        key = match.group(1)
        params.append(
            {
                "name": key,
                "in": "path",
                "required": True,
                # The very regex the URL pattern uses (rbapi.registry.Route.regex).
                "schema": {"type": "string", "pattern": f"^{registry_module._KEY_REGEXES[key]}$"},
                "example": _PATH_EXAMPLES.get(key, "1"),
            }
        )
    return params


# --- responses --------------------------------------------------------------------------------
def _content(mimetype_name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The vendor JSON and XML types (and plain JSON) of one payload."""
    return {
        f"{VENDOR_PREFIX}{mimetype_name}+json": {"schema": schema},
        f"{VENDOR_PREFIX}{mimetype_name}+xml": {"schema": schema},
        "application/json": {"schema": schema},
    }


_ERROR_STATUSES_BY_METHOD = {
    "GET": (400, 401, 403, 404, 429, 500, 501, 503),
    "POST": (400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503),
    "PUT": (400, 401, 403, 404, 405, 409, 412, 413, 429, 500, 503),
    "DELETE": (400, 401, 403, 404, 405, 409, 412, 429, 500, 503),
}


def _error_response(status: int) -> dict[str, Any]:
    codes = sorted(code for code, err in errors.ALL_ERRORS.items() if err.http_status == status)
    listed = ", ".join(f"{code} ({errors.ALL_ERRORS[code].error_type})" for code in codes)
    return {
        "description": f"Error envelope; `err.code` is one of: {listed}." if listed else "Error",
        "content": _content("error", {"$ref": REF + "Error"}),
    }


def _rate_limit_headers() -> dict[str, Any]:
    return {
        name: {"schema": {"type": "integer"}, "description": description}
        for name, description in (
            ("X-RateLimit-Limit", "Requests allowed in the window."),
            ("X-RateLimit-Remaining", "Requests left in the window."),
        )
    }


def _item_envelope(resource: type) -> dict[str, Any]:
    if resource.name == "root":
        return {
            "type": "object",
            "properties": {
                "stat": {"type": "string", "enum": ["ok"]},
                "links": _LINKS,
                "uri_templates": {"type": "object", "additionalProperties": _STRING},
            },
            "required": ["stat", "links", "uri_templates"],
            "additionalProperties": True,
        }
    if getattr(resource, "links_only", False):
        # Directory-like resources (``/api/validation/``) answer with their links alone.
        return {
            "type": "object",
            "properties": {"stat": {"type": "string", "enum": ["ok"]}, "links": _LINKS},
            "required": ["stat", "links"],
            "additionalProperties": True,
        }
    key = resource.item_result_key
    return {
        "type": "object",
        "properties": {
            "stat": {"type": "string", "enum": ["ok"]},
            key: {"$ref": REF + _component_name(resource.name)},
        },
        "required": ["stat", key],
        "additionalProperties": True,
    }


def _list_envelope(resource: type) -> dict[str, Any]:
    if getattr(resource, "bare_list", False):
        return _bare_list_envelope(resource)
    item = {"$ref": REF + _component_name(resource.name)}
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "stat": {"type": "string", "enum": ["ok"]},
                    resource.list_result_key: {"type": "array", "items": item},
                    "total_results": {"type": "integer", "minimum": 0},
                    "links": _LINKS,
                },
                "required": ["stat", resource.list_result_key, "total_results", "links"],
                "additionalProperties": True,
            },
            {
                "type": "object",
                "description": "With ?counts-only=1",
                "properties": {
                    "stat": {"type": "string", "enum": ["ok"]},
                    "count": {"type": "integer", "minimum": 0},
                },
                "required": ["stat", "count"],
                "additionalProperties": False,
            },
        ]
    }


def _bare_list_envelope(resource: type) -> dict[str, Any]:
    """Review Board's unpaged lists (the watched lists): no links, no total, each entry
    ``{"id": ..., <item key>: <the object, or a bare link where a token may not read it>}``."""
    target = {"$ref": REF + _component_name(resource.target)}
    entry = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            resource.item_result_key: {"anyOf": [target, _LINK_SCHEMA]},
        },
        "required": ["id", resource.item_result_key],
    }
    return {
        "type": "object",
        "properties": {
            "stat": {"type": "string", "enum": ["ok"]},
            resource.list_result_key: {"type": "array", "items": entry},
        },
        "required": ["stat", resource.list_result_key],
        "additionalProperties": True,
    }


def _operation(route: Route, method: str) -> dict[str, Any]:
    resource = route.resource
    is_list = route.mode == "list"
    mimetype = (
        resource.mimetype_list_resource_name
        if is_list and method == "GET"
        else resource.mimetype_item_resource_name
    )
    parameters: list[dict[str, Any]] = []
    if method == "GET":
        if is_list:
            parameters += PAGING_PARAMETERS + _filter_parameters(resource)
        parameters += OUTPUT_PARAMETERS
    responses: dict[str, Any] = {}
    headers = _rate_limit_headers()
    redirect = getattr(resource, "target", "") if resource.name.endswith("_draft") else ""
    if method == "GET" and redirect:
        responses["302"] = {
            "description": f"Redirect to the caller's unpublished {redirect}.",
            "headers": {"Location": {"schema": _STRING}, **headers},
        }
    elif method == "GET":
        envelope = _list_envelope(resource) if is_list else _item_envelope(resource)
        responses["200"] = {
            "description": "The list" if is_list else "The item",
            "headers": headers,
            "content": _content(mimetype, envelope),
        }
        responses["304"] = {"description": "Not modified (If-None-Match matched the ETag)."}
    elif method in ("POST", "PUT"):
        content = _content(resource.mimetype_item_resource_name, _item_envelope(resource))
        if method == "POST":
            responses["201"] = {"description": "Created", "headers": headers, "content": content}
            if getattr(resource, "schema_post_see_other", resource.name in _SEE_OTHER):
                responses["303"] = {
                    "description": "The object already existed and was updated (Location).",
                    "headers": {"Location": {"schema": _STRING}, **headers},
                    "content": content,
                }
        responses["200"] = {"description": "Done", "headers": headers, "content": content}
        if method == "POST" and set(resource.item_methods) & {"PUT", "DELETE"}:
            # ``POST`` with ``_method=PUT|DELETE`` is handled as that method.
            responses["204"] = {"description": "Deleted (POST with _method=DELETE)."}
    elif method == "DELETE":
        responses["204"] = {"description": "Deleted", "headers": headers}
    for status in _ERROR_STATUSES_BY_METHOD[method]:
        responses[str(status)] = _error_response(status)
    operation: dict[str, Any] = {
        "operationId": f"{resource.name}-{route.mode}-{method.lower()}",
        "tags": [resource.name],
        "summary": f"{method} {'list of' if is_list else ''} {resource.name}".replace("  ", " "),
        "parameters": parameters,
        "responses": responses,
        "x-rb-error-codes": sorted(
            code
            for code, err in errors.ALL_ERRORS.items()
            if err.http_status in _ERROR_STATUSES_BY_METHOD[method]
        ),
    }
    if method in ("POST", "PUT"):
        body = _input_schema(resource, method)
        if body is not None:
            operation["requestBody"] = {
                "required": False,
                "content": {
                    "application/x-www-form-urlencoded": {"schema": body},
                    "multipart/form-data": {"schema": body},
                    "application/json": {"schema": body},
                },
            }
    return operation


# --- the document -----------------------------------------------------------------------------
def _components(resources: list[type]) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Link": {
            "type": "object",
            "properties": {
                "href": _STRING,
                "method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]},
                "title": _STRING,
            },
            "required": ["href", "method"],
            "additionalProperties": False,
        },
        "Error": {
            "type": "object",
            "properties": {
                "stat": {"type": "string", "enum": ["fail"]},
                "err": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "integer", "enum": sorted(errors.ALL_ERRORS)},
                        "msg": _STRING,
                        "type": _STRING,
                    },
                    "required": ["code", "msg", "type"],
                },
                "fields": {
                    "type": "object",
                    "description": "Per-field messages of error 105.",
                    "additionalProperties": {
                        "oneOf": [{"type": "array", "items": _STRING}, _STRING]
                    },
                },
            },
            "required": ["stat", "err"],
            "additionalProperties": True,
        },
    }
    for resource in resources:
        schemas[_component_name(resource.name)] = _item_schema(resource)
    return {
        "schemas": schemas,
        "securitySchemes": {
            "basic": {"type": "http", "scheme": "basic"},
            "apiToken": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Authorization: token <API token>` (RBTools' --api-token).",
            },
            "oauth2": {
                "type": "oauth2",
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": "/oauth2/authorize/",
                        "tokenUrl": "/oauth2/token/",
                        "scopes": {},
                    }
                },
                "description": "`Authorization: Bearer <token>`; scopes are `<resource>:<verb>`.",
            },
            "session": {"type": "apiKey", "in": "cookie", "name": "rbsessionid"},
        },
    }


def build_schema() -> dict[str, Any]:
    """The OpenAPI document of every route of the registry (uncached)."""
    routes = build_tree()
    paths: dict[str, Any] = {}
    resources: list[type] = []
    for route in routes:
        if route.resource not in resources:
            resources.append(route.resource)
        methods = (
            route.resource.list_methods if route.mode == "list" else route.resource.item_methods
        )
        item = {method.lower(): _operation(route, method) for method in methods}
        params = _path_parameters(route.template)
        if params:
            item["parameters"] = params
        paths[route.template] = item
    security = [{"basic": []}, {"apiToken": []}, {"oauth2": []}, {"session": []}, {}]
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Review Board web API (rbapi)",
            "version": "2.0",
            "description": "Every resource under /api/, generated from rbapi's resource "
            "registry. Answers are Review Board's envelope: `stat` plus the result key; "
            "errors are `{stat: fail, err: {code, msg, type}}`.",
        },
        "paths": paths,
        "components": _components(resources),
        "security": security,
    }


@functools.cache
def get_schema() -> dict[str, Any]:
    """The schema, built once per process (it depends on static declarations only)."""
    return build_schema()


@functools.cache
def schema_json() -> bytes:
    return json.dumps(get_schema(), indent=1, sort_keys=False).encode()


@functools.cache
def schema_yaml() -> bytes:
    import yaml

    return yaml.safe_dump(get_schema(), sort_keys=False, allow_unicode=True).encode()


def _wants_yaml(request: HttpRequest) -> bool:
    fmt = request.GET.get("format")
    if fmt:
        return fmt in ("yaml", "yml", "openapi")
    accept = request.META.get("HTTP_ACCEPT", "").lower()
    return any(
        media in accept for media in ("application/yaml", "application/x-yaml", "text/yaml")
    )


def schema_view(request: HttpRequest) -> HttpResponse:
    """``/api/schema/``: the OpenAPI document, JSON by default, YAML on request."""
    if request.method not in ("GET", "HEAD"):
        from rbapi.views import _error_response

        response = _error_response(request, errors.METHOD_NOT_ALLOWED)
        response["Allow"] = "GET, HEAD"
        return response
    if _wants_yaml(request):
        response = HttpResponse(schema_yaml(), content_type="application/yaml; charset=utf-8")
    else:
        response = HttpResponse(schema_json(), content_type="application/json; charset=utf-8")
    response["Vary"] = "Accept"
    response["Cache-Control"] = "public, max-age=300"
    return response
