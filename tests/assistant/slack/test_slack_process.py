"""`clinassist slack --port P` as a real process, started against a mock Web API on loopback
(slack.api_url, including its start-up auth.test): signed, forged and stale requests."""

from __future__ import annotations

import json
import time

from assistant.slack.mock import sign
from tests.assistant.slack.slack_helpers import SECRET, SlackProcess


def test_cli_slack_starts_against_api_url_and_checks_signatures(tmp_path, mock):
    app = SlackProcess(tmp_path, mock)
    try:
        assert [c["method"] for c in mock.calls][:1] == ["auth.test"]  # at the mock, not slack.com
        raw = json.dumps({"type": "url_verification", "challenge": "c-42", "token": "x"})
        status, body = app.post(raw, sign(SECRET, raw))
        assert status == 200 and json.loads(body) == {"challenge": "c-42"}
        assert app.post(raw, sign("forged-secret", raw))[0] == 401
        stale = sign(SECRET, raw, timestamp=int(time.time()) - 10 * 60)
        assert app.post(raw, stale)[0] == 401
        assert app.post(raw, {"content-type": "application/json"})[0] == 401
    finally:
        code = app.stop()
    assert code == 0, app.log.read_text()[-2000:]  # SIGTERM: a clean shutdown
    assert "Traceback" not in app.log.read_text()
