import base64, json, secrets
from datetime import timedelta
from urllib.parse import urlencode
import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth.models import Application
from reviews.models import Group
from webapi.services import api_token_create
from tests.conftest import basic_auth, make_user

pytestmark = pytest.mark.django_db(transaction=True)
AT = get_access_token_model(); RT = get_refresh_token_model()

def show(tag, r):
    body = r.content[:300]
    print(f"\n[{tag}] {r.status_code} {r.get('Content-Type')} {dict((k,v) for k,v in r.items() if k.startswith('X-Rate') or k=='Retry-After')} {body!r}")

def app_for(user, grant="password", ctype="confidential", **kw):
    secret = secrets.token_urlsafe(16)
    app = Application.objects.create(user=user, name="a", client_type=ctype, authorization_grant_type=grant, client_secret=secret, **kw)
    return app, secret

def tok(user, app, scope="root:read", raw=None):
    raw = raw or secrets.token_urlsafe(24)
    return AT.objects.create(user=user, application=app, token=raw, scope=scope, expires=timezone.now()+timedelta(hours=1)), raw

def test_introspect_revoke(owner, other):
    app_o, sec_o = app_for(owner)
    t, raw = tok(owner, app_o, "root:read review_request:read")
    app_x, sec_x = app_for(other, grant="client-credentials")
    c = Client(raise_request_exception=False)
    r = c.post("/oauth2/introspect/", {"token": raw}, HTTP_AUTHORIZATION=basic_auth(app_x.client_id, sec_x)); show("introspect by other's app", r)
    r = c.get("/oauth2/introspect/?token=" + raw, HTTP_AUTHORIZATION=basic_auth(app_x.client_id, sec_x)); show("introspect GET", r)
    r = c.post("/oauth2/revoke_token/", {"token": raw}, HTTP_AUTHORIZATION=basic_auth(app_x.client_id, sec_x)); show("revoke by other", r)
    print("still exists", AT.objects.filter(pk=t.pk).exists())
    # public client revoke (no secret)
    app_p, _ = app_for(other, grant="authorization-code", ctype="public", redirect_uris="http://localhost/cb")
    r = c.post("/oauth2/revoke_token/", {"token": raw, "client_id": app_p.client_id}); show("revoke by public", r)
    print("still exists", AT.objects.filter(pk=t.pk).exists())
    # odd inputs
    for data in [{}, {"token": ""}, {"token": "\x00"}, {"token": "x"*100000}, {"token": raw, "token_type_hint": "\x00"*5},
                 {"token": "a\udcff" if False else "é"}]:
        r = c.post("/oauth2/revoke_token/", data, HTTP_AUTHORIZATION=basic_auth(app_x.client_id, sec_x)); show(f"revoke odd {str(data)[:30]}", r)
        r = c.post("/oauth2/introspect/", data, HTTP_AUTHORIZATION=basic_auth(app_x.client_id, sec_x)); show(f"introspect odd {str(data)[:30]}", r)
    for cid in ["\x00", "x"*5000, "é"]:
        r = c.post("/oauth2/revoke_token/", {"token": raw, "client_id": cid}); show(f"revoke cid {cid[:5]!r}", r)
        r = c.post("/oauth2/introspect/", {"token": raw}, HTTP_AUTHORIZATION=basic_auth(cid, "x")); show(f"introspect cid {cid[:5]!r}", r)
    r = c.post("/oauth2/revoke_token/", b"token=%ff%fe", content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=basic_auth(app_x.client_id, sec_x)); show("revoke bad utf8", r)
    r = c.post("/oauth2/introspect/", {"token": raw}, HTTP_AUTHORIZATION="Basic %%%"); show("introspect bad basic", r)
    r = c.post("/oauth2/introspect/", {"token": raw}, HTTP_AUTHORIZATION="Bearer " + raw); show("introspect with bearer", r)

