import pytest

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_explore(people, repository, rb_client):
    c = rb_client("admin", "admin")
    root = c.get_root()
    print(type(root), root.capabilities, getattr(root, "product", None))
    users = root.get_users()
    print(type(users), users.total_results, len(users), [u.username for u in users])
    u = root.get_user(username="doc")
    print(type(u), u.username, u.fullname, dict(u.fields) if hasattr(u, "fields") else None)
    g = root.get_group(group_name="devs")
    print(type(g), g.name, [m for m in dir(g) if m.startswith("get_")])
    members = g.get_review_group_users()
    print([m.username for m in members])
    print(root.get_repositories())
    s = root.get_session(expand="user")
    print(s.authenticated, type(s.user), s.user.username)
    print(c._transport.server.cookie_jar)
    assert 0
