"""rbapi.renderers: the stat envelope, sorted JSON, Djblets' XML layout, JSONP."""

from __future__ import annotations

from types import SimpleNamespace

from rbapi.renderers import RBJSONRenderer, RBXMLRenderer


def context(status: int = 200, exception: bool = False) -> dict:
    return {"response": SimpleNamespace(status_code=status, exception=exception)}


class TestJSON:
    def test_success_is_wrapped_with_stat_ok_and_sorted_keys(self):
        body = RBJSONRenderer().render({"zeta": 1, "alpha": {"b": 2, "a": 1}}, None, context())
        assert body == b'{"alpha": {"a": 1, "b": 2}, "stat": "ok", "zeta": 1}'

    def test_errors_get_stat_fail(self):
        payload = {"err": {"code": 100, "msg": "Object does not exist", "type": "x"}}
        body = RBJSONRenderer().render(payload, None, context(404, exception=True))
        assert body.startswith(b'{"err": {"code": 100') and body.endswith(b'"stat": "fail"}')

    def test_no_content_has_no_body(self):
        assert RBJSONRenderer().render(None, None, context(204)) == b""

    def test_non_ascii_is_escaped(self):
        body = RBJSONRenderer().render({"s": "caf\u00e9"}, None, context())
        assert body == b'{"s": "caf\\u00e9", "stat": "ok"}'


class TestXML:
    def test_layout_matches_djblets(self):
        data = {
            "user": {
                "id": 2,
                "username": "user01",
                "is_active": True,
                "last_login": None,
                "tags": ["a"],
                "empty": [],
                "links": {
                    "self": {"method": "GET", "href": "http://testserver/api/users/user01/"}
                },
            }
        }
        body = RBXMLRenderer().render(data, None, context()).decode()
        assert body == (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            "<rsp>\n"
            " <stat>ok</stat>\n"
            " <user>\n"
            "  <id>2</id>\n"
            "  <username>user01</username>\n"
            "  <is_active>1</is_active>\n"
            "  <last_login>\n"
            "  </last_login>\n"
            "  <tags>\n"
            "   <array>\n"
            "    <item>a</item>\n"
            "   </array>\n"
            "  </tags>\n"
            "  <empty>\n"
            "   <array>\n"
            "   </array>\n"
            "  </empty>\n"
            "  <links>\n"
            "   <self>\n"
            "    <method>GET</method>\n"
            "    <href>http://testserver/api/users/user01/</href>\n"
            "   </self>\n"
            "  </links>\n"
            " </user>\n"
            "</rsp>"
        )

    def test_integer_keys_and_escaping(self):
        body = RBXMLRenderer().render({"m": {3: "a<b"}}, None, context()).decode()
        assert '<int value="3">a&lt;b</int>' in body
