"""Video sources: frame numbering, timestamps, options, and streams that drop."""

import numpy as np
import pytest

from posekit.cli.demo import demo_video
from posekit.errors import UnreadableInputError, UsageError
from posekit.io import video
from posekit.io.video import ReadOptions, open_source
from tests.conftest import DATA

CLIP = demo_video()


def test_frames_and_timestamps_of_a_file():
    with open_source(CLIP) as source:
        assert source.fps == pytest.approx(10.0) and source.frame_count == 24 and not source.is_live
        frames = list(source)
    assert [f.index for f in frames] == list(range(24))
    assert [f.timestamp_s for f in frames] == pytest.approx([i / 10 for i in range(24)], abs=1e-3)
    assert frames[0].image_bgr.shape == (576, 768, 3) and frames[0].image_bgr.dtype == np.uint8


def test_start_end_stride_and_max_frames_keep_source_indices():
    options = ReadOptions(start_s=0.5, end_s=1.6, stride=3)
    with open_source(CLIP, options) as source:
        assert [f.index for f in source] == [5, 8, 11, 14]
        assert source.frames_to_read == 4
    with open_source(CLIP, ReadOptions(max_frames=2)) as source:
        assert len(list(source)) == 2


@pytest.mark.parametrize(
    "options",
    [dict(stride=0), dict(start_s=2.0, end_s=1.0), dict(max_frames=0), dict(folder_fps=0)],
)
def test_bad_read_options_are_refused(options):
    with pytest.raises(UsageError):
        ReadOptions(**options)


class _DroppingCapture:
    """A stream that gives a few frames, then drops: reconnecting succeeds but yields nothing."""

    opened = 0

    def __init__(self, target, frames=3):
        type(self).opened += 1
        self._left = frames if type(self).opened == 1 else 0

    def isOpened(self):
        return True

    def get(self, prop):
        return 25.0 if prop == video.cv2.CAP_PROP_FPS else 0.0

    def read(self):
        if self._left > 0:
            self._left -= 1
            return True, np.zeros((48, 64, 3), np.uint8)
        return False, None

    def release(self):
        pass


def test_a_dropped_stream_reconnects_then_stops_cleanly(monkeypatch):
    _DroppingCapture.opened = 0
    monkeypatch.setattr(video.cv2, "VideoCapture", _DroppingCapture)
    monkeypatch.setattr(video.time, "sleep", lambda seconds: None)
    options = ReadOptions(reconnect_attempts=3, reconnect_backoff_s=0.01)
    with open_source("rtsp://camera.invalid/stream", options) as source:
        assert source.is_live
        frames = list(source)
    assert len(frames) == 3  # everything before the drop
    assert source.stats.reconnects == 3 and _DroppingCapture.opened == 4
    assert "gave up after 3 reconnects" in source.stats.stopped_reason


def test_missing_and_empty_sources(tmp_path):
    with pytest.raises(UnreadableInputError, match="no such"):
        open_source(tmp_path / "missing.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(UnreadableInputError, match="empty"):
        open_source(tmp_path / "empty.mp4")
    (tmp_path / "frames").mkdir()
    with pytest.raises(UnreadableInputError, match="no image frames"):
        open_source(tmp_path / "frames")


def test_a_folder_named_like_a_webcam_index_is_a_folder(tmp_path, monkeypatch):
    import shutil

    monkeypatch.chdir(tmp_path)
    (tmp_path / "0").mkdir()
    shutil.copy(DATA / "images" / "000000000785.jpg", tmp_path / "0" / "1.jpg")
    with open_source("0") as source:
        assert not source.is_live and source.frame_count == 1