def test_token_endpoint(owner, other):
    app, sec = app_for(owner)
    c = Client(raise_request_exception=False)
    auth = basic_auth(app.client_id, sec)
    r = c.post("/oauth2/token/", {"grant_type": "password", "username": "doc", "password": "doc", "scope": "root:read"}, HTTP_AUTHORIZATION=auth); show("password", r)
    j = json.loads(r.content); rt = j.get("refresh_token")
    r = c.post("/oauth2/token/", {"grant_type": "refresh_token", "refresh_token": rt, "scope": "root:read review_request:write"}, HTTP_AUTHORIZATION=auth); show("refresh wider", r)
    r = c.post("/oauth2/token/", {"grant_type": "refresh_token", "refresh_token": rt}, HTTP_AUTHORIZATION=auth); show("refresh same", r)
    j2 = json.loads(r.content)
    if "access_token" in j2:
        a = AT.objects.get(token_checksum=__import__("hashlib").sha256(j2["access_token"].encode()).hexdigest()); print("refreshed scope", a.scope, a.expires)
        rt = j2["refresh_token"]
    app.enabled = False; app.save()
    r = c.post("/oauth2/token/", {"grant_type": "refresh_token", "refresh_token": rt}, HTTP_AUTHORIZATION=auth); show("refresh disabled", r)
    app.enabled = True; app.save()
    for scope in ["nonexistent:read", "root:read " * 2000, "\x00", "root:read\x00"]:
        r = c.post("/oauth2/token/", {"grant_type": "password", "username": "doc", "password": "doc", "scope": scope}, HTTP_AUTHORIZATION=auth); show(f"scope {scope[:12]!r}", r)
    from django.core.cache import cache
    for u in ["\x00", "x"*100000, "doc\x00", "a@b\x00"]:
        cache.clear()
        r = c.post("/oauth2/token/", {"grant_type": "password", "username": u, "password": "doc"}, HTTP_AUTHORIZATION=auth); show(f"user {u[:6]!r}", r)
    for cid in ["\x00", "x"*5000]:
        cache.clear()
        r = c.post("/oauth2/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth(cid, "x")); show(f"cid {cid[:4]!r}", r)
        r = c.post("/oauth2/token/", {"grant_type": "client_credentials", "client_id": cid, "client_secret": "x"}); show(f"cid body {cid[:4]!r}", r)
    cache.clear()
    for rt2 in ["\x00", "y"*100000]:
        r = c.post("/oauth2/token/", {"grant_type": "refresh_token", "refresh_token": rt2}, HTTP_AUTHORIZATION=auth); show(f"rt {rt2[:4]!r}", r)
    cache.clear()
    r = c.post("/oauth2/token/", {"grant_type": "authorization_code", "code": "\x00", "redirect_uri": "http://x"}, HTTP_AUTHORIZATION=auth); show("code NUL", r)
    r = c.post("/oauth2/token/", b"grant_type=password&username=%ff&password=x", content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=auth); show("bad utf8", r)
    r = c.get("/oauth2/token/"); show("GET token", r)

def test_basic_nul(owner):
    from django.core.cache import cache
    c = Client(raise_request_exception=False)
    for u in ["do\x00c", "a@b\x00.com"]:
        cache.clear()
        r = c.get("/api/", HTTP_AUTHORIZATION=basic_auth(u, "x")); show(f"api basic {u!r}", r)
        r = c.get("/oauth2/authorize/?response_type=code&client_id=x", HTTP_AUTHORIZATION=basic_auth(u, "x")); show(f"authorize basic {u!r}", r)
    r = c.get("/api/", HTTP_AUTHORIZATION="token rbp_\x00abc"); show("token NUL", r)
    r = c.get("/api/", HTTP_AUTHORIZATION="Bearer \x00"); show("bearer NUL", r)
    r = c.get("/api/", HTTP_AUTHORIZATION="token " + "rbp_" + "a"*100000); show("token long", r)
