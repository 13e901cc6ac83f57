"""Reading images safely and finding them in files, folders and globs.

Every image leaves here as 8-bit **BGR** ``HxWx3`` (OpenCV's order). Grayscale is expanded,
alpha dropped (as if composited on black), 16-bit scaled down to 8-bit. Anything posekit cannot
use raises an :class:`~posekit.errors.InputError` naming the file, with one-line reasons.
"""

from __future__ import annotations

import glob
import struct
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from posekit.errors import ImageTooLargeError, InputError, UnreadableInputError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm"})
DEFAULT_MAX_PIXELS = 50_000_000


def read_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Reads an image file as 8-bit BGR. Raises :class:`InputError` subclasses naming the file."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise UnreadableInputError(source, "no such file")
    if path.is_dir():
        raise UnreadableInputError(source, "is a folder, not an image")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableInputError(source, f"cannot read: {exc.strerror or exc}") from exc
    return decode_image(data, source, max_pixels=max_pixels)


def decode_image(data: bytes, source: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decodes encoded image bytes (as from a file or an upload) to 8-bit BGR."""
    if not data:
        raise UnreadableInputError(source, "empty file (0 bytes)")
    size = image_size_from_header(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise ImageTooLargeError(
            source,
            f"image is {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.0f} MP), over the limit of "
            f"{max_pixels / 1e6:.0f} MP; downscale it first",
        )
    if _is_truncated_jpeg(data):
        raise UnreadableInputError(source, "truncated JPEG (no end-of-image marker)")
    buffer = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise UnreadableInputError(source, "not an image, or corrupt (cannot decode)")
    if image.shape[0] * image.shape[1] > max_pixels:
        raise ImageTooLargeError(source, f"image is {image.shape[1]}x{image.shape[0]}, over the pixel limit")
    return to_bgr8(image)


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Any decoded image (gray, gray+alpha, BGR, BGRA; 8/16-bit or float) -> 8-bit BGR."""
    if image.dtype == np.uint16:
        image = (image / 257.0).round().astype(np.uint8)  # 65535 -> 255, not clipped
    elif image.dtype != np.uint8:
        image = np.clip(image.astype(np.float32) * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if channels == 2:  # gray + alpha
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image[:, :, :3])


def image_size_from_header(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG or JPEG header without decoding; None if unknown.

    Lets posekit refuse a 20000x20000 image before decoding allocates gigabytes.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        offset = 2
        while offset + 9 < len(data):
            if data[offset] != 0xFF:
                return None
            marker = data[offset + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
                offset += 2
                continue
            (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
            # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
                return int(width), int(height)
            offset += 2 + length
    return None


def _is_truncated_jpeg(data: bytes) -> bool:
    # OpenCV decodes a cut-off JPEG with a warning and grey rows; the missing EOI marker tells.
    # Some writers append padding or metadata after EOI, so look near the end, not at it.
    return data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-4096:]


def find_images(inputs: Sequence[str | Path]) -> tuple[list[Path], list[InputError]]:
    """Expands files, folders (recursive) and glob patterns into a sorted, de-duplicated list.

    A file named explicitly is kept whatever its suffix, so a bad file still gets its own
    clear error when it is read. Inputs matching nothing come back as errors, not exceptions,
    so a batch goes on.
    """
    found: list[Path] = []
    errors: list[InputError] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(path)

    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                errors.append(UnreadableInputError(text, "folder has no images"))
            for file in files:
                add(file)
        elif path.exists() or path.is_symlink():
            add(path)
        elif glob.has_magic(text):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            files = [m for m in matches if m.is_file() and m.suffix.lower() in IMAGE_SUFFIXES]
            if not files:
                errors.append(UnreadableInputError(text, "pattern matches no images"))
            for file in files:
                add(file)
        else:
            errors.append(UnreadableInputError(text, "no such file or folder"))
    return found, errors
