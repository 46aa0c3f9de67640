"""Where Slack files may come from: files.slack.com over https, a configured host, no
redirects to another origin. Real sockets on loopback, and httpx's mock transport for https."""

from __future__ import annotations

import time
from itertools import pairwise
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.config import load_settings
from assistant.core.errors import ConfigError
from assistant.core.slack_hosts import file_url_allowed
from assistant.slack import files as files_mod
from assistant.slack.files import RATE_LIMIT_RETRIES, FileRejected, download_file, http_client
from assistant.slack.mock import MockSlackAPI
from tests.assistant.slack.slack_helpers import LOG, PNG, mention

SLACK = "https://files.slack.com/files-pri/T0TEAM-F0FILE/cxr.png"


@pytest.mark.parametrize(
    ("url", "hosts", "ok"),
    [
        (SLACK, (), True),
        ("http://files.slack.com/files-pri/x.png", (), False),  # plain http
        ("https://files.slack.com.attacker.example/x.png", (), False),
        ("https://attacker.example/files.slack.com/x.png", (), False),
        ("https://files.slack.com@attacker.example/x.png", (), False),
        ("https://user:pw@files.slack.com/x.png", (), False),
        ("https://slack.com/x.png", (), False),  # other Slack hosts are not file hosts
        ("https://a.slack-edge.com/x.png", (), False),
        ("https://files-origin.slack.com/x.png", (), False),
        ("https://files.slack-gov.com/x.png", ("files.slack-gov.com",), True),
        ("http://files.slack-gov.com/x.png", ("files.slack-gov.com",), False),
        ("http://127.0.0.1:8123/files/x.png", ("127.0.0.1:8123",), True),  # loopback test host
        ("http://127.0.0.1:8124/files/x.png", ("127.0.0.1:8123",), False),  # other port
        ("http://10.0.0.5:8123/files/x.png", ("10.0.0.5:8123",), False),  # http off loopback
        ("https://10.0.0.5:8123/files/x.png", ("10.0.0.5:8123",), True),
        ("file:///etc/passwd", (), False),
        ("not a url", (), False),
    ],
)
def test_file_url_policy(url, hosts, ok):
    assert file_url_allowed(url, hosts) is ok


_parts = st.sampled_from(
    [
        "https",
        "http",
        "files.slack.com",
        "slack.com",
        "@",
        ":",
        "/",
        ".",
        "evil",
        "443",
        "%2e",
        "\\",
        "?",
        "#",
    ]
)


@given(st.lists(_parts, max_size=12).map("".join), st.text(max_size=30))
def test_only_https_files_slack_com_passes_without_configured_hosts(url, junk):
    for candidate in (url, url + junk, "https://" + url):
        if file_url_allowed(candidate):
            parts = urlsplit(candidate)
            assert parts.scheme == "https" and parts.hostname == "files.slack.com"
            assert parts.port is None and not parts.username


@pytest.mark.parametrize("bad", ["https://files.example.org", "files.example.org/path", "a b"])
def test_file_hosts_config_is_validated(bad, tmp_path):
    with pytest.raises(ConfigError, match="file_hosts"):
        load_settings(None, environ={}, data_dir=tmp_path, slack={"file_hosts": [bad]})


def _info(url: str, name: str = "cxr.png") -> dict:
    return {"name": name, "mimetype": "image/png", "size": len(PNG), "url_private_download": url}


def test_https_redirect_to_another_host_is_not_followed():
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        if request.url.host == "files.slack.com":
            return httpx.Response(302, headers={"Location": "https://attacker.example/cxr.png"})
        return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})

    client = httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False)
    with pytest.raises(FileRejected, match="redirected away"):
        download_file(_info(SLACK), token="xoxb-secret", max_bytes=10_000, http=client)
    assert requested == [SLACK]  # the other host never saw a request, nor the token


def test_https_redirect_within_files_slack_com_is_followed_with_the_token():
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("Authorization")))
        if request.url.path.endswith("/cxr.png"):
            return httpx.Response(301, headers={"Location": "/files-pri/moved/cxr-2.png"})
        return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})

    client = httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False)
    att = download_file(_info(SLACK), token="xoxb-secret", max_bytes=10_000, http=client)
    assert att.data == PNG
    assert seen == [
        ("/files-pri/T0TEAM-F0FILE/cxr.png", "Bearer xoxb-secret"),
        ("/files-pri/moved/cxr-2.png", "Bearer xoxb-secret"),
    ]


