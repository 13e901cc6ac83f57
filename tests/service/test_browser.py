"""The page in a real headless Chromium: an image's skeleton on the canvas, and the webcam mode
streaming a real clip through Chromium's fake camera over the WebSocket."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest

from tests.service.cdp import browser, chromium_available, write_y4m
from tests.service.conftest import DEMO_IMAGE, DEMO_VIDEO, TREADMILL, free_port, live_server

pytestmark = pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium")

# Pixels of the canvas compared with the bare image inside the answer's person boxes.
_CHANGED_PIXELS = """
(async () => {
  const image = new Image();
  await new Promise((ok) => { image.onload = ok; image.src = window.posekit.imageURL; });
  const bare = document.createElement("canvas");
  bare.width = image.naturalWidth; bare.height = image.naturalHeight;
  bare.getContext("2d").drawImage(image, 0, 0);
  const view = document.getElementById("view");
  const changed = (x, y, w, h) => {
    const a = view.getContext("2d").getImageData(x, y, w, h).data;
    const b = bare.getContext("2d").getImageData(x, y, w, h).data;
    let n = 0;
    for (let i = 0; i < a.length; i += 4) {
      if (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]) > 60) n += 1;
    }
    return n;
  };
  const people = window.posekit.lastRecord.people.map((p) => changed(...p.bbox.map(Math.round)));
  const corner = changed(0, view.height - 40, 40, 40);  // bottom left: nobody there
  return { people, corner, size: [view.width, view.height] };
})()
"""


def _artifact_dir(tmp_path: Path) -> Path:
    # POSEKIT_TEST_ARTIFACTS keeps the screenshots for a person to look at.
    folder = Path(os.environ.get("POSEKIT_TEST_ARTIFACTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_page_draws_the_skeleton_of_an_uploaded_image(tmp_path: Path) -> None:
    with live_server(tmp_path / "data") as server, browser(free_port()) as page:
        page.navigate(server.url + "/")
        page.set_file("#file-input", DEMO_IMAGE)
        page.wait_for("window.posekit.imageDone === true", timeout_s=60)
        found = page.evaluate(_CHANGED_PIXELS)
        page.screenshot(_artifact_dir(tmp_path) / "page_image.png")
    image = cv2.imread(str(DEMO_IMAGE))
    assert found["size"] == [image.shape[1], image.shape[0]]
    assert len(found["people"]) >= 1
    assert max(found["people"]) > 300  # skeleton lines drawn over the person
    assert found["corner"] == 0  # and not over the empty corner


def test_page_runs_a_video_job_and_plays_it_with_skeletons(tmp_path: Path) -> None:
    with (
        live_server(tmp_path / "data") as server,
        browser(free_port(), "--autoplay-policy=no-user-gesture-required") as page,
    ):
        page.navigate(server.url + "/")
        page.set_file("#file-input", DEMO_VIDEO)
        # Chromium cannot decode this clip's MPEG-4 part 2: the page then draws the server's frames.
        page.wait_for("document.getElementById('status').textContent.includes('frames tracked')", timeout_s=90)
        assert page.wait_for("window.posekit.previewFrames", timeout_s=30) == 24
        page.wait_for("document.querySelectorAll('#people tr').length > 1", timeout_s=20)
        links = page.evaluate("[...document.querySelectorAll('#downloads a')].map((a) => a.textContent)")
        size = page.evaluate("[document.getElementById('view').width, document.getElementById('view').height]")
        page.screenshot(_artifact_dir(tmp_path) / "page_video.png")
    assert size == [768, 576]
    assert any(name.endswith(".jsonl") for name in links) and "everything (zip)" in links


def test_webcam_mode_streams_frames_and_gets_tracked_people_back(tmp_path: Path) -> None:
    capture = cv2.VideoCapture(str(TREADMILL))
    frames = []
    while len(frames) < 60:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    clip = tmp_path / "clip.y4m"
    write_y4m(frames, clip)
    camera = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
        "--autoplay-policy=no-user-gesture-required",
    )
    with live_server(tmp_path / "data") as server, browser(free_port(), *camera) as page:
        page.navigate(server.url + "/")
        page.wait_for("!!window.posekit.health")
        page.evaluate("document.getElementById('webcam-start').click()")
        page.wait_for("window.posekit.received >= 60", timeout_s=60)
        stats = page.evaluate("({...window.posekit, lastRecord: null})")
        page.screenshot(_artifact_dir(tmp_path) / "page_webcam.png")
        page.evaluate("document.getElementById('webcam-stop').click()")
    print(f"webcam mode: {stats['fps']:.1f} frames of results per second, {stats['received']} frames")
    assert stats["received"] >= 60
    assert stats["withPeople"] >= 0.8 * stats["received"]  # the person on the treadmill is found
    assert any(isinstance(track_id, int) for track_id in stats["ids"])  # tracked: ids come back
    assert stats["sent"] - stats["received"] <= 1  # at most one frame in flight
    if stats["health"]["analysis"]:  # the live analysis (angles, reps) comes back per person
        assert stats["withAnalysis"] >= 0.8 * stats["withPeople"]
