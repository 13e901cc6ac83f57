"""Fixtures for the service tests: an in-process app (TestClient) and a real uvicorn on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402

from posekit.service import ServiceConfig, create_app  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEMO_IMAGE = REPO / "posekit" / "assets" / "demo.jpg"  # one person (COCO 785)
DEMO_VIDEO = REPO / "posekit" / "assets" / "demo_walk.mp4"  # 24 frames of a street
SERVICE_DATA = Path(__file__).resolve().parents[1] / "data" / "service"
TREADMILL = SERVICE_DATA / "treadmill.mp4"  # 60 frames, 360x640, one person in front


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    config = ServiceConfig(data_dir=tmp_path_factory.mktemp("serve"), max_upload_bytes=2 * 1024 * 1024)
    with TestClient(create_app(config)) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """``posekit serve`` in a child process on 127.0.0.1; :meth:`stop` kills it (SIGKILL with ``hard``)."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (data_dir.parent / f"server-{self.port}.log").open("wb")
        command = [sys.executable, "-m", "posekit", "serve", "--port", str(self.port), "--data", str(data_dir), *extra]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"posekit serve exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop(hard=True)
        raise RuntimeError("posekit serve did not answer /healthz in time")

    def stop(self, *, hard: bool = False) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()


@contextlib.contextmanager
def live_server(data_dir: Path, *extra: str) -> Iterator[LiveServer]:
    server = LiveServer(data_dir, *extra)
    try:
        yield server
    finally:
        server.stop(hard=True)


def wait_for_job(http: httpx.Client | TestClient, job_id: str, timeout_s: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = http.get(f"/v1/jobs/{job_id}").json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")
