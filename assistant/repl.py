"""The terminal REPL: a thin front end over ``Assistant.respond``.

Reads with prompt_toolkit on a terminal (history, editing) and plain lines otherwise (pipes,
tests). Streams the model's tokens as they arrive. Bad input prints one line and changes nothing.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape

from assistant.core.errors import AttachmentError, ClinassistError, UnknownCommandError, UserError
from assistant.core.schema import Mode, Turn
from assistant.policy import messages
from assistant.policy.messages import triage_trail
from assistant.service import Assistant, Attachment, validate_case_id, validate_mode

COMMANDS = (
    "/case",
    "/mode",
    "/attach",
    "/history",
    "/reset",
    "/status",
    "/help",
    "/quit",
    "/exit",
)
TRIAGE_STYLES = {
    "emergency": "bold red",
    "urgent": "bold yellow",
    "routine": "bold cyan",
    "self_care": "bold green",
}


def _lines_from(stream: TextIO) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\n")


def line_history(history_file: Path | None) -> Any:
    """Where the REPL keeps typed lines: in memory only (``None``), or a file that stores each
    line with PHI redacted (what a clinician types often names a patient)."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    if history_file is None:
        return InMemoryHistory()

    class RedactedFileHistory(FileHistory):
        def store_string(self, string: str) -> None:
            from assistant.policy.safety import redact_phi

            super().store_string(redact_phi(string).text)

    history_file.parent.mkdir(parents=True, exist_ok=True)
    return RedactedFileHistory(str(history_file))


def terminal_lines(history_file: Path | None, prompt: Callable[[], str]) -> Iterator[str]:
    from prompt_toolkit import PromptSession

    session: PromptSession[str] = PromptSession(history=line_history(history_file))
    while True:
        try:
            yield session.prompt(prompt())
        except KeyboardInterrupt:
            continue
        except EOFError:
            return


def unstreamed(reply: str, streamed: str) -> str:
    """The part of ``reply`` a streaming front end has not printed yet. The streamed text is
    the emergency banner (if any) and then the checked answer; when the answer was replaced
    afterwards (e.g. by "I don't know"), only the banner is known to have been printed."""
    done = streamed.strip()
    if not done:
        return reply
    if done in reply:
        return reply.replace(done, "", 1).strip()
    lead = done.split("\n\n", 1)[0]
    return reply[len(lead) :].strip() if reply.startswith(lead) else reply


