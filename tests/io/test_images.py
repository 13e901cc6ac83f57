import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from posekit.errors import ImageTooLargeError, InputError, UnreadableInputError
from posekit.io import images as images_module
from posekit.io.images import decode_image, find_images, image_size_from_header, read_image
from tests.conftest import IMAGES

JPEG = IMAGES / "000000196141.jpg"  # 640x429, COCO val2017
MESSI = IMAGES / "messi5.jpg"  # 548x342, OpenCV sample


# --- builders of bad and unusual files --------------------------------------------------------


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def fake_png(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming ``width x height``, then a tiny body."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + body


def fake_jpeg(width: int, height: int) -> bytes:
    """SOI, a baseline frame header claiming ``width x height`` (3 components), EOI."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"


def fake_bmp(width: int, height: int) -> bytes:
    dib = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 0, 0, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(dib), 0, 0, 14 + len(dib)) + dib


def fake_webp(width: int, height: int) -> bytes:
    vp8x = bytes([0, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(vp8x)) + b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x


def fake_tiff(width: int, height: int) -> bytes:
    entries = struct.pack("<HHII", 256, 4, 1, width) + struct.pack("<HHII", 257, 4, 1, height)
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 2) + entries + struct.pack("<I", 0)


def jpeg_with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    tiff = b"MM\x00*" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + b"\0" * 4
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


# --- reading good images -------------------------------------------------------------------------


@pytest.mark.parametrize("path, shape", [(JPEG, (429, 640, 3)), (MESSI, (342, 548, 3))])
def test_reads_real_jpeg_as_bgr8(path, shape):
    image = read_image(path)
    assert image.shape == shape and image.dtype == np.uint8 and image.flags.c_contiguous
    np.testing.assert_array_equal(image, cv2.imread(str(path)))  # OpenCV's BGR order


def test_decode_image_accepts_bytes_for_uploads():
    image = decode_image(MESSI.read_bytes(), "upload.jpg")
    np.testing.assert_array_equal(image, cv2.imread(str(MESSI)))


def test_grayscale_rgba_and_16bit_become_bgr8(tmp_path):
    colour = cv2.imread(str(MESSI))
    gray = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    transparent = cv2.cvtColor(colour, cv2.COLOR_BGR2BGRA)
    transparent[:, :, 3] = 0
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    cv2.imwrite(str(tmp_path / "rgba.png"), transparent)
    cv2.imwrite(str(tmp_path / "deep.png"), colour.astype(np.uint16) * 257)
    for name in ("gray.png", "rgba.png", "deep.png"):
        image = read_image(tmp_path / name)
        assert image.shape == colour.shape and image.dtype == np.uint8, name
    np.testing.assert_array_equal(read_image(tmp_path / "gray.png"), cv2.merge([gray, gray, gray]))
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), colour)  # alpha dropped, colour kept
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png"), colour)  # 65535 -> 255


def test_16bit_is_scaled_not_clipped(tmp_path):
    levels = np.array([[0, 257, 32768, 65535]] * 2, dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "levels.png"), levels)
    np.testing.assert_array_equal(read_image(tmp_path / "levels.png")[0, :, 0], [0, 1, 128, 255])


def test_an_image_too_small_to_hold_a_person_is_an_input_error_naming_the_file(tmp_path):
    cv2.imwrite(str(tmp_path / "dot.png"), np.zeros((1, 1, 3), np.uint8))
    with pytest.raises(InputError, match=r"dot\.png: image of 1x1 pixels is too small"):
        read_image(tmp_path / "dot.png")


def test_exif_orientation_is_applied():
    rotated = jpeg_with_exif_orientation(MESSI.read_bytes(), orientation=6)  # "rotate 90 clockwise"
    assert decode_image(rotated, "phone.jpg").shape == (548, 342, 3)


def test_data_after_the_jpeg_end_is_fine():
    # Motion photos and some cameras append data after the end-of-image marker.
    data = MESSI.read_bytes() + b"\x00" * 100 + b"trailing metadata" * 100
    assert decode_image(data, "motion.jpg").shape == (342, 548, 3)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".webp", ".tiff", ".ppm", ".pgm", ".jp2"])
def test_header_size_matches_decoded_size(suffix):
    image = cv2.imread(str(MESSI))
    if suffix == ".pgm":
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    ok, encoded = cv2.imencode(suffix, image)
    assert ok
    assert image_size_from_header(encoded.tobytes()) == (548, 342)
    assert decode_image(encoded.tobytes(), f"x{suffix}").shape == (342, 548, 3)


# --- bad inputs: one clear error line naming the file ------------------------------------------


def _truncated_half(path: Path, source: Path) -> None:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _truncated_then_zero_padded(path: Path, source: Path) -> None:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) - 200] + b"\x00" * 4096)  # end cut off, padding where it was


def _truncated_png(path: Path, source: Path) -> None:
    ok, encoded = cv2.imencode(".png", cv2.imread(str(source)))
    path.write_bytes(encoded.tobytes()[: len(encoded) // 2])


BAD_FILES = [
    ("empty.jpg", lambda p, src: p.write_bytes(b""), "empty"),
    ("half.jpg", _truncated_half, "truncated JPEG"),
    ("padded.jpg", _truncated_then_zero_padded, "truncated JPEG"),
    ("half.png", _truncated_png, "truncated PNG"),
    ("random.jpg", lambda p, src: p.write_bytes(np.random.default_rng(0).bytes(5000)), "not an image"),
    ("notes.jpg", lambda p, src: p.write_text("hello, I am text, not a JPEG\n"), "not an image"),
]


@pytest.mark.parametrize("name, make, reason", BAD_FILES, ids=[row[0] for row in BAD_FILES])
def test_bad_files_raise_one_clear_error_naming_the_file(tmp_path, name, make, reason):
    path = tmp_path / name
    make(path, JPEG)
    with pytest.raises(UnreadableInputError) as info:
        read_image(path)
    message = str(info.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message
    assert info.value.source == str(path)


def test_missing_file_folder_and_file_as_parent(tmp_path):
    with pytest.raises(UnreadableInputError, match="nope.jpg: no such file"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(UnreadableInputError, match="is a folder"):
        read_image(tmp_path)
    blocker = tmp_path / "file.jpg"
    blocker.write_bytes(JPEG.read_bytes())
    with pytest.raises(UnreadableInputError, match="child.jpg: no such file"):
        read_image(blocker / "child.jpg")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "locked.jpg"
    path.write_bytes(JPEG.read_bytes())
    path.chmod(0)
    try:
        with pytest.raises(UnreadableInputError, match="locked.jpg: cannot read"):
            read_image(path)
    finally:
        path.chmod(0o644)


FAKE_HUGE = [("png", fake_png), ("jpg", fake_jpeg), ("bmp", fake_bmp), ("webp", fake_webp), ("tiff", fake_tiff)]


@pytest.mark.parametrize("suffix, make", FAKE_HUGE, ids=[row[0] for row in FAKE_HUGE])
def test_huge_image_is_refused_before_decoding(tmp_path, monkeypatch, suffix, make):
    path = tmp_path / f"huge.{suffix}"
    path.write_bytes(make(20000, 20000))
    assert image_size_from_header(path.read_bytes()) == (20000, 20000)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded an image that the header says is too large")

    monkeypatch.setattr(images_module.cv2, "imdecode", no_decoding)
    with pytest.raises(ImageTooLargeError) as info:
        read_image(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "20000x20000" in message and "50 MP" in message
    assert "\n" not in message


def test_pixel_limit_is_a_keyword():
    with pytest.raises(ImageTooLargeError, match="548x342"):
        read_image(MESSI, max_pixels=100_000)
    assert read_image(MESSI, max_pixels=548 * 342).shape == (342, 548, 3)
    with pytest.raises(ImageTooLargeError, match="upload.png"):
        decode_image(fake_png(20000, 20000), "upload.png")


def test_huge_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "sparse.jpg"
    with path.open("wb") as handle:
        handle.truncate(100 << 20)  # sparse: 100 MB on paper, nothing on disk
    with pytest.raises(ImageTooLargeError, match="file is 105 MB"):
        read_image(path, max_pixels=1000)


# --- finding images ----------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    for relative in ("a/1.jpg", "a/b/2.PNG", "a/b/c/3.jpeg", "a/notes.txt", "a/.hidden/4.jpg", "a/._5.jpg", "x.Jpg"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    return tmp_path


def test_folders_are_recursive_sorted_and_skip_non_images(tree):
    found, errors = find_images([str(tree / "a")])
    assert [p.relative_to(tree).as_posix() for p in found] == ["a/1.jpg", "a/b/2.PNG", "a/b/c/3.jpeg"]
    assert errors == []


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("a/*.jpg", ["a/1.jpg"]),
        ("a/**/*.jpeg", ["a/b/c/3.jpeg"]),
        ("a/**", ["a/1.jpg", "a/b/2.PNG", "a/b/c/3.jpeg"]),
        ("?.Jpg", ["x.Jpg"]),
        ("a/b/*", ["a/b/2.PNG", "a/b/c/3.jpeg"]),  # a matched folder is expanded
    ],
)
def test_globs(tree, pattern, expected):
    found, errors = find_images([str(tree / pattern)])
    assert [p.relative_to(tree).as_posix() for p in found] == expected and errors == []


def test_misses_are_errors_and_the_batch_goes_on(tree):
    found, errors = find_images(
        [str(tree / "missing.jpg"), str(tree / "empty"), str(tree / "*.gif"), str(tree / "x.Jpg")]
    )
    assert [p.name for p in found] == ["x.Jpg"]
    reasons = {Path(e.source).name: e.reason for e in errors}
    assert reasons == {
        "missing.jpg": "no such file or folder",
        "empty": "folder has no images",
        "*.gif": "pattern matches no images",
    }
    assert all(isinstance(e, UnreadableInputError) for e in errors)


def test_named_files_are_kept_whatever_the_suffix_and_duplicates_dropped(tree):
    found, errors = find_images(
        [str(tree / "a" / "notes.txt"), str(tree / "a"), str(tree / "a" / "*.jpg"), str(tree / "a" / "1.jpg")]
    )
    assert [p.relative_to(tree).as_posix() for p in found] == ["a/notes.txt", "a/1.jpg", "a/b/2.PNG", "a/b/c/3.jpeg"]
    assert errors == []
