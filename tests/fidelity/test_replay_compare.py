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


def test_xml_ids_are_normalised_by_creation_order(servers):
    ref, ours = servers
    xml = "application/xml"

    def body(base: str, rr_id: int) -> bytes:
        href = f"{base}/api/review-requests/{rr_id}/"
        return (
            f"<rsp><stat>ok</stat><review_request><id>{rr_id}</id><links><self><href>{href}"
            "</href></self></links></review_request></rsp>"
        ).encode()

    a = replay.Answer(200, {"content-type": xml}, body(REF, 7))
    b = replay.Answer(200, {"content-type": xml}, body(OURS, 5))
    assert replay.compare(step(), ref, ours, a, b) == []
    c = replay.Answer(200, {"content-type": xml}, body(OURS, 4))
    assert next(kind for kind, _ in replay.compare(step(), ref, ours, a, c)).startswith(
        "xml value rsp/review_request/id"
    )


def test_the_repository_path_is_each_servers_own(servers):
    ref, ours = servers
    a = answer(200, {"stat": "ok", "path": "/root/.cache/rbapi-refserver/gitrepo"})
    b = answer(200, {"stat": "ok", "path": "/tmp/rbapi-replay-x/seed/gitrepo"})
    assert replay.compare(step(), ref, ours, a, b) == []


def test_a_step_naming_an_object_that_already_differs_is_a_knock_on(servers):
    ref, ours = servers
    a = answer(200, rr_body(REF, 7, "S", "2026-11-29T08:00:00Z"))
    b = answer(200, rr_body(OURS, 5, "T", "2026-11-29T08:00:00Z"))
    assert replay.knock_on(step(), {"rr#new1"}, ref, ours, a, b)
    assert not replay.knock_on(step(), {"rr#new2"}, ref, ours, a, b)


def test_a_list_differing_only_by_such_objects_is_a_knock_on(servers):
    ref, ours = servers
    ref.bind("rr", "rr#new2", 8)

    def listing(base: str, ids: list[int]) -> dict:
        items = [rr_body(base, i, "S", "2026-11-29T08:00:00Z")["review_request"] for i in ids]
        return {"stat": "ok", "review_requests": items, "total_results": len(items)}

    lister = step("GET", "/api/review-requests/")
    a, b = answer(200, listing(REF, [7, 8])), answer(200, listing(OURS, [5]))
    assert replay.knock_on(lister, {"rr#new2"}, ref, ours, a, b)
    assert not replay.knock_on(lister, set(), ref, ours, a, b)
    # Left out too: links to such objects inside other items, and the counts.
    a_body = listing(REF, [7])
    a_body["review_requests"][0]["depends_on"] = [{"href": f"{REF}/api/review-requests/8/"}]
    a = answer(200, a_body)
    b = answer(200, {**listing(OURS, [5]), "total_results": 9})
    b_body = json.loads(b.body)
    b_body["review_requests"][0]["depends_on"] = []
    b = answer(200, b_body)
    assert replay.knock_on(lister, {"rr#new2"}, ref, ours, a, b)


def test_deliberate_classes_name_their_reason():
    from fidelity_replay import deliberate

    assert (
        deliberate.explain(
            "GET /api/ · value .capabilities.authentication.client_web_login", "x", "y"
        )
        == "no web login page"
    )
    # XML paths use slashes.
    xml = "GET /api/info/ · xml value rsp/info/capabilities/authentication/client_web_login"
    assert deliberate.explain(xml, "x", "y") == "no web login page"
    flag = (
        "GET /api/review-requests/{id}/diff-context/ · value .diff_context.revision.is_draft_diff"
    )
    assert deliberate.explain(flag, "x", "y") is not None
    # The original's empty list under a missing revision, revalidated: 304 where rbapi says 100.
    files = "GET /api/review-requests/{id}/diffs/{id}/files/ · outcome 304/- vs 404/100"
    assert deliberate.explain(files, "x", "y") is not None
    count = "GET /api/review-requests/{id}/diff-context/ · value .diff_context.num_diffs"
    assert deliberate.explain(count, "x", "y") is None
    # An access refusal is deliberate only where the original also hides the object.
    signature = "POST /api/review-requests/{id}/status-updates/ · outcome 201/- vs 403/101"
    assert deliberate.explain(signature, "doc POST", "ok vs no") is None
    assert deliberate.explain(signature, "doc POST", "ok vs no", hidden=True) == deliberate.ACCESS
    assert deliberate.explain("GET /api/review-requests/ · length .x", "a", "b") is None


def test_patches_and_files_are_compared_as_bytes(servers):
    ref, ours = servers
    patch = "text/x-patch"
    a = replay.Answer(200, {"content-type": patch}, b"diff --git a/x b/x\n+one\n")
    b = replay.Answer(200, {"content-type": patch}, b"diff --git a/x b/x\n+one\n")
    c = replay.Answer(200, {"content-type": patch}, b"diff --git a/x b/x\n+two\n")
    assert replay.compare(step(), ref, ours, a, b) == []
    assert [kind for kind, _ in replay.compare(step(), ref, ours, a, c)] == ["body"]


def test_xml_errors_carry_their_code(servers):
    xml = b"<rsp><stat>fail</stat><err><code>100</code><msg>x</msg></err></rsp>"
    assert replay.err_code(replay.Answer(404, {"content-type": "application/xml"}, xml)) == 100


def test_a_list_the_original_doubles_is_told_apart(servers):
    ref, ours = servers

    def listing(base: str, ids: list[int]) -> bytes:
        items = [rr_body(base, i, "S", "2026-11-29T08:00:00Z")["review_request"] for i in ids]
        return json.dumps({"stat": "ok", "review_requests": items}).encode()

    doubled = replay.Answer(200, {}, listing(REF, [1, 1, 7, 7]))
    assert replay.doubled_items(ref, ours, doubled, replay.Answer(200, {}, listing(OURS, [1, 5])))
    assert not replay.doubled_items(
        ref, ours, doubled, replay.Answer(200, {}, listing(OURS, [5, 1]))
    )


def test_a_missing_xml_subtree_is_one_difference(servers):
    ref, ours = servers
    xml = {"content-type": "application/xml"}
    item = b"<item><id>1</id><t>a</t></item>"
    a = replay.Answer(200, xml, b"<rsp><stat>ok</stat><x>" + item + b"</x></rsp>")
    b = replay.Answer(200, xml, b"<rsp><stat>ok</stat><x></x></rsp>")
    kinds = [kind for kind, _ in replay.compare(step(), ref, ours, a, b)]
    assert kinds == ["xml missing rsp/x/item"]


def test_an_xml_list_the_original_doubles_is_told_apart(servers):
    ref, ours = servers

    def listing(base: str, ids: list[int]) -> bytes:
        items = "".join(
            f"<item><id>{i}</id><links><self><href>{base}/api/review-requests/{i}/</href>"
            "</self></links></item>"
            for i in ids
        )
        body = f"<review_requests><array>{items}</array></review_requests>"
        return f"<rsp><stat>ok</stat>{body}</rsp>".encode()

    xml = {"content-type": "application/xml"}
    doubled = replay.Answer(200, xml, listing(REF, [1, 1, 7, 7]))
    assert replay.doubled_items(ref, ours, doubled, replay.Answer(200, xml, listing(OURS, [1, 5])))
