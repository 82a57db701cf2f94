"""The replay tool's comparison: a wrong normalisation would hide or invent differences."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _load() -> ModuleType:
    path = Path(__file__).with_name("replay.py")
    spec = importlib.util.spec_from_file_location("fidelity_replay", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["fidelity_replay"] = module
    spec.loader.exec_module(module)
    return module


replay = _load()
REF = "http://127.0.0.1:8081"
OURS = "http://127.0.0.1:9999"


@pytest.fixture
def servers():
    ref, ours = replay.Server("ref", REF), replay.Server("rbapi", OURS)
    for server in (ref, ours):
        server.reset_ids(replay.SEEDED_IDS)
    # The fifth review request created: id 7 on the original, id 5 on rbapi.
    ref.bind("rr", "rr#new1", 7)
    ours.bind("rr", "rr#new1", 5)
    return ref, ours


def answer(status: int, body: dict, mimetype: str = "application/json", **headers: str):
    return replay.Answer(status, {"content-type": mimetype, **headers}, json.dumps(body).encode())


def rr_body(base: str, rr_id: int, summary: str, added: str) -> dict:
    return {
        "stat": "ok",
        "review_request": {
            "id": rr_id,
            "summary": summary,
            "time_added": added,
            "links": {"self": {"href": f"{base}/api/review-requests/{rr_id}/", "method": "GET"}},
        },
    }


def step(method: str = "GET", path: str = "/api/review-requests/{rr#new1}/") -> object:
    return replay.Step("admin", "cookie", method, path)


def test_ids_hosts_and_times_are_normalised_by_creation_order(servers):
    ref, ours = servers
    a = answer(200, rr_body(REF, 7, "S", "2026-11-29T08:00:00Z"), etag='"a"')
    b = answer(200, rr_body(OURS, 5, "S", "2026-11-29T08:00:01.5+00:00"), etag='"b"')
    assert replay.compare(step(), ref, ours, a, b) == []
    assert replay.resolve(ref, step().path) == "/api/review-requests/7/"
    assert replay.resolve(ours, step().path) == "/api/review-requests/5/"


def test_a_value_difference_is_reported_with_its_path(servers):
    ref, ours = servers
    a = answer(200, rr_body(REF, 7, "  S  ", "2026-11-29T08:00:00Z"))
    b = answer(200, rr_body(OURS, 5, "S", "2026-11-29T08:00:00Z"))
    diffs = replay.compare(step(), ref, ours, a, b)
    assert diffs == [("value .review_request.summary", ".review_request.summary: '  S  ' vs 'S'")]
    assert replay.step_signature(step("PUT"), diffs[0][0]) == (
        "PUT /api/review-requests/{id}/ · value .review_request.summary"
    )


def test_a_different_outcome_is_one_class_not_a_cascade(servers):
    ref, ours = servers
    a = answer(404, {"stat": "fail", "err": {"code": 100, "msg": "Object does not exist"}})
    b = answer(403, {"stat": "fail", "err": {"code": 101, "msg": "You don't have permission"}})
    diffs = replay.compare(step(), ref, ours, a, b)
    assert [kind for kind, _ in diffs] == ["outcome 404/100 vs 403/101"]


def test_links_to_unserved_resources_form_a_named_class(servers):
    ref, ours = servers
    body_a = rr_body(REF, 7, "S", "2026-11-29T08:00:00Z")
    body_a["review_request"]["links"]["webhooks"] = {"href": f"{REF}/x/", "method": "GET"}
    a = answer(200, body_a)
    b = answer(200, rr_body(OURS, 5, "S", "2026-11-29T08:00:00Z"))
    diffs = replay.compare(step(), ref, ours, a, b)
    assert [kind for kind, _ in diffs] == ["unserved webhooks"]
    assert replay.step_signature(step(), diffs[0][0]).startswith("links/fields to unserved")


def test_types_lengths_and_extra_keys_are_told_apart(servers):
    ref, ours = servers
    a = answer(200, {"stat": "ok", "total_results": 2, "items": [1, 2], "x": None})
    b = answer(200, {"stat": "ok", "total_results": "2", "items": [1], "y": {"z": 1}})
    kinds = {kind for kind, _ in replay.compare(step(), ref, ours, a, b)}
    assert kinds == {
        "type .total_results",
        "length .items",
        "missing .items[*]",
        "missing .x",
        "extra .y",
    }


def test_xml_element_order_is_compared(servers):
    ref, ours = servers
    xml = "application/xml"
    a = replay.Answer(200, {"content-type": xml}, b"<rsp><stat>ok</stat><links/></rsp>")
    b = replay.Answer(200, {"content-type": xml}, b"<rsp><links/><stat>ok</stat></rsp>")
    kinds = [kind for kind, _ in replay.compare(step(), ref, ours, a, b)]
    assert kinds == ["xml order (top level)"]


def test_the_sequence_is_reproducible():
    one = [replay.Generator(3).next().describe() for _ in range(1)]
    gen_a, gen_b = replay.Generator(3), replay.Generator(3)
    a = [gen_a.next().describe() for _ in range(50)]
    b = [gen_b.next().describe() for _ in range(50)]
    assert a == b and a[0] == one[0]
    assert a != [replay.Generator(4).next().describe() for _ in range(50)]
