"""A mock Slack Web API on loopback and signed Events API bodies.

The load benchmark (``clinassist bench slack``), the multi-instance rehearsal
(deploy/slack_rehearsal.py) and the offline test suite drive the real Bolt app with these:
:class:`MockSlackAPI` answers the Web API methods the app calls (recording every call, serving
files, injecting 429s and errors), :func:`sign` makes Slack's request-signature headers and
:func:`event_body` / :func:`command_body` the bodies Slack would post.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse


class MockSlackAPI:
    """Enough of Slack's Web API for the app: records every call, serves files, injects faults.

    Point a ``slack_sdk.WebClient`` at it with ``base_url=mock.api_url``. Files registered with
    :meth:`add_file` are served at ``mock.url + "/files/NAME"`` only to ``Bearer <token>``
    (anything else gets an HTML login page, as Slack does).
    """

    def __init__(
        self,
        *,
        token: str = "xoxb-mock",
        team: str = "T0TEAM",
        bot_user: str = "U0BOT",
        port: int = 0,
    ) -> None:
        self.token = token
        self.team = team
        self.bot_user = bot_user
        self.bot_id = "B0BOT"
        self.calls: list[dict[str, Any]] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.redirects: dict[str, str] = {}  # file name -> Location (a 302 instead of the file)
        self.downloads: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self._rate_limits: dict[str, list[int]] = {}
        self._errors: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._ts = 0
        # a fresh ts range per mock, so a message of an earlier mock never matches one of this
        self._epoch = 1_900_000_000 + secrets.randbelow(10**6) * 100

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self._server = Server(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns in 50 ms, not 0.5 s
            name="mock-slack",
            daemon=True,
        )

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> MockSlackAPI:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    # -- set-up and inspection ---------------------------------------------------------------
    def add_file(self, name: str, data: bytes, content_type: str) -> str:
        self.files[name] = (data, content_type)
        return f"{self.url}/files/{name}"

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 0) -> None:
        """The next ``times`` calls of ``method`` answer 429 with ``Retry-After``."""
        self._rate_limits.setdefault(method, []).extend([retry_after] * times)

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``."""
        self._errors.setdefault(method, []).extend([error] * times)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                c["params"]
                for c in self.calls
                if c["method"] == method and c["status"] == 200 and c.get("ok")
            ]

    def posted(self) -> list[dict[str, Any]]:
        """Messages as they stand now: chat.postMessage results with chat.update applied."""
        with self._lock:
            msgs: dict[str, dict[str, Any]] = {}
            for c in self.calls:
                if c["status"] != 200 or not c.get("ok"):
                    continue
                if c["method"] == "chat.postMessage":
                    msgs[c["ts"]] = dict(c["params"], ts=c["ts"])
                elif c["method"] == "chat.update" and c["params"].get("ts") in msgs:
                    m = msgs[c["params"]["ts"]]
                    m.update({k: v for k, v in c["params"].items() if k != "ts"})
            return list(msgs.values())

    # -- the server ---------------------------------------------------------------------------
    def _next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            return f"{self._epoch + self._ts}.{self._ts:06d}"

    def _answer(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            waits = self._rate_limits.get(method)
            if waits:
                wait = waits.pop(0)
                self.calls.append({"method": method, "params": params, "status": 429, "ts": None})
                return 429, {"Retry-After": str(wait)}, {"ok": False, "error": "ratelimited"}
            errors = self._errors.get(method)
            error = errors.pop(0) if errors else None
        if headers.get("authorization") != f"Bearer {self.token}":
            error = error or "invalid_auth"
        ts = None
        body: dict[str, Any]
        if error:
            body = {"ok": False, "error": error}
        elif method == "auth.test":
            body = {
                "ok": True,
                "team_id": self.team,
                "user_id": self.bot_user,
                "bot_id": self.bot_id,
                "team": "Mock",
                "user": "clinassist",
                "url": self.url + "/",
            }
        elif method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") if method == "chat.update" else self._next_ts()
            body = {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"text": params.get("text"), "ts": ts, "bot_id": self.bot_id},
            }
        elif method == "chat.postEphemeral":
            body = {"ok": True, "message_ts": self._next_ts()}
        elif method == "files.getUploadURLExternal":
            file_id = "F" + secrets.token_hex(5).upper()
            body = {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        elif method == "files.completeUploadExternal":
            files = params.get("files") or []
            body = {
                "ok": True,
                "files": [{"id": f.get("id"), "title": f.get("title")} for f in files],
            }
        else:
            body = {"ok": True}
        with self._lock:
            self.calls.append(
                {"method": method, "params": params, "status": 200, "ok": body["ok"], "ts": ts}
            )
        return 200, {}, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(
                self,
                status: int,
                body: bytes,
                content_type: str,
                extra: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                if path.startswith("/files/"):
                    name = path[len("/files/") :]
                    auth = self.headers.get("Authorization", "")
                    mock.downloads.append({"name": name, "authorization": auth})
                    if name in mock.redirects:
                        self._reply(302, b"", "text/plain", {"Location": mock.redirects[name]})
                    elif name not in mock.files:
                        self._reply(404, b"not found", "text/plain")
                    elif auth != f"Bearer {mock.token}":
                        self._reply(200, b"<html><body>Sign in to Slack</body></html>", "text/html")
                    else:
                        data, ctype = mock.files[name]
                        self._reply(200, data, ctype)
                    return
                self._reply(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if path.startswith("/upload/"):
                    mock.uploads[path[len("/upload/") :]] = raw
                    self._reply(200, b"OK - " + str(len(raw)).encode(), "text/plain")
                    return
                if not path.startswith("/api/"):
                    self._reply(404, b"not found", "text/plain")
                    return
                method = path[len("/api/") :]
                ctype = self.headers.get("Content-Type", "")
                params: dict[str, Any]
                if ctype.startswith("application/json"):
                    params = json.loads(raw or b"{}")
                else:
                    params = {
                        k: v[0]
                        for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()
                    }
                for key in ("blocks", "files", "prompts"):
                    if isinstance(params.get(key), str) and params[key][:1] in "[{":
                        params[key] = json.loads(params[key])
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, body = mock._answer(method, params, headers)
                self._reply(
                    status, json.dumps(body).encode(), "application/json; charset=utf-8", extra
                )

        return Handler


# ----------------------------------------------------------------------------------------------
# Signed events
# ----------------------------------------------------------------------------------------------
def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature headers for ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": f"v0={digest}",
    }


def event_body(
    event: dict[str, Any],
    *,
    team: str = "T0TEAM",
    event_id: str | None = None,
    bot_user: str = "U0BOT",
) -> dict[str, Any]:
    """An Events API envelope around ``event``."""
    return {
        "token": "legacy",
        "team_id": team,
        "api_app_id": "A0APP",
        "event": dict(event, team=team) if "team" not in event else event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + secrets.token_hex(6).upper(),
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": bot_user, "is_bot": True}],
    }


def command_body(
    text: str, *, team: str = "T0TEAM", channel: str = "C0CLIN", user: str = "U0DOC"
) -> str:
    """A form-encoded slash command body for ``/clinassist``."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": team,
            "channel_id": channel,
            "user_id": user,
            "command": "/clinassist",
            "text": text,
            "response_url": "http://127.0.0.1:9/none",
            "trigger_id": "1.2.3",
        }
    )
