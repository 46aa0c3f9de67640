"""Which hosts the Slack front end may talk to (stdlib only: config validation imports it).

* The Web API: ``https://slack.com/api/`` by default, or ``slack.api_url`` (GovSlack, or a
  mock on loopback in tests). Plain ``http://`` only for a loopback host.
* File downloads: ``files.slack.com`` plus ``slack.file_hosts``; https only, except a
  configured loopback host (tests). A redirect is followed only within the same origin.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://slack.com/api/"
SLACK_FILE_HOST = "files.slack.com"
_HOST = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::\d{1,5})?$")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost (a bare host name, no port)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_http_url(url: str, *, what: str) -> None:
    """ValueError unless ``url`` is https://host/…, or http:// to a loopback host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"{what}: {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(host):
        raise ValueError(f"{what}: plain http is allowed only to a loopback host; use https")
    if parts.username or parts.password:
        raise ValueError(f"{what}: credentials do not belong in the URL")


def check_file_host(entry: str) -> None:
    """ValueError unless ``entry`` is ``host`` or ``host:port`` (no scheme, no path)."""
    if not _HOST.match(entry):
        raise ValueError(
            f"file_hosts: {entry!r} must be a host or host:port, e.g. files.example.com"
        )


def file_url_allowed(url: str, extra_hosts: tuple[str, ...] | list[str] = ()) -> bool:
    """May a file be downloaded from ``url`` (with the bot token)?

    ``https://files.slack.com/…``; or a configured ``host[:port]`` over https, or over http
    when that host is loopback. Nothing else: no other Slack host, no subdomain tricks.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        return False
    netloc = f"{host}:{port}" if port is not None else host
    if parts.scheme == "https" and netloc == SLACK_FILE_HOST:
        return True
    for entry in extra_hosts:
        entry = entry.lower()
        if netloc != entry and not (port is None and host == entry):
            continue
        if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host)):
            return True
    return False


def same_origin(a: str, b: str) -> bool:
    """Scheme, host and port equal (a redirect may stay within one origin only)."""
    pa, pb = urlsplit(a), urlsplit(b)
    try:
        return (pa.scheme, (pa.hostname or "").lower(), pa.port) == (
            pb.scheme,
            (pb.hostname or "").lower(),
            pb.port,
        )
    except ValueError:
        return False
