"""Exceptions with stable codes and one user-facing line each.

Every error a user can cause is a :class:`UserError` (exit code 2): it says what was wrong and
what to do, and it is raised before any stored state changes.
"""

from __future__ import annotations


class ClinassistError(Exception):
    """Base class. ``code`` is stable (for logs and tests); ``str()`` is the user-facing line."""

    code = "E000"
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UserError(ClinassistError):
    """Bad input from the user: exit 2, nothing stored."""

    code = "E100"
    exit_code = 2


class ConfigError(UserError):
    code = "E101"


class EmptyMessageError(UserError):
    code = "E102"


class MessageTooLongError(UserError):
    code = "E103"


class AttachmentError(UserError):
    code = "E104"


class UnknownCommandError(UserError):
    code = "E105"


class CaseNotFoundError(UserError):
    code = "E106"


class InvalidCaseIdError(UserError):
    code = "E107"


class ScriptError(UserError):
    code = "E108"


class ModelError(ClinassistError):
    """A model could not be fetched, verified or loaded."""

    code = "E200"
    exit_code = 2


class ToolUnavailableError(ClinassistError):
    """A tool exists in the registry but its capability is not installed or built yet."""

    code = "E300"


class KnowledgeBuildingError(ToolUnavailableError):
    """The knowledge base is being built in the background: ask again later."""

    code = "E301"


class StoreError(ClinassistError):
    code = "E400"


class ModelDownloadError(ModelError):
    """The package index cannot be reached, or does not offer a model's wheel."""

    code = "E201"


class ChecksumMismatchError(ModelError):
    """A fetched or derived model file is not the catalogue's (never used; tests fail on it)."""

    code = "E202"
