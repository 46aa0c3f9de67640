"""Slack files -> ``Attachment``: host, size, content type and magic bytes checked.

The bot token goes only to ``https://files.slack.com`` (or a host configured in
``slack.file_hosts``; plain http only when that host is loopback, for tests). Redirects are
followed by hand and only within the same origin: a redirect to any other host is refused
before anything is requested from it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
)

from assistant.core.errors import UserError
from assistant.core.slack_hosts import file_url_allowed, same_origin
from assistant.service import Attachment, sniff

DOWNLOAD_TIMEOUT_S = 30.0
RATE_LIMIT_RETRIES = 5
RATE_LIMIT_WAIT_MAX_S = 60.0  # one Retry-After is honoured up to this long
RATE_LIMIT_TOTAL_S = 120.0  # no retry starts that would end past this, from the first request
MAX_REDIRECTS = 3
# Content types Slack may serve for the files we accept (checked again against magic bytes).
ALLOWED_CONTENT_TYPES = {
    "image/png": "image",
    "image/jpeg": "image",
    "image/jpg": "image",
    "application/dicom": "dicom",
    "image/dicom": "dicom",
    "application/pdf": "report",
    "text/plain": "report",
    "text/markdown": "report",
    "application/octet-stream": "",
    "binary/octet-stream": "",
}


class FileRejected(UserError):
    """A Slack file we will not hand to the assistant (the reason is shown to the user)."""

    code = "E110"


class _RateLimited(Exception):
    """A 429 from the file host; ``wait_s`` is its Retry-After (1 s when absent or unreadable)."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"429, retry after {wait_s} s")
        self.wait_s = wait_s


def _retry_after(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome is not None else None
    wait = exc.wait_s if isinstance(exc, _RateLimited) else 1.0
    return min(max(wait, 0.0), RATE_LIMIT_WAIT_MAX_S)


def _rate_limit_retries(budget_s: float) -> Retrying:
    """429s retried after their Retry-After: at most RATE_LIMIT_RETRIES times, and none whose
    wait would end more than ``budget_s`` after this request started."""
    return Retrying(
        retry=retry_if_exception_type(_RateLimited),
        wait=_retry_after,
        stop=stop_after_attempt(RATE_LIMIT_RETRIES + 1) | stop_before_delay(budget_s),
        reraise=True,
    )


def http_client() -> httpx.Client:
    """The download client: never follows redirects by itself, never reads proxy settings."""
    return httpx.Client(timeout=DOWNLOAD_TIMEOUT_S, follow_redirects=False, trust_env=False)


def download_file(
    info: dict[str, Any],
    *,
    token: str,
    max_bytes: int,
    extra_hosts: Sequence[str] = (),
    http: httpx.Client | None = None,
) -> Attachment:
    """One Slack file as an ``Attachment`` (raises :class:`FileRejected` with the reason)."""
    name = str(info.get("name") or info.get("title") or info.get("id") or "file")
    if info.get("mode") in ("tombstone", "hidden_by_limit") or info.get("is_external"):
        raise FileRejected("Slack does not let me download it (external or hidden file)")
    size = info.get("size")
    if isinstance(size, int) and size > max_bytes:
        raise FileRejected(f"it is {size:,} bytes; the limit is {max_bytes:,}")
    url = info.get("url_private_download") or info.get("url_private")
    if not isinstance(url, str) or not url:
        raise FileRejected("Slack sent no download address for it")
    hosts = tuple(extra_hosts)
    if not file_url_allowed(url, hosts):
        raise FileRejected("its download address is not a Slack file host")
    declared = str(info.get("mimetype") or "").split(";")[0].strip().lower()
    own = http is None
    client = http or http_client()
    try:
        data, ctype = _fetch(client, url, token, max_bytes, hosts)
    except httpx.HTTPError as exc:
        raise FileRejected(f"the download failed ({type(exc).__name__})") from exc
    finally:
        if own:
            client.close()
    kind = sniff(name, data)
    if kind is None:
        raise FileRejected("its content is not a PNG, JPEG, DICOM, PDF or text report")
    expected = ALLOWED_CONTENT_TYPES.get(declared) or ALLOWED_CONTENT_TYPES.get(ctype) or ""
    if expected and expected != kind[0] and {expected, kind[0]} != {"image", "dicom"}:
        raise FileRejected(
            f"its content ({kind[1]}) does not match its declared type ({declared or ctype})"
        )
    return Attachment(name=name, data=data)


def _fetch(
    client: httpx.Client, url: str, token: str, max_bytes: int, hosts: tuple[str, ...]
) -> tuple[bytes, str]:
    deadline = time.monotonic() + RATE_LIMIT_TOTAL_S  # the cap covers the redirects too
    for _ in range(MAX_REDIRECTS + 1):
        retries = _rate_limit_retries(deadline - time.monotonic())
        try:
            resp = retries(_send, client, url, token, hosts)
        except _RateLimited:
            raise FileRejected("Slack answered 429 when I downloaded it") from None
        try:
            if resp.is_redirect:
                target = urljoin(url, resp.headers.get("Location", ""))
                if not same_origin(url, target) or not file_url_allowed(target, hosts):
                    raise FileRejected("it was redirected away from Slack's file host")
                url = target
                continue
            return _read(resp, max_bytes)
        finally:
            resp.close()
    raise FileRejected("Slack redirected the download too many times")


def _send(client: httpx.Client, url: str, token: str, hosts: tuple[str, ...]) -> httpx.Response:
    """One streamed GET (raises :class:`_RateLimited` on a 429, for the retry policy)."""
    request = client.build_request("GET", url, headers={"Authorization": f"Bearer {token}"})
    if not file_url_allowed(str(request.url), hosts):  # as httpx parsed it, not only urllib
        raise FileRejected("its download address is not a Slack file host")
    resp = client.send(request, stream=True, follow_redirects=False)
    if resp.status_code == 429:
        resp.close()
        try:
            wait = float(resp.headers.get("Retry-After", "1") or 1)
        except ValueError:
            wait = 1.0
        raise _RateLimited(wait)
    return resp


def _read(resp: httpx.Response, max_bytes: int) -> tuple[bytes, str]:
    if resp.status_code != 200:
        raise FileRejected(f"Slack answered {resp.status_code} when I downloaded it")
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype == "text/html":
        raise FileRejected(
            "Slack returned a web page instead of the file (is the app's files:read scope granted?)"
        )
    if ctype not in ALLOWED_CONTENT_TYPES:
        raise FileRejected(f"its type ({ctype or 'unknown'}) is not an image, DICOM or report")
    data = bytearray()
    for chunk in resp.iter_bytes():
        data.extend(chunk)
        if len(data) > max_bytes:
            raise FileRejected(f"it is larger than the limit of {max_bytes:,} bytes")
    return bytes(data), ctype
