"""Video jobs on the batch engine, and the WebSocket stream, in process (TestClient)."""

from __future__ import annotations

import io
import json
import zipfile

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from posekit import ReadOptions, VideoPoseEstimator, open_source
from posekit.io.formats import poses_to_record
from posekit.service.stream import analysis_available
from tests.service.conftest import DEMO_VIDEO, TREADMILL, wait_for_job

pytest.importorskip("posekit.batch")

VIDEO = DEMO_VIDEO.read_bytes()


def _analysis_installed() -> bool:
    try:
        from posekit.analysis import AnalysisOptions, run_analysis  # type: ignore[attr-defined,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_track_job_gives_the_same_people_as_the_library(client: TestClient) -> None:
    created = client.post("/v1/jobs?task=track&max_frames=8", files={"file": ("walk.mp4", VIDEO, "video/mp4")})
    assert created.status_code == 202
    job_id = created.json()["job_id"]
    assert len(job_id) == 24
    status = wait_for_job(client, job_id)
    assert status["state"] == "done", status
    assert status["frames_done"] == status["frames_total"] == 8
    assert status["upload_name"] == "walk.mp4"
    lines = _lines(client.get(f"/v1/jobs/{job_id}/result").text)
    with VideoPoseEstimator() as video, open_source(str(DEMO_VIDEO), ReadOptions(max_frames=8)) as source:
        expected = [poses_to_record(video(f.image_bgr, f.timestamp_s), frame_index=f.index) for f in source]
    assert [line["frame_index"] for line in lines] == list(range(8))
    for line, want in zip(lines, expected, strict=True):
        assert [p["track_id"] for p in line["people"]] == [p["track_id"] for p in want["people"]]
        got = np.array([p["keypoints"]["coco17"] for p in line["people"]], dtype=float)
        ref = np.array([p["keypoints"]["coco17"] for p in want["people"]], dtype=float)
        np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(ref), atol=0.02)
    assert sum(len(line["people"]) for line in lines) >= 8  # a street of people


