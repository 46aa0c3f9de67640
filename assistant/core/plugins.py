"""Entry points named "module:function" (eval areas, bench suites), imported on demand so that
`clinassist` starts fast and each area loads only its own heavy dependencies."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def load_entry(target: str) -> Callable[..., Any]:
    module_name, _, attr = target.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
    return fn
