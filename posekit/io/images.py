"""Reading images safely and finding them in files, folders and globs.

Every image leaves here as 8-bit **BGR** ``HxWx3`` (OpenCV's channel order), upright:

* grayscale is repeated into three channels;
* an alpha channel is dropped: the colour stored under it is kept (what most encoders store
  under full transparency is black, so transparent areas usually come out black);
* 16-bit images are scaled to 8-bit (``65535 -> 255``), never clipped;
* a JPEG's EXIF orientation is applied, so phone photos come out the right way up.

The pixel count is read from the file header and checked against ``max_pixels`` *before*
decoding, so a 20000x20000 image is refused with a clear message instead of using gigabytes.
Headers are read for PNG, JPEG, BMP, WebP, TIFF, PNM, JPEG 2000 and GIF; for any other format
the limit is checked after decoding (OpenCV's own limit of 2^30 pixels still applies first).

Anything posekit cannot use raises an :class:`~posekit.errors.InputError` subclass whose
one-line message names the file and the reason.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from posekit.errors import ImageTooLargeError, InputError, UnreadableInputError

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".jp2", ".pbm", ".pgm", ".ppm", ".pnm"}
)
DEFAULT_MAX_PIXELS = 50_000_000
# Smaller images cannot hold a person (and the models cannot crop them).
MIN_SIDE_PX = 2
# The largest file an image within the pixel limit can need: 16 bytes a pixel covers float32
# RGBA; the slack covers metadata and data appended after the image (e.g. motion photos).
_MAX_BYTES_PER_PIXEL = 16
_FILE_SLACK_BYTES = 64 << 20
# IMREAD_UNCHANGED would ignore EXIF orientation; these flags keep depth and colour and apply it.
_DECODE_FLAGS = cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH


def read_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Reads an image file as an 8-bit BGR ``HxWx3`` array.

    Raises :class:`UnreadableInputError` (missing, folder, unreadable, empty, truncated, corrupt,
    not an image) or :class:`ImageTooLargeError` (more than ``max_pixels`` pixels).
    """
    path = Path(path)
    source = str(path)
    try:
        if path.is_dir():
            raise UnreadableInputError(source, "is a folder, not an image")
        file_bytes = path.stat().st_size
        max_file_bytes = max_pixels * _MAX_BYTES_PER_PIXEL + _FILE_SLACK_BYTES
        if file_bytes > max_file_bytes:  # refuse before reading it all into memory
            raise ImageTooLargeError(
                source, f"file is {file_bytes / 1e6:.0f} MB, more than an image of {_megapixels(max_pixels)} can need"
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UnreadableInputError(source, "no such file") from exc
    except NotADirectoryError as exc:
        raise UnreadableInputError(source, "no such file (a parent in the path is a file)") from exc
    except OSError as exc:
        raise UnreadableInputError(source, f"cannot read: {exc.strerror or exc}") from exc
    return decode_image(data, source, max_pixels=max_pixels)


def decode_image(data: bytes, source_name: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decodes encoded image bytes (from a file or an upload) to 8-bit BGR ``HxWx3``.

    ``source_name`` names the input in error messages. Same checks and errors as :func:`read_image`.
    """
    if not data:
        raise UnreadableInputError(source_name, "empty file (0 bytes)")
    size = image_size_from_header(data)
    if size is not None:
        _check_pixel_count(source_name, size[0], size[1], max_pixels)
    _check_complete(source_name, data)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), _DECODE_FLAGS)
    if image is None or image.size == 0:
        raise UnreadableInputError(source_name, "not an image, or corrupt (cannot decode)")
    if size is None:  # no header reader for this format: check now, late but still checked
        _check_pixel_count(source_name, image.shape[1], image.shape[0], max_pixels)
    if image.shape[0] < MIN_SIDE_PX or image.shape[1] < MIN_SIDE_PX:
        raise InputError(
            source_name, f"image of {image.shape[1]}x{image.shape[0]} pixels is too small to hold a person"
        )
    return to_bgr8(image)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:g} MP"


def _check_pixel_count(source: str, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLargeError(
            source,
            f"image is {width}x{height} ({_megapixels(width * height)}), over the limit of "
            f"{_megapixels(max_pixels)}; downscale it first",
        )


def _check_complete(source: str, data: bytes) -> None:
    # OpenCV decodes some cut-off files with only a warning and grey rows; the missing end
    # marker tells. Checked by walking the file's structure, so data appended after the end
    # (metadata trailers, motion-photo videos) is fine.
    if data[:2] == b"\xff\xd8" and not _jpeg_is_complete(data):
        raise UnreadableInputError(source, "truncated JPEG (no end-of-image marker)")
    if data[:8] == _PNG_SIGNATURE and not _png_is_complete(data):
        raise UnreadableInputError(source, "truncated PNG (no IEND chunk)")


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Any decoded image (gray, gray+alpha, BGR, BGRA; 8/16-bit or float) -> 8-bit BGR ``HxWx3``."""
    image = _to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    channels = image.shape[2]
    if channels <= 2:  # gray, or gray + alpha
        return cv2.cvtColor(np.ascontiguousarray(image[:, :, 0]), cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(image[:, :, :3])


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image / 257.0).round().astype(np.uint8)  # 65535 -> 255: scaled, not clipped
    as_float = np.nan_to_num(image.astype(np.float32))
    if image.dtype.kind == "f" and as_float.max(initial=0.0) <= 1.0:  # float images are usually 0..1
        as_float *= 255.0
    return np.clip(as_float, 0, 255).round().astype(np.uint8)


# --- Header readers: (width, height) without decoding -----------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG markers without a length field: TEM, SOI and the restart markers.
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})
# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# After a scan's entropy-coded data, the next marker: FF not followed by 00 (a stuffed FF) or a restart.
_JPEG_AFTER_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7]")


