"""posekit's exception types, all in one place.

Exception tree::

    PosekitError
    ├── InputError            a file or frame posekit cannot use (names the file)
    │   ├── UnreadableInputError   missing, unreadable, empty, corrupt or not an image
    │   └── ImageTooLargeError     decodes to more pixels than the configured limit
    ├── ModelError            a vendored model file is missing or fails its checksum
    └── UsageError            the API was called in a way it does not support
"""

from __future__ import annotations


class PosekitError(Exception):
    """Base class of every error posekit raises on purpose."""


class InputError(PosekitError):
    """An input (image, video, annotation file) cannot be used."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class UnreadableInputError(InputError):
    """The input is missing, unreadable, empty, truncated, corrupt or of the wrong type."""


class ImageTooLargeError(InputError):
    """The image has more pixels than ``max_image_pixels`` allows."""


class ModelError(PosekitError):
    """A model file is missing, fails its checksum, or does not fit the expected tensors."""


class UsageError(PosekitError):
    """The API was misused; the message says what to do instead."""
