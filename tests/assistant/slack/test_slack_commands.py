"""`/clinassist case|mode|help`: fast ephemeral answers, channel-scoped."""

from __future__ import annotations

import json

import pytest

from assistant.core.config import load_settings
from assistant.core.errors import ConfigError
from assistant.policy import messages
from tests.assistant.slack.slack_helpers import TEAM, mention

ROOT = "1700000000.000100"


def _text(resp) -> str:
    assert resp.status == 200
    body = json.loads(resp.body)
    assert body["response_type"] == "ephemeral"
    return body["text"]


def test_help_and_unknown_subcommand(harness):
    h = harness()
    assert _text(h.command("help")) == messages.SLACK_HELP
    assert _text(h.command("")) == messages.SLACK_HELP
    unknown = _text(h.command("frobnicate now"))
    assert unknown.startswith("Unknown command `frobnicate`") and "case, mode, help" in unknown


def test_case_lists_only_this_channels_cases(harness):
    h = harness()
    assert "no cases" in _text(h.command("case"))
    h.event(mention("FINDINGS: Small left pleural effusion."))
    h.event(mention("FINDINGS: Other channel effusion.", channel="C0OTHER", ts="1700000001.000100"))
    listing = _text(h.command("case"))
    assert ROOT in listing and "1700000001.000100" not in listing
    one = _text(h.command(f"case {ROOT}"))
    assert "1 turn(s)" in one and "clinician" in one


def test_case_from_another_channel_is_refused(harness):
    h = harness()
    h.event(mention("FINDINGS: Other channel effusion.", channel="C0OTHER"))
    key = f"slack:{TEAM}:C0OTHER:{ROOT}"
    assert _text(h.command(f"case {key}")) == messages.SLACK_OTHER_CHANNEL
    link = "https://mock.slack.com/archives/C0OTHER/p1700000000000100"
    assert _text(h.command(f"case {link}")) == messages.SLACK_OTHER_CHANNEL
    # The bare ts looks only in this channel, where there is no such case.
    assert "no case" in _text(h.command(f"case {ROOT}")).lower()


def test_mode_show_set_and_pinned(harness):
    h = harness({"channel_modes": {"C0PAT": "patient"}})
    assert "clinician" in _text(h.command("mode"))
    assert "now *patient*" in _text(h.command("mode patient"))
    h.event(mention("FINDINGS: small effusion."))
    assert h.bot.history(f"slack:{TEAM}:C0CLIN:{ROOT}")[0].mode == "patient"
    assert "fixed by the admin" in _text(h.command("mode", channel="C0PAT"))
    assert "only a Slack admin" in _text(h.command("mode clinician", channel="C0PAT"))
    assert "patient" in _text(h.command("mode", channel="C0PAT"))
    assert _text(h.command("mode wizard")).startswith("Unknown mode 'wizard'")


def test_mode_survives_a_restart(harness):
    h = harness()
    _text(h.command("mode patient"))
    h2 = harness()
    assert "*patient*" in _text(h2.command("mode"))


def test_commands_respect_authorization(harness):
    h = harness({"allowed_channels": ["C0OK"]})
    assert _text(h.command("case")) == messages.SLACK_NOT_ALLOWED_CHANNEL


def test_only_a_configured_admin_switches_a_pinned_patient_channel_to_clinician(harness):
    h = harness({"channel_modes": {"C0PAT": "patient"}, "admins": ["U0BOSS"]})
    refused = _text(h.command("mode clinician", channel="C0PAT", user="U0DOC"))
    assert "only a Slack admin" in refused
    h.event(mention("FINDINGS: small effusion.", channel="C0PAT"))
    assert h.bot.history(f"slack:{TEAM}:C0PAT:{ROOT}")[0].mode == "patient"

    assert "now *clinician*" in _text(h.command("mode clinician", channel="C0PAT", user="U0BOSS"))
    shown = _text(h.command("mode", channel="C0PAT"))
    assert "*clinician*" in shown and "an admin changed it" in shown
    h.event(mention("FINDINGS: small effusion.", channel="C0PAT", ts="1700000009.000100"))
    assert h.bot.history(f"slack:{TEAM}:C0PAT:1700000009.000100")[0].mode == "clinician"
    # every instance sharing the store (here: a restart) sees the admin's choice
    assert "*clinician*" in _text(harness().command("mode", channel="C0PAT"))
    # back to the configured mode: the override is gone, the pin holds again
    _text(h.command("mode patient", channel="C0PAT", user="U0BOSS"))
    assert "fixed by the admin" in _text(h.command("mode", channel="C0PAT"))
    assert "only a Slack admin" in _text(h.command("mode clinician", channel="C0PAT"))


def test_any_patient_channel_needs_an_admin_to_go_to_clinician_mode(harness):
    h = harness({"admins": ["U0BOSS"]})
    assert "now *patient*" in _text(h.command("mode patient", user="U0DOC"))
    assert _text(h.command("mode clinician", user="U0DOC")) == messages.SLACK_MODE_ADMIN_ONLY
    assert "*patient*" in _text(h.command("mode"))
    assert "now *clinician*" in _text(h.command("mode clinician", user="U0BOSS"))


@pytest.mark.parametrize("bad", ["alice", "u0lower", "C0CHANNEL", ""])
def test_admins_must_be_slack_user_ids(bad, tmp_path):
    with pytest.raises(ConfigError, match="admins"):
        load_settings(None, environ={}, data_dir=tmp_path, slack={"admins": [bad]})
    ok = load_settings(None, environ={}, data_dir=tmp_path, slack={"admins": ["U0BOSS", "W0ENT"]})
    assert ok.slack.admins == ["U0BOSS", "W0ENT"]


def test_modes_chosen_before_they_moved_into_the_store_are_kept(harness, make_settings):
    legacy = make_settings().data_dir / "slack" / "channel_modes.json"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_text('{"C0CLIN": "patient", "C0BAD": "wizard"}')
    h = harness()
    assert "*patient*" in _text(h.command("mode"))
    assert "*clinician*" in _text(h.command("mode", channel="C0BAD"))
