"""The HTTP API in process (FastAPI's TestClient): answers, bad inputs and their status codes, safety."""

from __future__ import annotations

import asyncio
import json
import re
import struct
import threading
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from posekit import PoseEstimator
from posekit.io.formats import poses_to_record
from posekit.io.images import decode_image
from posekit.service import ServiceConfig, create_app
from posekit.service.api_models import PoseQuery
from posekit.service.inference import ServiceBusy, WorkLimiter
from tests.service.conftest import DEMO_IMAGE, REPO

JPEG = DEMO_IMAGE.read_bytes()


def _fake_png_header(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + b"\0" * 64


def test_poses_answers_the_predict_jsonl_record(client: TestClient) -> None:
    answer = client.post("/v1/poses", files={"file": ("demo.jpg", JPEG, "image/jpeg")})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    options = PoseQuery().estimator_options(threads=2)
    with PoseEstimator(options) as estimator:
        expected = poses_to_record(estimator(decode_image(JPEG, "demo.jpg")), source="demo.jpg")
    assert answer.json() == json.loads(json.dumps(expected))
    assert len(expected["people"]) >= 1
    assert "blazepose33" in expected["people"][0]["keypoints"]  # as predict --format jsonl writes


def test_raw_body_and_multipart_give_the_same_people(client: TestClient) -> None:
    raw = client.post("/v1/poses", content=JPEG, headers={"content-type": "image/jpeg", "x-file-name": "a/b/c.jpg"})
    form = client.post("/v1/poses", files={"file": ("c.jpg", JPEG, "image/jpeg")})
    assert raw.status_code == form.status_code == 200
    assert raw.json() == form.json()
    assert raw.json()["source"] == "c.jpg"  # a client's path is reduced to its last name, never used as a path


def test_query_options_reach_the_models(client: TestClient) -> None:
    answer = client.post(
        "/v1/poses?whole_body=true&min_score=0.2", content=JPEG, headers={"content-type": "image/jpeg"}
    )
    assert answer.status_code == 200
    people = answer.json()["people"]
    assert people and all(p["score"] >= 0.2 for p in people)
    assert {"hand_left21", "hand_right21", "face68", "wholebody133"} <= set(people[0]["keypoints"])


def test_render_answers_the_annotated_jpeg(client: TestClient) -> None:
    answer = client.post("/v1/poses?render=true", content=JPEG, headers={"content-type": "image/jpeg"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    drawn = cv2.imdecode(np.frombuffer(answer.content, np.uint8), cv2.IMREAD_COLOR)
    bare = cv2.imdecode(np.frombuffer(JPEG, np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape == bare.shape
    box = client.post("/v1/poses", content=JPEG, headers={"content-type": "image/jpeg"}).json()["people"][0]["bbox"]
    x, y, w, h = (int(v) for v in box)
    changed = np.abs(drawn[y : y + h, x : x + w].astype(int) - bare[y : y + h, x : x + w]).sum(axis=2) > 90
    assert changed.sum() > 300


BAD_INPUTS = [
    # (name, body, content type, status, words in the message)
    ("text body", b"hello", "text/plain", 415, "image/* content type"),
    ("no content type", JPEG, "", 415, "no content type"),
    ("random bytes as jpeg", bytes(range(256)) * 8, "image/jpeg", 415, "cannot decode"),
    ("text named .jpg", b"not an image at all", "image/jpeg", 415, "cannot decode"),
    ("empty body", b"", "image/jpeg", 422, "empty"),
    ("truncated jpeg", JPEG[: len(JPEG) // 2], "image/jpeg", 422, "truncated"),
    ("huge png header", _fake_png_header(20000, 20000), "image/png", 422, "over the limit"),
    ("over the upload limit", b"\xff" * (3 * 1024 * 1024), "image/jpeg", 413, "larger than the limit"),
]


@pytest.mark.parametrize(
    ("name", "body", "content_type", "status", "words"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_images_get_their_status_and_one_line(
    client: TestClient, name: str, body: bytes, content_type: str, status: int, words: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    answer = client.post("/v1/poses", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and words in detail
    assert client.post("/v1/poses", content=JPEG, headers={"content-type": "image/jpeg"}).status_code == 200


@pytest.mark.parametrize(
    ("query", "words"),
    [("min_score=3", "min_score"), ("keypoints=huge", "keypoints"), ("bogus=1", "bogus"), ("render=maybe", "render")],
)
def test_bad_options_are_422_with_the_option_named(client: TestClient, query: str, words: str) -> None:
    answer = client.post(f"/v1/poses?{query}", content=JPEG, headers={"content-type": "image/jpeg"})
    assert answer.status_code == 422
    assert words in answer.json()["detail"] and "\n" not in answer.json()["detail"]


def test_multipart_without_the_file_field_is_422(client: TestClient) -> None:
    answer = client.post("/v1/poses", files={"image": ("a.jpg", JPEG, "image/jpeg")})
    assert answer.status_code == 422 and "'file'" in answer.json()["detail"]


def test_busy_service_answers_503_with_retry_after(client: TestClient) -> None:
    limiter = client.app.state.posekit.limiter  # type: ignore[attr-defined]
    limiter.admitted += limiter.capacity  # as if that many requests were in progress
    try:
        answer = client.post("/v1/poses", content=JPEG, headers={"content-type": "image/jpeg"})
    finally:
        limiter.admitted -= limiter.capacity
    assert answer.status_code == 503 and int(answer.headers["retry-after"]) >= 1
    assert client.post("/v1/poses", content=JPEG, headers={"content-type": "image/jpeg"}).status_code == 200


def test_work_limiter_admits_workers_plus_queue() -> None:
    release = threading.Event()

    async def scenario() -> list[str]:
        limiter = WorkLimiter(workers=1, queue=1, timeout_s=10)
        first = asyncio.ensure_future(limiter.run(lambda: release.wait(5) and "first"))
        second = asyncio.ensure_future(limiter.run(lambda: "second"))
        await asyncio.sleep(0.05)
        with pytest.raises(ServiceBusy):
            await limiter.run(lambda: "third")
        release.set()
        done = [await first, await second]
        assert limiter.admitted == 0
        limiter.close()
        return done

    assert asyncio.run(scenario()) == ["first", "second"]


def test_request_time_limit_gives_504(tmp_path: Path) -> None:
    config = ServiceConfig(data_dir=tmp_path, request_timeout_s=1e-4, preload=False)
    with TestClient(create_app(config)) as slow:
        answer = slow.post("/v1/poses", content=JPEG, headers={"content-type": "image/jpeg"})
        assert answer.status_code == 504 and "longer than" in answer.json()["detail"]
        assert slow.get("/healthz").status_code == 200
        with slow.websocket_connect("/v1/stream?analysis=false") as socket:
            socket.receive_json()
            socket.send_bytes(JPEG)
            assert "longer than" in socket.receive_json()["detail"]
            with pytest.raises(WebSocketDisconnect) as closed:
                socket.receive_json()
            assert closed.value.code == 1013  # a timed-out tracker takes no more frames


def test_api_key_is_required_when_configured(tmp_path: Path) -> None:
    config = ServiceConfig(data_dir=tmp_path, api_key="s3cret-key", preload=False)
    jpeg = {"content-type": "image/jpeg"}
    with TestClient(create_app(config)) as keyed:
        assert keyed.post("/v1/poses", content=JPEG, headers=jpeg).status_code == 401
        assert keyed.post("/v1/poses", content=JPEG, headers={**jpeg, "x-api-key": "wrong"}).status_code == 401
        assert keyed.get("/v1/jobs/" + "a" * 24).status_code == 401
        assert keyed.post("/v1/poses", content=JPEG, headers={**jpeg, "x-api-key": "s3cret-key"}).status_code == 200
        bearer = {**jpeg, "authorization": "Bearer s3cret-key"}
        assert keyed.post("/v1/poses", content=JPEG, headers=bearer).status_code == 200
        assert keyed.get("/healthz").status_code == 200  # liveness stays open
        with pytest.raises(Exception), keyed.websocket_connect("/v1/stream"):  # noqa: B017, PT011
            pass
        with keyed.websocket_connect("/v1/stream?api_key=s3cret-key&analysis=false") as socket:
            assert socket.receive_json()["type"] == "hello"


def test_no_cors_headers_unless_configured(client: TestClient, tmp_path: Path) -> None:
    origin = {"origin": "http://example.test"}
    assert "access-control-allow-origin" not in client.get("/healthz", headers=origin).headers
    config = ServiceConfig(data_dir=tmp_path, cors_origins=("http://example.test",), preload=False)
    with TestClient(create_app(config)) as allowing:
        assert allowing.get("/healthz", headers=origin).headers["access-control-allow-origin"] == "http://example.test"


def test_metrics_count_requests_in_prometheus_text(client: TestClient) -> None:
    def posted() -> int:
        text = client.get("/metrics").text
        found = re.search(r'posekit_requests_total\{method="POST",route="/v1/poses",status="200"\} (\d+)', text)
        return int(found.group(1)) if found else 0

    before = posted()
    for _ in range(2):
        client.post("/v1/poses", content=JPEG, headers={"content-type": "image/jpeg"})
    text = client.get("/metrics").text
    assert posted() == before + 2
    assert "# TYPE posekit_request_duration_seconds histogram" in text
    assert re.search(r'posekit_frames_total\{source="image"\} \d+', text)
    assert 'posekit_jobs{state="done"}' in text


def test_docs_and_page_are_local(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/v1/poses", "/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/result"} <= set(spec["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    for name in ("index.html", "app.js", "style.css", "docs.html"):
        text = (REPO / "posekit" / "service" / "static" / name).read_text()
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), name  # nothing from the internet
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/app.py").status_code == 404


def test_healthz_reports_what_is_available(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["workers"] == 1
    assert set(health["jobs"]) >= {"pending", "running", "done", "failed"} or not health["batch"]


def test_schema_route_gives_drawing_edges(client: TestClient) -> None:
    coco = client.get("/v1/schemas/coco17").json()
    assert len(coco["keypoints"]) == 17 and all(0 <= a < 17 and 0 <= b < 17 for a, b in coco["edges"])
    assert client.get("/v1/schemas/nothing").status_code == 404