def _jpeg_markers(data: bytes) -> Iterator[tuple[int, int]]:
    """Yields ``(marker, offset)`` of each JPEG segment, in order, up to EOI or the end of the data."""
    offset = 2
    while 0 <= (offset := data.find(b"\xff", offset)) < len(data) - 1:  # like libjpeg, skip stray bytes
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte before a marker
            offset += 1
            continue
        if marker == 0x00 or marker in _JPEG_STANDALONE:
            offset += 2
            continue
        yield marker, offset
        if marker == 0xD9 or offset + 4 > len(data):
            return
        offset += 2 + int.from_bytes(data[offset + 2 : offset + 4], "big")
        if marker == 0xDA:
            after_scan = _JPEG_AFTER_SCAN.search(data, offset)
            if after_scan is None:
                return
            offset = after_scan.start()


def _jpeg_is_complete(data: bytes) -> bool:
    return any(marker == 0xD9 for marker, _ in _jpeg_markers(data))


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    for marker, offset in _jpeg_markers(data):
        if marker in _JPEG_SOF and offset + 9 <= len(data):
            height = int.from_bytes(data[offset + 5 : offset + 7], "big")
            width = int.from_bytes(data[offset + 7 : offset + 9], "big")
            return width, height
        if marker == 0xDA:  # a scan before any frame header: not a JPEG we can size
            return None
    return None


def _png_is_complete(data: bytes) -> bool:
    offset = len(_PNG_SIGNATURE)
    while offset + 8 <= len(data):
        if data[offset + 4 : offset + 8] == b"IEND":
            return True
        offset += 12 + int.from_bytes(data[offset : offset + 4], "big")  # length, type, data, CRC
    return False


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _bmp_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 26:
        return None
    if int.from_bytes(data[14:18], "little") == 12:  # the old OS/2 header has 16-bit sizes
        return int.from_bytes(data[18:20], "little"), int.from_bytes(data[20:22], "little")
    width = int.from_bytes(data[18:22], "little", signed=True)
    height = int.from_bytes(data[22:26], "little", signed=True)  # negative means top-down rows
    return abs(width), abs(height)


def _webp_size(data: bytes) -> tuple[int, int] | None:
    if data[8:12] != b"WEBP" or len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8 ":  # lossy: 14-bit sizes after the frame tag and start code
        return int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF
    if chunk == b"VP8L":  # lossless: 14-bit (size - 1) fields packed after a signature byte
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: 24-bit (canvas size - 1)
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    order: Literal["little", "big"] = "little" if data[:2] == b"II" else "big"

    def number(offset: int, size: int) -> int:
        return int.from_bytes(data[offset : offset + size], order)

    ifd = number(4, 4)  # the first image file directory: a count, then 12-byte entries
    if ifd + 2 > len(data):
        return None
    sizes: dict[int, int] = {}
    for entry in range(number(ifd, 2)):
        start = ifd + 2 + 12 * entry
        if start + 12 > len(data):
            break
        tag, field_type = number(start, 2), number(start + 2, 2)
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT (3) or LONG (4), stored in the value field
            sizes[tag] = number(start + 8, 2 if field_type == 3 else 4)
    if 256 in sizes and 257 in sizes:
        return sizes[256], sizes[257]
    return None


