import struct
import zlib

import cv2
import numpy as np
import pytest

from posekit.errors import ImageTooLargeError, UnreadableInputError
from posekit.io.images import find_images, image_size_from_header, read_image
from tests.conftest import IMAGES

JPEG = IMAGES / "000000196141.jpg"


def fake_png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 64


def test_reads_real_jpeg_as_bgr():
    image = read_image(JPEG)
    assert image.shape == (429, 640, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, cv2.imread(str(JPEG)))


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p, src: p.write_bytes(b""), "empty"),
        (lambda p, src: p.write_bytes(src.read_bytes()[: len(src.read_bytes()) // 2]), "truncated"),
        (lambda p, src: p.write_bytes(np.random.default_rng(0).bytes(5000)), "not an image"),
        (lambda p, src: p.write_text("hello, I am text"), "not an image"),
    ],
)
def test_bad_files_raise_one_clear_error_naming_the_file(tmp_path, make, reason):
    path = tmp_path / "bad.jpg"
    make(path, JPEG)
    with pytest.raises(UnreadableInputError) as info:
        read_image(path)
    assert str(path) in str(info.value) and reason in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_folder_and_non_file(tmp_path):
    with pytest.raises(UnreadableInputError, match="no such file"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(UnreadableInputError, match="folder"):
        read_image(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UnreadableInputError):
        read_image(blocker / "child.jpg")


def test_huge_image_is_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(fake_png_header(20000, 20000))
    assert image_size_from_header(path.read_bytes()) == (20000, 20000)
    with pytest.raises(ImageTooLargeError, match="20000x20000"):
        read_image(path)


def test_jpeg_header_size_is_read():
    assert image_size_from_header(JPEG.read_bytes()) == (640, 429)


def test_grayscale_rgba_and_16bit_become_bgr8(tmp_path):
    colour = cv2.imread(str(JPEG))
    gray = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    cv2.imwrite(str(tmp_path / "rgba.png"), cv2.cvtColor(colour, cv2.COLOR_BGR2BGRA))
    cv2.imwrite(str(tmp_path / "deep.png"), colour.astype(np.uint16) * 257)
    for name in ("gray.png", "rgba.png", "deep.png"):
        image = read_image(tmp_path / name)
        assert image.shape == colour.shape and image.dtype == np.uint8, name
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png"), colour)  # scaled, not clipped
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), colour)
    np.testing.assert_array_equal(read_image(tmp_path / "gray.png")[:, :, 0], gray)


def test_find_images_expands_folders_globs_and_reports_misses(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "empty").mkdir()
    for rel in ("a/1.jpg", "a/b/2.PNG", "a/notes.txt"):
        (tmp_path / rel).write_bytes(b"x")
    found, errors = find_images(
        [
            str(tmp_path / "a"),
            str(tmp_path / "a" / "*.jpg"),
            str(tmp_path / "empty"),
            str(tmp_path / "missing.jpg"),
            str(tmp_path / "a" / "notes.txt"),
        ]
    )
    names = [p.name for p in found]
    assert names == ["1.jpg", "2.PNG", "notes.txt"]  # de-duplicated; named files kept whatever the suffix
    assert len(errors) == 2 and any("empty" in str(e) for e in errors) and any("missing" in str(e) for e in errors)
