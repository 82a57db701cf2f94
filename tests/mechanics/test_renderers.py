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


class TestWellFormedXML:
    """Issue 10: whatever is stored, the XML form parses, and no key can inject elements."""

    def parse(self, data):
        import xml.etree.ElementTree as ET

        return ET.fromstring(RBXMLRenderer().render(data, None, context()))

    def test_keys_that_are_not_xml_names_become_item_elements(self):
        keys = ["a><b", "1x", "x y", "a:b", "", "é", 'q"&<']
        root = self.parse({"extra_data": {key: f"v{i}" for i, key in enumerate(keys)}})
        items = root.find("extra_data")
        assert [(item.tag, item.get("key"), item.text) for item in items] == [
            ("item", key, f"v{i}") for i, key in enumerate(keys)
        ]
        assert root.find(".//b") is None

    def test_ordinary_keys_are_unchanged(self):
        body = RBXMLRenderer().render({"a_b": {"x-y.z": 1, "Z9": 2}}, None, context()).decode()
        assert "<a_b>" in body and "<x-y.z>1</x-y.z>" in body and "<Z9>2</Z9>" in body

    def test_characters_xml_cannot_hold_are_replaced(self):
        root = self.parse({"s": "a\x00b\x07c\ud800d\ufffee\tf\ng", "k": {"bad\x01key": "v"}})
        assert root.find("s").text == "a\ufffdb\ufffdc\ufffdd\ufffde\tf\ng"
        assert root.find("k/item").get("key") == "bad\ufffdkey"