def _pnm_size(data: bytes) -> tuple[int, int] | None:
    fields = re.sub(rb"#[^\n]*", b" ", data[:1024]).split()  # comments may sit between fields
    if len(fields) < 3 or not (fields[1].isdigit() and fields[2].isdigit()):
        return None
    return int(fields[1]), int(fields[2])


def _jp2_size(data: bytes) -> tuple[int, int] | None:
    at = data.find(b"ihdr", 0, 4096)  # image header box: height, then width
    if at < 0 or at + 12 > len(data):
        return None
    return int.from_bytes(data[at + 8 : at + 12], "big"), int.from_bytes(data[at + 4 : at + 8], "big")


def _gif_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 10:
        return None
    return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")


_HEADER_READERS: tuple[tuple[Callable[[bytes], bool], Callable[[bytes], tuple[int, int] | None]], ...] = (
    (lambda data: data[:8] == _PNG_SIGNATURE, _png_size),
    (lambda data: data[:2] == b"\xff\xd8", _jpeg_size),
    (lambda data: data[:2] == b"BM", _bmp_size),
    (lambda data: data[:4] == b"RIFF", _webp_size),
    (lambda data: data[:4] in (b"II*\x00", b"MM\x00*"), _tiff_size),
    (lambda data: data[:1] == b"P" and data[1:2] in b"123456" and data[2:3].isspace(), _pnm_size),
    (lambda data: data[4:8] == b"jP  ", _jp2_size),
    (lambda data: data[:6] in (b"GIF87a", b"GIF89a"), _gif_size),
)


def image_size_from_header(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` read from the file header without decoding; None if the format is unknown.

    Lets posekit refuse a 20000x20000 image before decoding allocates gigabytes.
    """
    for matches, read_size in _HEADER_READERS:
        if matches(data):
            return read_size(data)
    return None


# --- Finding images -------------------------------------------------------------------------


def _is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


def _images_in_folder(folder: Path) -> tuple[list[Path], list[InputError]]:
    """The folder's images, recursively, through symbolic links too; broken links and link
    loops come back as errors. Hidden entries are skipped: macOS "._photo.jpg" resource forks
    and thumbnail caches are not images."""
    files: list[Path] = []
    errors: list[InputError] = []
    visited: set[str] = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in visited:
            errors.append(UnreadableInputError(root, f"symbolic link loop (back to {real}); not read again"))
            dirs[:] = []
            continue
        visited.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            path = Path(root) / name
            if name.startswith("."):
                continue
            if path.is_symlink() and not path.exists():  # a link to a missing file or folder
                errors.append(UnreadableInputError(str(path), f"broken symbolic link (to {os.readlink(path)})"))
            elif path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                files.append(path)
    return sorted(files), errors


def _expand_glob(pattern: str) -> list[Path]:
    files: list[Path] = []
    for match in sorted(glob.glob(pattern, recursive=True)):
        path = Path(match)
        if path.is_dir():
            files.extend(_images_in_folder(path)[0])
        elif _is_image_file(path):
            files.append(path)
    return files


def find_images(inputs: Sequence[str | Path]) -> tuple[list[Path], list[InputError]]:
    """Expands files, folders and glob patterns into a de-duplicated list of image paths.

    * a folder gives its images recursively (suffixes in :data:`IMAGE_SUFFIXES`, any case), sorted;
    * a glob pattern (``*``, ``?``, ``[...]``, ``**`` for any depth) gives its matching images, sorted;
    * a file named explicitly is kept whatever its suffix, so a bad file still gets its one
      clear error line when it is read.

    Inputs that match nothing come back as errors, not exceptions, so a batch goes on. Order is
    the order of ``inputs``; a file reached twice is listed once, where it was first found.
    """
    found: list[Path] = []
    errors: list[InputError] = []
    seen: set[Path] = set()
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            files, folder_errors = _images_in_folder(path)
            errors.extend(folder_errors)
            missing_reason = "folder has no images"
        elif path.exists():
            files, missing_reason = [path], ""
        elif path.is_symlink():
            files, missing_reason = [], f"broken symbolic link (to {os.readlink(path)})"
        elif glob.has_magic(text):
            files = _expand_glob(text)
            missing_reason = "pattern matches no images"
        else:
            files, missing_reason = [], "no such file or folder"
        if not files:
            errors.append(UnreadableInputError(text, missing_reason))
        for file in files:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                found.append(file)
    logger.debug("found %d images in %d inputs (%d errors)", len(found), len(inputs), len(errors))
    return found, errors
