"""Service benchmark: POST /v1/poses latency against the library's own time per image, a bounded
8-client loopback load, 3 video jobs at once, and the page's live webcam rate in headless Chromium.

    python bench/bench_service.py [--rounds N] [--no-browser]

Starts ``posekit serve`` on 127.0.0.1 (a free port) for the run and stops it at the end. The
library and HTTP timings are interleaved image by image, so both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posekit import PoseEstimator  # noqa: E402
from posekit.io.formats import poses_to_record  # noqa: E402
from posekit.io.images import decode_image  # noqa: E402
from posekit.service.api_models import PoseQuery  # noqa: E402
from tests.service.conftest import DEMO_IMAGE, DEMO_VIDEO, TREADMILL, live_server, wait_for_job  # noqa: E402

IMAGES = [DEMO_IMAGE, ROOT / "tests/data/images/messi5.jpg", ROOT / "tests/data/images/000000196141.jpg"]


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def latency(url: str, rounds: int) -> list[tuple[str, float, float, float]]:
    """(image, library median ms, HTTP median ms, ratio) per image, interleaved call by call."""
    rows = []
    with PoseEstimator(PoseQuery().estimator_options(threads=2)) as estimator, httpx.Client(base_url=url) as http:
        for path in IMAGES:
            data = path.read_bytes()
            library, served = [], []
            for index in range(rounds + 3):
                started = time.perf_counter()
                record = poses_to_record(estimator(decode_image(data, path.name)), source=path.name)
                json.dumps(record, separators=(",", ":"), allow_nan=False)
                library_s = time.perf_counter() - started
                started = time.perf_counter()
                answer = http.post("/v1/poses", files={"file": (path.name, data, "image/jpeg")})
                served_s = time.perf_counter() - started
                assert answer.status_code == 200
                if index >= 3:  # warm-up left out
                    library.append(library_s * 1000)
                    served.append(served_s * 1000)
            lib, srv = statistics.median(library), statistics.median(served)
            rows.append((path.name, lib, srv, srv / lib))
    return rows


def load(url: str, clients: int = 8, per_client: int = 25) -> dict[str, float]:
    def run(client_index: int) -> list[tuple[int, float]]:
        out = []
        with httpx.Client(base_url=url, timeout=120) as http:
            for request_index in range(per_client):
                path = IMAGES[(client_index + request_index) % len(IMAGES)]
                started = time.perf_counter()
                answer = http.post("/v1/poses", files={"file": (path.name, path.read_bytes(), "image/jpeg")})
                out.append((answer.status_code, (time.perf_counter() - started) * 1000))
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [r for chunk in pool.map(run, range(clients)) for r in chunk]
    wall = time.perf_counter() - started
    times = [ms for _, ms in results]
    return {
        "requests": len(results),
        "errors": sum(status != 200 for status, _ in results),
        "p50": _percentile(times, 50),
        "p90": _percentile(times, 90),
        "p99": _percentile(times, 99),
        "per_s": len(results) / wall,
    }


def jobs(url: str) -> tuple[float, list[tuple[str, int, str]]]:
    videos = [DEMO_VIDEO, TREADMILL, DEMO_VIDEO]
    with httpx.Client(base_url=url, timeout=120) as http:
        started = time.perf_counter()
        ids = [
            http.post("/v1/jobs", files={"file": (v.name, v.read_bytes(), "video/mp4")}).json()["job_id"]
            for v in videos
        ]
        statuses = [wait_for_job(http, job_id, timeout_s=300) for job_id in ids]
        wall = time.perf_counter() - started
    return wall, [(v.name, s["frames_done"], s["state"]) for v, s in zip(videos, statuses, strict=True)]


def browser_rate(url: str, workdir: Path) -> float | None:
    import cv2

    from tests.service.cdp import browser, chromium_available, write_y4m
    from tests.service.conftest import free_port

    if not chromium_available():
        return None
    capture = cv2.VideoCapture(str(TREADMILL))
    frames = [frame for ok, frame in iter(capture.read, (False, None)) if ok][:60]
    capture.release()
    clip = workdir / "clip.y4m"
    write_y4m(frames, clip)
    flags = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    )
    with browser(free_port(), *flags) as page:
        page.navigate(url + "/")
        page.evaluate("document.getElementById('webcam-start').click()")
        page.wait_for("window.posekit.received >= 20", timeout_s=60)
        first = page.evaluate("[window.posekit.received, performance.now()]")
        time.sleep(10)
        last = page.evaluate("[window.posekit.received, performance.now(), window.posekit.withPeople]")
        page.screenshot(workdir / "page_webcam.png")
    return (last[0] - first[0]) / ((last[1] - first[1]) / 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="timed calls per image and path")
    parser.add_argument("--no-browser", action="store_true", help="skip the headless Chromium webcam rate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as scratch:
        workdir = Path(scratch)
        with live_server(workdir / "data", "--job-workers", "2") as server:
            print("| image | library ms (median) | POST /v1/poses ms (median) | ratio |")
            print("|---|---:|---:|---:|")
            for name, lib, srv, ratio in latency(server.url, args.rounds):
                print(f"| {name} | {lib:.1f} | {srv:.1f} | {ratio:.3f} |")
            figures = load(server.url)
            print("\n| clients x requests | errors | p50 ms | p90 ms | p99 ms | p99/p50 | requests/s |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            print(
                f"| 8 x 25 | {figures['errors']} | {figures['p50']:.0f} | {figures['p90']:.0f} | {figures['p99']:.0f} "
                f"| {figures['p99'] / figures['p50']:.2f} | {figures['per_s']:.1f} |"
            )
            wall, rows = jobs(server.url)
            print(f"\n3 video jobs at once (2 job workers): {wall:.1f} s in all")
            for name, frames, state in rows:
                print(f"  {name}: {state}, {frames} frames")
            if not args.no_browser:
                rate = browser_rate(server.url, workdir)
                print(f"\nwebcam mode in headless Chromium: {rate:.1f} frames of results per second" if rate else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
