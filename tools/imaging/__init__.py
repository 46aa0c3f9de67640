"""Medical image handling for ``classify_image``: loading (PNG, JPEG, DICOM), a versioned
classifier registry, Grad-CAM, temperature calibration, an out-of-scope guard, our own
plain-torch training, evaluation and benchmarks.

Heavy parts (Keras on the torch backend, torch) load lazily, on first use.
"""

from tools.imaging.errors import (
    CorruptImageError,
    ImageError,
    ImageTooLargeError,
    UnsupportedImageError,
)
from tools.imaging.io import LoadedImage, load_image

__all__ = [
    "CorruptImageError",
    "ImageError",
    "ImageTooLargeError",
    "LoadedImage",
    "UnsupportedImageError",
    "load_image",
]
