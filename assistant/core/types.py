"""Small types shared across layers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

Echo: TypeAlias = Callable[[str], None]
"""Where a long-running command reports progress: ``print``, ``typer.echo`` or a test's list."""
