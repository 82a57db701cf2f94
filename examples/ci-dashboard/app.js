// rbapi CI dashboard: plain JavaScript, no build step, no dependencies.
//
// Served from its own origin (see README "Browser frontends"); the API must list that origin
// in RBAPI_CORS_ORIGINS. Query parameters: ?api=<API base URL>&poll=<milliseconds>.
//
// - Login: one GET /api/session/ with Basic auth and credentials: "include"; the server sets
//   the rbsessionid cookie and every later call sends that cookie, never the password.
// - Polling: per review request, GET last-update/ and status-updates/ with If-None-Match; a
//   304 costs nothing, only a 200 re-renders. (A new status update does not change last-update
//   in Review Board, so the status-update list is polled conditionally too.)
// - Writes: a form-encoded POST with the cookie; the server accepts it only from a trusted
//   Origin (rbapi.origins).
"use strict";

(function () {
  const params = new URLSearchParams(window.location.search);
  const POLL_MS = Number(params.get("poll")) || 5000;
  const SERVICE_ID = "ci-dashboard";
  const STATES = ["pending", "done-success", "done-failure", "error"];
  const JSON_ACCEPT = "application/json";

  const $ = (selector) => document.querySelector(selector);
  const apiField = $("#api");
  apiField.value = params.get("api") || apiField.value || "http://127.0.0.1:8080";

  const etags = new WeakMap(); // row -> Map(path -> ETag of its last 200)
  const stats = { ok: 0, notModified: 0 };
  let pollTimer = null;
  let polling = null; // the poll in progress

  function apiUrl(path) {
    return apiField.value.replace(/\/+$/, "") + path;
  }

  function showError(message) {
    $("#error").textContent = message;
  }

  // One API call. Returns {status, body, etag}; throws an Error whose message is the
  // Review Board error (err.msg) or says that the server could not be read at all.
  async function api(path, options = {}) {
    const headers = { Accept: JSON_ACCEPT, ...(options.headers || {}) };
    let response;
    try {
      response = await fetch(apiUrl(path), {
        credentials: "include",
        cache: "no-store", // our own If-None-Match decides, not the browser's cache
        ...options,
        headers,
      });
    } catch (err) {
      // CORS refusals look exactly like network failures to a page, on purpose.
      throw new Error(
        `Cannot read ${apiUrl(path)}: the server is down or does not allow this ` +
          `origin (${window.location.origin}) in RBAPI_CORS_ORIGINS.`
      );
    }
    if (response.status === 304) {
      stats.notModified += 1;
      return { status: 304, body: null, etag: response.headers.get("ETag") };
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const msg = body && body.err ? `${body.err.msg} (error ${body.err.code})` : "";
      throw new Error(`${response.status} ${msg || response.statusText}`.trim());
    }
    stats.ok += 1;
    return { status: response.status, body, etag: response.headers.get("ETag") };
  }

  // A conditional GET for what ``row`` shows: returns the body on 200, null on 304. ETags are
  // kept per row, so a freshly drawn row always starts with a full GET.
  async function getIfChanged(row, path) {
    if (!etags.has(row)) {
      etags.set(row, new Map());
    }
    const known = etags.get(row);
    const headers = known.has(path) ? { "If-None-Match": known.get(path) } : {};
    const result = await api(path, { headers });
    if (result.status === 304) {
      return null;
    }
    if (result.etag) {
      known.set(path, result.etag);
    }
    return result.body;
  }

  function renderStats() {
    const el = $("#poll-stats");
    el.dataset.ok = String(stats.ok);
    el.dataset.notModified = String(stats.notModified);
    el.textContent = `${stats.ok} answers, ${stats.notModified} not modified`;
  }

  function rowFor(reviewRequest) {
    const row = document.createElement("tr");
    row.className = "review-request";
    row.dataset.id = String(reviewRequest.id);

    const id = document.createElement("td");
    id.textContent = String(reviewRequest.id);

    const summary = document.createElement("td");
    const title = document.createElement("div");
    title.className = "summary";
    title.textContent = reviewRequest.summary;
    const last = document.createElement("div");
    last.className = "last-update";
    summary.append(title, last);

    const badges = document.createElement("td");
    badges.className = "badges";

    const report = document.createElement("td");
    const state = document.createElement("select");
    state.className = "state";
    for (const name of STATES) {
      state.append(new Option(name, name));
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "post-status";
    button.textContent = "Post status";
    button.addEventListener("click", () => {
      postStatusUpdate(reviewRequest.id, state.value).catch((err) => showError(err.message));
    });
    report.append(state, " ", button);

    row.append(id, summary, badges, report);
    return row;
  }

  function renderBadges(row, statusUpdates) {
    const cell = row.querySelector(".badges");
    cell.replaceChildren(
      ...statusUpdates.map((update) => {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.dataset.state = update.state;
        badge.dataset.service = update.service_id;
        badge.textContent = `${update.service_id}: ${update.state}`;
        badge.title = update.summary + (update.description ? ` — ${update.description}` : "");
        return badge;
      })
    );
  }

  async function refreshRow(row) {
    const id = row.dataset.id;
    const lastUpdate = await getIfChanged(row, `/api/review-requests/${id}/last-update/`);
    if (lastUpdate) {
      const update = lastUpdate.last_update;
      row.querySelector(".last-update").textContent =
        `${update.summary} by ${update.user.title || update.user.username} at ${update.timestamp}`;
    }
    const updates = await getIfChanged(row, `/api/review-requests/${id}/status-updates/`);
    if (updates) {
      renderBadges(row, updates.status_updates);
    }
  }

  async function loadReviewRequests() {
    const { body } = await api("/api/review-requests/?max-results=50");
    const tbody = $("#review-requests");
    tbody.replaceChildren(...body.review_requests.map(rowFor));
    await pollOnce();
    tbody.dataset.loads = String(Number(tbody.dataset.loads || 0) + 1);
  }

  // Refresh every row; a call during a running poll waits for it, then polls again, so what
  // it returns reflects the rows as they are now.
  async function pollOnce() {
    while (polling) {
      await polling.catch(() => {});
    }
    polling = (async () => {
      for (const row of document.querySelectorAll("#review-requests tr.review-request")) {
        await refreshRow(row);
      }
      renderStats();
    })();
    try {
      await polling;
    } finally {
      polling = null;
    }
  }

  function startPolling() {
    clearInterval(pollTimer);
    pollTimer = setInterval(() => {
      if (polling) {
        return; // a slow poll is still running: skip this tick rather than queue
      }
      pollOnce().catch((err) => showError(err.message));
    }, POLL_MS);
  }

  async function logIn(username, password) {
    const { body } = await api("/api/session/", {
      headers: { Authorization: "Basic " + btoa(`${username}:${password}`) },
    });
    const session = body.session;
    if (!session.authenticated) {
      throw new Error("Login failed.");
    }
    $("#who").textContent = `Logged in as ${session.links.user.title}`;
    $("#who").dataset.user = session.links.user.title;
  }

  // Report a CI result on a review request: the session cookie authenticates, the server
  // checks the Origin. The new badge arrives with the next poll (an immediate one here).
  async function postStatusUpdate(reviewRequestId, state) {
    const form = new URLSearchParams({
      service_id: SERVICE_ID,
      summary: "Dashboard check",
      state,
      description: `Reported from ${window.location.origin}`,
    });
    const { body } = await api(`/api/review-requests/${reviewRequestId}/status-updates/`, {
      method: "POST",
      body: form,
    });
    showError("");
    await pollOnce();
    return body.status_update.id;
  }

  $("#login").addEventListener("submit", (event) => {
    event.preventDefault();
    showError("");
    logIn($("#username").value, $("#password").value)
      .then(loadReviewRequests)
      .then(startPolling)
      .catch((err) => showError(err.message));
  });

  // Public review requests are readable without logging in: show them at once.
  loadReviewRequests()
    .then(startPolling)
    .catch((err) => showError(err.message));

  window.ciDashboard = { postStatusUpdate, pollOnce, loadReviewRequests };
})();
