"""Image errors: each is an :class:`~assistant.core.errors.AttachmentError` (a user error, exit 2)
with one line that says what was wrong and what to do."""

from __future__ import annotations

from assistant.core.errors import AttachmentError


class ImageError(AttachmentError):
    """Base class for a bad image attachment."""

    code = "E140"


class CorruptImageError(ImageError):
    """The bytes claim to be an image but cannot be decoded."""

    code = "E141"


class ImageTooLargeError(ImageError):
    """Too many pixels or bytes (a guard against decompression bombs and memory blow-ups)."""

    code = "E142"


class UnsupportedImageError(ImageError):
    """A valid file of a kind we cannot read (e.g. a DICOM without pixel data)."""

    code = "E143"


class NoPixelDataError(UnsupportedImageError):
    """A valid DICOM file without an image (e.g. a Structured Report)."""

    code = "E144"