def test_preview_gives_downscaled_frames_of_the_upload(client: TestClient) -> None:
    job_id = client.post("/v1/jobs?max_frames=4", content=VIDEO, headers={"content-type": "video/mp4"}).json()["job_id"]
    wait_for_job(client, job_id)
    frames = client.get(f"/v1/jobs/{job_id}/preview?stride=2&max_side=384").json()["frames"]
    assert [f["frame_index"] for f in frames] == list(range(0, 24, 2))
    import base64

    image = cv2.imdecode(np.frombuffer(base64.b64decode(frames[0]["jpeg"]), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (288, 384)  # 768x576 scaled to a longest side of 384
    assert client.get(f"/v1/jobs/{job_id}/preview?max_frames=100000").status_code == 422


def test_zip_holds_every_output_whole_and_delete_removes_the_job(client: TestClient) -> None:
    job_id = client.post("/v1/jobs?max_frames=3", content=VIDEO, headers={"content-type": "video/mp4"}).json()["job_id"]
    status = wait_for_job(client, job_id)
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/v1/jobs/{job_id}/result?format=zip").content))
    import hashlib

    for entry in status["files"]:
        assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"]
        assert client.get(entry["url"]).content == archive.read(entry["name"])
    data_dir = client.app.state.posekit.config.data_dir  # type: ignore[attr-defined]
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404
    assert not any(job_id in str(p) for p in data_dir.rglob("*"))


@pytest.mark.parametrize(
    ("query", "body", "content_type", "status", "words"),
    [
        ("task=track", b"garbage" * 50, "video/mp4", 415, "not a video"),
        ("task=track", VIDEO, "text/plain", 415, "video/* content type"),
        ("task=track", b"", "video/mp4", 415, "empty"),
        ("task=track&exercise=squat", VIDEO, "video/mp4", 422, "--exercise"),
        ("task=paint", VIDEO, "video/mp4", 422, "task"),
        ("stride=0", VIDEO, "video/mp4", 422, "stride"),
    ],
)
def test_bad_jobs_are_refused_with_a_reason(
    client: TestClient, query: str, body: bytes, content_type: str, status: int, words: str
) -> None:
    answer = client.post(f"/v1/jobs?{query}", content=body, headers={"content-type": content_type})
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"]


def test_job_ids_and_file_names_never_walk_the_data_folder(client: TestClient) -> None:
    assert client.get("/v1/jobs/..%2F..%2Fledger.sqlite").status_code == 404
    assert client.get("/v1/jobs/" + "A" * 24).status_code == 404
    job_id = client.post("/v1/jobs?max_frames=2", content=VIDEO, headers={"content-type": "video/mp4"}).json()["job_id"]
    wait_for_job(client, job_id)
    for name in ("../../ledger.sqlite", "..%2F..%2Fledger.sqlite", f"../../uploads/{job_id}.video"):
        assert client.get(f"/v1/jobs/{job_id}/files/{name}").status_code == 404


def test_analyze_job_gives_the_summary_or_says_why_not(client: TestClient) -> None:
    job_id = client.post("/v1/jobs?task=analyze", files={"file": ("t.mp4", TREADMILL.read_bytes(), "video/mp4")})
    status = wait_for_job(client, job_id.json()["job_id"])
    if _analysis_installed():
        assert status["state"] == "done", status
        result = client.get(status["result_url"]).json()
        assert isinstance(result["summary"], dict) and result["report_url"]
    else:
        assert status["state"] == "failed" and "posekit.analysis" in status["error"]
        assert client.get(f"/v1/jobs/{status['job_id']}/result").status_code == 409


def _jpeg_frames(count: int) -> list[bytes]:
    capture = cv2.VideoCapture(str(TREADMILL))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.imencode(".jpg", frame)[1].tobytes())
    capture.release()
    return frames


def test_stream_tracks_the_person_across_frames(client: TestClient) -> None:
    frames = _jpeg_frames(30)
    with client.websocket_connect("/v1/stream") as socket:
        hello = socket.receive_json()
        assert hello["type"] == "hello" and hello["analysis"] == analysis_available()
        answers = []
        for index, frame in enumerate(frames):
            socket.send_text(json.dumps({"timestamp_s": index / 30}))
            socket.send_bytes(frame)
            answers.append(socket.receive_json())
    assert [a["frame_index"] for a in answers] == list(range(30))
    assert [a["timestamp_s"] for a in answers] == pytest.approx([i / 30 for i in range(30)], abs=1e-6)
    ids = [p["track_id"] for a in answers for p in a["people"]]
    main_id = max(set(ids), key=ids.count)
    assert sum(main_id in [p["track_id"] for p in a["people"]] for a in answers) >= 27  # one id held throughout
    if analysis_available():
        assert str(main_id) in answers[-1]["analysis"]


def test_stream_survives_bad_frames_and_bad_timestamps(client: TestClient) -> None:
    frame = _jpeg_frames(1)[0]
    with client.websocket_connect("/v1/stream?analysis=false") as socket:
        socket.receive_json()
        socket.send_bytes(b"not a jpeg")
        assert socket.receive_json()["type"] == "error"
        socket.send_text(json.dumps({"timestamp_s": 5.0}))
        socket.send_bytes(frame)
        assert socket.receive_json()["type"] == "frame"
        socket.send_text(json.dumps({"timestamp_s": 1.0}))
        socket.send_bytes(frame)
        error = socket.receive_json()
        assert error["type"] == "error" and "increase" in error["detail"]
        socket.send_text("{not json")
        assert "timestamp_s" in socket.receive_json()["detail"]
        socket.send_bytes(frame)  # arrival time is far below 5 s: refused, the stream goes on
        socket.send_text(json.dumps({"timestamp_s": 6.0}))
        socket.send_bytes(frame)
        answers = [socket.receive_json(), socket.receive_json()]
        assert answers[-1]["type"] == "frame" and answers[-1]["frame_index"] == 1


def test_stream_refuses_bad_options(client: TestClient) -> None:
    with pytest.raises(Exception), client.websocket_connect("/v1/stream?keypoints=huge"):  # noqa: B017, PT011
        pass


def test_a_job_whose_upload_is_gone_is_failed_with_the_reason_at_start(tmp_path) -> None:
    from posekit.batch import Ledger, WorkItem
    from posekit.service.jobs import JobManager

    ledger = Ledger(tmp_path / "ledger.sqlite")
    job_id = "x" * 24
    ledger.add([WorkItem(item_id=job_id, source=str(tmp_path / "uploads" / f"{job_id}.video"), task="track")])
    ledger.mark_running(job_id)  # as a server killed mid-job leaves it
    manager = JobManager(tmp_path, workers=1, max_jobs=4, timeout_s=60)
    try:
        entry = manager.get(job_id)
        assert entry is not None and entry.state == "failed" and "upload it again" in (entry.error or "")
    finally:
        manager.close()
