"""llama.cpp's messages go to logging; loading a model leaves the process's output alone.

llama-cpp-python silences llama.cpp (``verbose=False``) by pointing file descriptors 1 and 2,
and ``sys.stdout``/``sys.stderr``, at ``/dev/null`` while it initialises the backend and loads
a model (``llama_cpp._utils.suppress_stdout_stderr``). That is process-wide: whatever another
thread prints meanwhile is lost (the REPL's replies while the model warms up in a background
thread), and two overlapping uses can leave stdout and stderr on ``/dev/null`` for good (each
restores what it found on entry). llama.cpp writes its messages through a log callback, which
llama-cpp-python already filters by level, so the redirection hides nothing else:
:func:`route_llama_cpp_logs` replaces it with a no-op and sends llama.cpp's messages to the
``llama_cpp`` logger (``--debug`` shows them; errors are warnings).
``tests/assistant/core/test_llama_output.py`` checks both on a real model.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from types import TracebackType
from typing import Any

log = logging.getLogger("llama_cpp")

_GGML_ERROR = 4
_GGML_CONT = 5
"""ggml's log levels: 1 debug, 2 info, 3 warning, 4 error, 5 continuation of the last line."""
_MODULES = ("llama_cpp.llama", "llama_cpp._internals", "llama_cpp.llama_chat_format")
"""llama-cpp-python's modules that redirect the streams around their native calls."""

_lock = threading.Lock()
_callback: Any = None  # kept referenced: llama.cpp holds a pointer to it


class _LeaveStreams:
    """Stands in for ``suppress_stdout_stderr``: the streams stay where they are."""

    def __init__(self, disable: bool = True) -> None:
        self.disable = disable

    def __enter__(self) -> _LeaveStreams:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


_last_level = [logging.DEBUG]  # ggml's "continuation" level (5) continues the previous line


def _on_log(level: int, text: bytes, user_data: Any) -> None:
    if level != _GGML_CONT:
        _last_level[0] = logging.WARNING if level == _GGML_ERROR else logging.DEBUG
    line = text.decode("utf-8", "replace").rstrip()
    if line:
        log.log(_last_level[0], "%s", line)


def route_llama_cpp_logs() -> None:
    """Install the log callback and the no-op redirection (once per process; call before
    loading a model)."""
    global _callback
    with _lock:
        if _callback is not None:
            return
        import importlib

        import llama_cpp

        for name in _MODULES:
            module = importlib.import_module(name)
            if hasattr(module, "suppress_stdout_stderr"):
                setattr(module, "suppress_stdout_stderr", _LeaveStreams)  # noqa: B010
        _callback = llama_cpp.llama_log_callback(_on_log)
        llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
