"""End to end against a real ``posekit serve`` (uvicorn on 127.0.0.1, a free port): a bounded
loopback load, video jobs at once, and a kill mid-job followed by a restart."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.service.conftest import DEMO_IMAGE, DEMO_VIDEO, REPO, TREADMILL, live_server, wait_for_job

pytest.importorskip("posekit.batch")

IMAGES = [
    DEMO_IMAGE,
    REPO / "tests" / "data" / "images" / "messi5.jpg",
    REPO / "tests" / "data" / "images" / "000000196141.jpg",
]
CLIENTS = 8
REQUESTS_PER_CLIENT = 25


def _post_image(http: httpx.Client, path: Path) -> httpx.Response:
    return http.post("/v1/poses", files={"file": (path.name, path.read_bytes(), "image/jpeg")}, timeout=60)


def test_load_gives_every_client_its_own_answers(tmp_path: Path) -> None:
    with live_server(tmp_path / "data") as server, httpx.Client(base_url=server.url) as http:
        expected = {path.name: _post_image(http, path).json() for path in IMAGES}
        assert all(expected[p.name]["people"] for p in IMAGES)

        def client_run(client_index: int) -> list[tuple[str, int, dict | None]]:
            got = []
            with httpx.Client(base_url=server.url) as own:
                for request_index in range(REQUESTS_PER_CLIENT):
                    path = IMAGES[(client_index + request_index) % len(IMAGES)]
                    answer = _post_image(own, path)
                    got.append((path.name, answer.status_code, answer.json() if answer.status_code == 200 else None))
            return got

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = [item for chunk in pool.map(client_run, range(CLIENTS)) for item in chunk]
        assert len(results) == CLIENTS * REQUESTS_PER_CLIENT
        assert all(status == 200 for _, status, _ in results)
        for name, _, record in results:  # each answer is the one for the image that was sent
            assert record == expected[name]
        metrics = http.get("/metrics").text
        count = CLIENTS * REQUESTS_PER_CLIENT + len(IMAGES)
        assert f'posekit_requests_total{{method="POST",route="/v1/poses",status="200"}} {count}' in metrics


def test_three_video_jobs_at_once_all_complete(tmp_path: Path) -> None:
    videos = [(DEMO_VIDEO, 24), (TREADMILL, 60), (DEMO_VIDEO, 24)]
    with live_server(tmp_path / "data", "--job-workers", "2") as server, httpx.Client(base_url=server.url) as http:

        def submit(video: Path) -> str:
            answer = http.post("/v1/jobs", files={"file": (video.name, video.read_bytes(), "video/mp4")}, timeout=60)
            assert answer.status_code == 202, answer.text
            return str(answer.json()["job_id"])

        with ThreadPoolExecutor(3) as pool:
            job_ids = list(pool.map(submit, [v for v, _ in videos]))
        assert len(set(job_ids)) == 3
        for job_id, (_, frames) in zip(job_ids, videos, strict=True):
            status = wait_for_job(http, job_id, timeout_s=120)
            assert status["state"] == "done", status
            lines = [json.loads(line) for line in http.get(f"/v1/jobs/{job_id}/result").text.splitlines()]
            assert [line["frame_index"] for line in lines] == list(range(frames))


def test_a_killed_server_resumes_its_job_and_finishes_it_whole(tmp_path: Path) -> None:
    data = tmp_path / "data"
    query = "/v1/jobs?no_propagate=true"  # the detector on every frame: long enough to be cut off
    with live_server(data) as server, httpx.Client(base_url=server.url) as http:
        files = {"file": ("treadmill.mp4", TREADMILL.read_bytes(), "video/mp4")}
        job_id = http.post(query, files=files, timeout=60).json()["job_id"]
        deadline = time.monotonic() + 60
        while http.get(f"/v1/jobs/{job_id}").json()["frames_done"] < 3:
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.05)
        server.stop(hard=True)  # SIGKILL, mid-job
    assert not (data / "results" / job_id).exists()  # nothing half-written where the result goes
    with live_server(data) as server, httpx.Client(base_url=server.url) as http:
        status = wait_for_job(http, job_id, timeout_s=120)
        assert status["state"] == "done", status
        lines = http.get(f"/v1/jobs/{job_id}/result").text.splitlines()
        assert [json.loads(line)["frame_index"] for line in lines] == list(range(60))
    from posekit.batch import Ledger

    entry = Ledger(data / "ledger.sqlite").get(job_id)
    assert entry is not None and entry.attempts == 2  # started, cut off, started again


def test_stream_over_a_real_socket(tmp_path: Path) -> None:
    import cv2

    capture = cv2.VideoCapture(str(TREADMILL))
    frames = [cv2.imencode(".jpg", capture.read()[1])[1].tobytes() for _ in range(10)]
    capture.release()
    with live_server(tmp_path / "data", "--api-key", "k3y") as server:
        ws_url = server.url.replace("http", "ws") + "/v1/stream?api_key=k3y"
        with connect(ws_url, open_timeout=10) as socket:
            assert json.loads(socket.recv(timeout=10))["type"] == "hello"
            answers = []
            for frame in frames:
                socket.send(frame)
                answers.append(json.loads(socket.recv(timeout=30)))
        assert [a["frame_index"] for a in answers] == list(range(10))
        assert all(a["people"] and a["people"][0]["track_id"] is not None for a in answers)
        with pytest.raises(Exception), connect(server.url.replace("http", "ws") + "/v1/stream", open_timeout=10):  # noqa: B017, PT011
            pass
        assert httpx.get(server.url + "/v1/poses", headers={"x-api-key": "k3y"}).status_code == 405