def test_redirect_to_a_downgraded_scheme_is_refused():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://files.slack.com/cxr.png"})

    client = httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False)
    with pytest.raises(FileRejected, match="redirected away"):
        download_file(_info(SLACK), token="t", max_bytes=10_000, http=client)


def test_plain_http_to_files_slack_com_is_refused_before_any_request():
    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover - must not run
        raise AssertionError("requested")

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(FileRejected, match="not a Slack file host"):
        download_file(
            _info("http://files.slack.com/x.png"), token="t", max_bytes=10_000, http=client
        )


def test_loopback_redirect_to_another_server_is_not_followed(mock):
    with MockSlackAPI(token=mock.token) as other:
        other.add_file("cxr.png", PNG, "image/png")
        mock.redirects["cxr.png"] = f"{other.url}/files/cxr.png"
        host = mock.url.split("//", 1)[1]
        with http_client() as client, pytest.raises(FileRejected, match="redirected away"):
            download_file(
                _info(f"{mock.url}/files/cxr.png"),
                token=mock.token,
                max_bytes=10_000,
                extra_hosts=[host],
                http=client,
            )
        assert other.downloads == []  # not contacted, the token never left the first host


def test_loopback_redirect_within_the_configured_host_is_followed(mock):
    mock.add_file("cxr-2.png", PNG, "image/png")
    mock.redirects["cxr.png"] = "/files/cxr-2.png"
    host = mock.url.split("//", 1)[1]
    att = download_file(
        _info(f"{mock.url}/files/cxr.png"), token=mock.token, max_bytes=10_000, extra_hosts=[host]
    )
    assert att.data == PNG
    assert [d["name"] for d in mock.downloads] == ["cxr.png", "cxr-2.png"]


def test_a_file_on_an_unconfigured_host_is_named_and_skipped(harness, mock):
    h = harness({"file_hosts": []})  # the mock's loopback host is not configured
    url = mock.add_file("cxr.png", PNG, "image/png")
    h.event(mention("look at this", files=[_info(url)]))
    assert mock.downloads == []
    assert LOG.calls == []
    assert "not a Slack file host" in mock.calls_to("chat.postMessage")[0]["text"]
    assert not any(c[0] == "classify_image" for c in LOG.calls)


def _rate_limited_host(limited: int, retry_after: str) -> tuple[httpx.Client, list[float]]:
    """A files host that answers 429 ``limited`` times, then the PNG; the request times."""
    seen: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(time.monotonic())
        if len(seen) <= limited:
            return httpx.Response(429, headers={"Retry-After": retry_after})
        return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})

    return httpx.Client(transport=httpx.MockTransport(answer), follow_redirects=False), seen


def test_a_rate_limited_download_is_retried_after_retry_after():
    http, seen = _rate_limited_host(2, "0.2")
    info = {"name": "cxr.png", "url_private_download": SLACK, "mimetype": "image/png"}
    got = download_file(info, token="xoxb-t", max_bytes=10**6, http=http)
    assert got.data == PNG and len(seen) == 3
    assert all(b - a >= 0.2 for a, b in pairwise(seen))  # Retry-After kept


def test_a_download_still_rate_limited_after_the_retries_is_refused():
    http, seen = _rate_limited_host(100, "0")
    info = {"name": "cxr.png", "url_private_download": SLACK, "mimetype": "image/png"}
    with pytest.raises(FileRejected, match="429"):
        download_file(info, token="xoxb-t", max_bytes=10**6, http=http)
    assert len(seen) == RATE_LIMIT_RETRIES + 1


def test_no_retry_starts_past_the_total_time_cap(monkeypatch):
    monkeypatch.setattr(files_mod, "RATE_LIMIT_TOTAL_S", 0.5)
    http, seen = _rate_limited_host(100, "0.2")
    info = {"name": "cxr.png", "url_private_download": SLACK, "mimetype": "image/png"}
    with pytest.raises(FileRejected, match="429"):
        download_file(info, token="xoxb-t", max_bytes=10**6, http=http)
    assert len(seen) < RATE_LIMIT_RETRIES + 1 and seen[-1] - seen[0] < 0.5