class Repl:
    def __init__(
        self,
        assistant: Assistant,
        *,
        case_id: str = "default",
        mode: Mode | None = None,
        console: Console | None = None,
        err_console: Console | None = None,
    ) -> None:
        self.assistant = assistant
        self.case_id = validate_case_id(case_id)
        self.mode: Mode = mode or assistant.case_mode(case_id)
        self.console = console or Console(highlight=False)
        self.err = err_console or Console(stderr=True, highlight=False)
        self.pending: list[Attachment] = []

    def prompt(self) -> str:
        extra = f" +{len(self.pending)} file(s)" if self.pending else ""
        return f"[{self.case_id} · {self.mode}{extra}] > "

    def error(self, message: str) -> None:
        self.err.print(f"[red]error:[/red] {escape(message)}")

    def run(self, lines: Iterator[str] | None = None) -> int:
        interactive = lines is None and sys.stdin.isatty()
        if lines is None:
            settings = self.assistant.settings
            history = (
                settings.data_dir / "repl_history" if settings.repl.history == "redacted" else None
            )
            lines = terminal_lines(history, self.prompt) if interactive else _lines_from(sys.stdin)
        # Load the router's models while the user types (the prompt is ready at once).
        threading.Thread(target=self._warm, daemon=True).start()
        self.console.print(
            f"Clinassist: case [bold]{escape(self.case_id)}[/bold], {self.mode} mode. "
            "Type /help for commands. Decision support, not a diagnosis."
        )
        for line in lines:
            if not interactive:
                self.console.print(f"{self.prompt()}{line}", markup=False)
            if not self.handle(line):
                break
        self.console.print("Bye. The case is saved.")
        return 0

    def _warm(self) -> None:
        with contextlib.suppress(Exception):  # an optimisation: the turn reports real errors
            self.assistant.warm()

    def handle(self, line: str) -> bool:
        """One input line. Returns False to quit."""
        stripped = line.strip()
        try:
            if stripped.startswith("/"):
                return self.command(stripped)
            if not stripped and not self.pending:
                return True
            self.turn(stripped)
        except UserError as exc:
            self.error(exc.message)
        except ClinassistError as exc:
            self.error(exc.message)
        return True

    def command(self, line: str) -> bool:
        try:
            parts = shlex.split(line)
        except ValueError:
            parts = line.split()
        cmd, args = parts[0].lower(), parts[1:]
        if cmd in ("/quit", "/exit"):
            return False
        if cmd == "/help":
            self.console.print(messages.HELP, markup=False)
        elif cmd == "/case":
            if not args:
                self.console.print(
                    f"Current case: {self.case_id}. Use /case ID to switch.", markup=False
                )
            else:
                self.case_id = validate_case_id(args[0])
                self.mode = self.assistant.case_mode(self.case_id)
                self.pending = []
                turns = self.assistant.store.load_case(self.case_id)
                state = f"{turns[1]} turns so far" if turns else "new case"
                self.console.print(
                    f"Case {self.case_id} ({self.mode} mode, {state}).", markup=False
                )
        elif cmd == "/mode":
            if not args:
                self.console.print(
                    f"Mode: {self.mode}. Use /mode clinician or /mode patient.", markup=False
                )
            else:
                self.mode = validate_mode(args[0].lower())
                self.assistant.set_mode(self.case_id, self.mode, actor="repl")
                self.console.print(f"Case {self.case_id} is now in {self.mode} mode.", markup=False)
        elif cmd == "/attach":
            if not args:
                raise AttachmentError("Usage: /attach PATH (an image or a report file).")
            limit = self.assistant.settings.limits.max_attachment_bytes
            for arg in args:
                self.pending.append(Attachment.from_path(arg, limit=limit))
                self.console.print(
                    f"Attached {Path(arg).name}; it goes with your next message (or press Enter).",
                    markup=False,
                )
        elif cmd == "/history":
            past = self.assistant.store.history(self.case_id)
            for turn, trail in zip(past, triage_trail(past), strict=True):
                self.show_history_turn(turn)
                if trail:
                    self.console.print(f"   {trail}", markup=False)
            if not self.assistant.store.exists(self.case_id):
                self.console.print("This case has no turns yet.", markup=False)
        elif cmd == "/status":
            from knowledge.kb.build import describe

            self.console.print(describe(self.assistant.settings), markup=False)
        elif cmd == "/reset":
            if args[:1] != ["yes"]:
                self.console.print(
                    f"This erases case {self.case_id}'s turns, findings, files and heatmaps. Type `/reset yes` to confirm.",
                    markup=False,
                )
            elif self.assistant.store.exists(self.case_id):
                self.assistant.reset(self.case_id, actor="repl")
                self.pending = []
                self.console.print(f"Case {self.case_id} starts over.", markup=False)
        else:
            raise UnknownCommandError(messages.ERR_UNKNOWN_COMMAND.format(command=cmd))
        return True

    def turn(self, text: str) -> Turn:
        streamed: list[str] = []

        def on_token(piece: str) -> None:
            streamed.append(piece)
            self.console.print(piece, end="", markup=False, soft_wrap=True)

        pending, self.pending = self.pending, []
        try:
            turn = self.assistant.respond(
                self.case_id, text, pending, self.mode, actor="repl", on_token=on_token
            )
        except UserError:
            self.pending = pending  # nothing was stored: keep the attachments for a retry
            raise
        if streamed:
            self.console.print()
            rest = unstreamed(turn.reply, "".join(streamed))
            if rest:
                self.show_reply(rest, turn)
        else:
            self.show_reply(turn.reply, turn)
        return turn

    def show_reply(self, text: str, turn: Turn) -> None:
        style = "bold red" if turn.safety.emergency else None
        if turn.triage is not None and not turn.safety.emergency and not turn.triage.provisional:
            head, _, rest = text.partition("\n\n")  # the level leads the reply: shown in colour
            self.console.print(
                head, style=TRIAGE_STYLES[turn.triage.level], markup=False, soft_wrap=True
            )
            text = rest
        if text:
            self.console.print(text, style=style, markup=False, soft_wrap=True)
        if turn.tools:
            tools = ", ".join(
                f"{t.name}{'' if t.ok else ' (failed)'} {t.ms} ms" for t in turn.tools
            )
            self.console.print(f"[dim]tools: {escape(tools)} · {turn.latency_ms} ms[/dim]")

    def show_history_turn(self, turn: Turn) -> None:
        files = f" [{', '.join(a.name for a in turn.attachments)}]" if turn.attachments else ""
        self.console.print(
            f"#{turn.index + 1} {turn.created_at[:19]} you{files}: {turn.user}", markup=False
        )
        self.console.print(f"   assistant: {turn.reply}", markup=False, soft_wrap=True)
