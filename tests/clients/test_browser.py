"""The browser frontend example (examples/ci-dashboard) in a real headless Chromium.

What only a browser can show: CORS with credentials (preflights for ``Authorization`` and
``If-None-Match``, exposed ``ETag``), the ``rbsessionid`` cookie set by a cross-origin login
and sent back, ``SameSite=Lax``, and the ``Origin`` check on cookie writes (rbapi.origins).

The page is served by ``http.server`` threads on other ports, the API by the live server with
``CORS_ALLOWED_ORIGINS`` naming one of them. ``localhost`` and ``127.0.0.1`` are different
origins (and different sites), which gives a disallowed origin on the same port; a second port
on 127.0.0.1 gives a disallowed origin of the *same site*, whose requests do carry the cookie,
so only the server's Origin check stands between that page and a write.

Debian's ``chromium`` and ``chromium-driver`` packages; CI installs them (.ci/run).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from status_updates.models import StatusUpdate
from status_updates.services import status_update_update
from tests.conftest import make_user
from tests.factories import make_review_request

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ci-dashboard"
WAIT = 15  # seconds for any one thing to appear in the page
POLL_MS = 300

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(
        "needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
        allow_module_level=True,
    )

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def static_server() -> Iterator[Callable[[], int]]:
    """Start ``http.server`` threads serving the example; each call gives a new port."""
    servers: list[ThreadingHTTPServer] = []

    def start() -> int:
        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(_QuietHandler, directory=str(EXAMPLE))
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium with a fresh profile, quiet on the network."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def api(live_server: Any) -> str:
    """The live API on 127.0.0.1 (the cookie's site)."""
    return f"http://127.0.0.1:{live_server.thread.port}"


@pytest.fixture
def allowed_origin(static_server: Callable[[], int], settings: Any) -> int:
    """The port of the dashboard's one allowed origin, http://127.0.0.1:<port>, which the API
    lists in CORS_ALLOWED_ORIGINS (RBAPI_CORS_ORIGINS) with credentials."""
    port = static_server()
    settings.CORS_ALLOWED_ORIGINS = [f"http://127.0.0.1:{port}"]
    settings.CORS_ALLOW_CREDENTIALS = True
    settings.RBAPI_TRUSTED_ORIGINS = []
    return port


@pytest.fixture
def board(transactional_db: Any) -> dict[str, Any]:
    """Two published review requests by doc, and the CI user ``ci`` who reports on them."""
    doc = make_user("doc")
    grumpy = make_user("grumpy")
    return {
        "ci": make_user("ci"),
        "first": make_review_request(
            submitter=doc, publish=True, people=[grumpy], summary="Add frobs"
        ),
        "second": make_review_request(
            submitter=doc, publish=True, people=[grumpy], summary="Remove widgets"
        ),
    }


def page_url(host: str, port: int, api: str) -> str:
    return f"http://{host}:{port}/index.html?" + urlencode({"api": api, "poll": POLL_MS})


def wait_for(driver: Any, condition: Callable[[Any], Any], what: str) -> Any:
    try:
        return WebDriverWait(
            driver, WAIT, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
        ).until(condition)
    except TimeoutException:
        error = driver.find_element(By.ID, "error").text
        raise AssertionError(f"timed out waiting for {what}; page error: {error!r}") from None


def rows(driver: Any) -> list[Any]:
    return driver.find_elements(By.CSS_SELECTOR, "#review-requests tr.review-request")


def loads(driver: Any) -> int:
    """How many times the page has (re)loaded its list, with the statuses, to the end."""
    value = driver.find_element(By.ID, "review-requests").get_attribute("data-loads")
    return int(value or 0)


def badge_state(driver: Any, review_request_id: int) -> str | None:
    """The dashboard's badge state on a row, read in one step (polls redraw the badges)."""
    return driver.execute_script(
        "const badge = document.querySelector(arguments[0]);"
        "return badge ? badge.dataset.state : null;",
        f'tr[data-id="{review_request_id}"] .badge[data-service="ci-dashboard"]',
    )


def log_in(driver: Any, username: str, password: str) -> None:
    for field, value in (("username", username), ("password", password)):
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    driver.find_element(By.ID, "login-button").click()


def post_from_page(driver: Any, review_request_id: int, state: str) -> str:
    """Call the page's own write function, as a script on that page could; returns the id
    or the error message the page got."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.ciDashboard.postStatusUpdate(arguments[0], arguments[1])"
        "  .then((id) => done('created ' + id), (err) => done(err.message));",
        review_request_id,
        state,
    )


def refusals(caplog: pytest.LogCaptureFixture, path: str) -> list[int]:
    """The 4xx statuses the server answered for ``path`` (django.request logs each one),
    also those CORS keeps from the page."""
    return [
        record.status_code
        for record in caplog.records
        if record.name == "django.request" and record.args and path in str(record.args)
    ]


def test_dashboard_from_an_allowed_origin(
    browser: Any, api: str, allowed_origin: int, board: dict[str, Any]
) -> None:
    first, second = board["first"], board["second"]
    browser.get(page_url("127.0.0.1", allowed_origin, api))

    # Public review requests show before logging in, newest first.
    wait_for(browser, lambda d: len(rows(d)) == 2, "the two review requests")
    assert [row.get_attribute("data-id") for row in rows(browser)] == [
        str(second.pk),
        str(first.pk),
    ]
    assert "Add frobs" in browser.find_element(By.CSS_SELECTOR, f'tr[data-id="{first.pk}"]').text
    assert badge_state(browser, first.pk) is None

    # Basic auth once; the rbsessionid cookie carries the session from then on.
    log_in(browser, "ci", "ci")
    wait_for(browser, lambda d: loads(d) == 2, "the list reloaded after the login")
    assert browser.find_element(By.ID, "who").get_attribute("data-user") == "ci"
    assert browser.find_element(By.ID, "error").text == ""
    # Cookies are per host, not per port: the page's host holds the session, HttpOnly and
    # SameSite=Lax, out of the page's scripts' reach.
    cookie = browser.get_cookie("rbsessionid")
    assert (cookie["domain"], cookie["httpOnly"], cookie["sameSite"]) == ("127.0.0.1", True, "Lax")
    assert "rbsessionid" not in browser.execute_script("return document.cookie")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-id="{first.pk}"]')
    assert "Review request updated by" in row.find_element(By.CLASS_NAME, "last-update").text

    # The button posts with the cookie (no Authorization header); the badge follows.
    Select(row.find_element(By.CLASS_NAME, "state")).select_by_value("pending")
    row.find_element(By.CLASS_NAME, "post-status").click()
    wait_for(browser, lambda d: badge_state(d, first.pk) == "pending", "the pending badge")
    stored = StatusUpdate.objects.get(review_request=first)
    assert (stored.service_id, stored.summary, stored.state) == (
        "ci-dashboard",
        "Dashboard check",
        StatusUpdate.PENDING,
    )
    assert stored.user == board["ci"]
    assert stored.description == f"Reported from http://127.0.0.1:{allowed_origin}"
    assert not StatusUpdate.objects.filter(review_request=second).exists()
    assert badge_state(browser, second.pk) is None

    # The CI job finishes elsewhere: the next poll (no click) turns the badge green.
    status_update_update(
        status_update=stored, user=board["ci"], values={"state": StatusUpdate.DONE_SUCCESS}
    )
    started = time.monotonic()
    wait_for(browser, lambda d: badge_state(d, first.pk) == "done-success", "the green badge")
    assert time.monotonic() - started < 5 * POLL_MS / 1000 + 2

    # Unchanged resources were answered 304 (If-None-Match with the exposed ETag).
    wait_for(
        browser,
        lambda d: int(d.find_element(By.ID, "poll-stats").get_attribute("data-not-modified")) >= 4,
        "304 answers to the polls",
    )
    colour = browser.execute_script(
        "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor;",
        f'tr[data-id="{first.pk}"] .badge',
    )
    assert colour == "rgb(42, 138, 42)"  # done-success is green


def test_disallowed_origins_get_no_data_and_cannot_write(
    browser: Any,
    api: str,
    allowed_origin: int,
    static_server: Callable[[], int],
    board: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = board["first"]
    items_path = f"/api/review-requests/{first.pk}/status-updates/"

    # localhost is another origin (and site) than 127.0.0.1: nothing can be read, the login's
    # preflight is refused, and a write is sent without the cookie and refused.
    browser.get(page_url("localhost", allowed_origin, api))
    wait_for(
        browser,
        lambda d: "does not allow this origin" in d.find_element(By.ID, "error").text,
        "the CORS error",
    )
    assert rows(browser) == []
    log_in(browser, "ci", "ci")
    time.sleep(1)
    assert browser.find_element(By.ID, "who").text == ""
    assert "does not allow this origin" in browser.find_element(By.ID, "error").text
    assert rows(browser) == []
    assert post_from_page(browser, first.pk, "done-failure").startswith("Cannot read")
    assert refusals(caplog, items_path) == [401]  # no cookie, no login

    # Logged in through the allowed page, the browser holds the rbsessionid cookie ...
    browser.get(page_url("127.0.0.1", allowed_origin, api))
    wait_for(browser, lambda d: len(rows(d)) == 2, "the list on the allowed origin")
    log_in(browser, "ci", "ci")
    wait_for(browser, lambda d: d.find_element(By.ID, "who").text != "", "the login")

    # ... which a page from another port of the same site does send (SameSite=Lax allows
    # same-site requests), but it may read nothing, and the Origin check refuses its write.
    other_port = static_server()
    browser.get(page_url("127.0.0.1", other_port, api))
    wait_for(
        browser,
        lambda d: "does not allow this origin" in d.find_element(By.ID, "error").text,
        "the CORS error on the other port",
    )
    assert rows(browser) == []
    caplog.clear()
    assert post_from_page(browser, first.pk, "done-failure").startswith("Cannot read")
    assert refusals(caplog, items_path) == [403]  # error 101, not 401

    assert not StatusUpdate.objects.exists()
