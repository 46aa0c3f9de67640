"""The default knowledge base, built in a background process while the REPL is already open.

``clinassist chat`` calls :func:`start`: when the default corpus is missing or outdated it
launches ``clinassist kb ingest`` as a detached process (output in ``<kb>/build.log``) and
returns at once. That ingest records its progress in ``<kb>/build-status.json``
(:class:`StatusWriter`); ``/status`` in the REPL, a line in ``ask`` and the
``search_knowledge`` tool read it (:func:`read_status`), so a question that needs the knowledge
base is told it is still being built instead of getting "I don't know".
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.core.config import Settings

STATUS_FILE = "build-status.json"
LOG_FILE = "build.log"
WRITE_EVERY_S = 1.0


def kb_dir(settings: Settings) -> Path:
    return settings.data_dir / "kb"


@dataclass(frozen=True)
class BuildStatus:
    state: str
    """``building``, ``done``, ``failed`` or ``interrupted`` (its process is gone)."""
    detail: str
    pid: int
    updated: float

    @property
    def building(self) -> bool:
        return self.state == "building"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: a zombie (exited, not reaped yet) is not a running build
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def read_status(settings: Settings) -> BuildStatus | None:
    """The last recorded build, or None when this knowledge base was never built by `kb ingest`
    of the default corpus here (or its record is unreadable)."""
    try:
        raw = json.loads((kb_dir(settings) / STATUS_FILE).read_text(encoding="utf-8"))
        status = BuildStatus(
            str(raw["state"]), str(raw["detail"]), int(raw["pid"]), float(raw["updated"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if status.building and not _alive(status.pid):
        return BuildStatus("interrupted", status.detail, status.pid, status.updated)
    return status


def is_building(settings: Settings) -> BuildStatus | None:
    """The running build's status, or None when no build is running."""
    status = read_status(settings)
    return status if status is not None and status.building else None


class StatusWriter:
    """Progress of one build, written atomically (at most once a second while it runs)."""

    def __init__(self, settings: Settings) -> None:
        self.path = kb_dir(settings) / STATUS_FILE
        self._last = 0.0

    def write(self, state: str, detail: str, *, force: bool = True) -> None:
        now = time.time()
        if not force and now - self._last < WRITE_EVERY_S:
            return
        self._last = now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"state": state, "detail": detail, "pid": os.getpid(), "updated": now}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(body, fh)
        os.replace(tmp, self.path)


def start(settings: Settings, *, config: Path | None = None) -> bool:
    """Launch the default corpus's ingest in the background unless it is up to date or a
    build is already running. True when one was launched."""
    from knowledge.kb.cli import default_corpus_current

    if is_building(settings) is not None or default_corpus_current(settings):
        return False
    folder = kb_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "assistant"]
    if config is not None:
        argv += ["--config", str(config)]
    env = {**os.environ, "CLINASSIST_DATA_DIR": str(settings.data_dir)}
    StatusWriter(settings).write("building", "starting")  # seen before the child writes
    with (folder / LOG_FILE).open("ab") as log:
        proc = subprocess.Popen(
            [*argv, "kb", "ingest"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,  # outlives the REPL; Ctrl-C there does not stop it
        )
    with contextlib.suppress(OSError):  # the child's own pid, until it writes its progress
        body = json.loads((folder / STATUS_FILE).read_text(encoding="utf-8"))
        if body.get("detail") == "starting":
            body["pid"] = proc.pid
            (folder / STATUS_FILE).write_text(json.dumps(body), encoding="utf-8")
    return True


def describe(settings: Settings) -> str:
    """One line for `/status` and `ask`: ready, still building (how far), failed or missing."""
    from assistant.policy import messages

    status = read_status(settings)
    if status is not None and status.state != "done":
        return messages.KB_STATUS[status.state].format(detail=status.detail)
    from knowledge.kb.cli import default_corpus_current

    if default_corpus_current(settings):
        return messages.KB_STATUS["ready"]
    return messages.KB_STATUS["missing"]
