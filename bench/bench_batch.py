"""Batch throughput: a shell loop of ``posekit track`` against ``posekit batch`` layouts and Ray.

    python bench/bench_batch.py [--clips 8] [--frames 60] [--rounds 2] [--no-ray]

Cuts ``--clips`` short clips of ``--frames`` frames from ``shared/data`` (vtest.avi segments and
the four pose2sim cameras, halved to 540x960), then, per round and in interleaved order, times
from the outside (wall clock of the whole command, model loading and process start included):

* ``loop``: ``for clip: posekit track clip --out ...`` (one process after the other, default threads);
* ``1x2`` / ``2x1``: ``posekit batch --workers W --threads T``;
* ``default``: ``posekit batch`` with no layout flags;
* ``ray 2``: ``posekit batch --ray --workers 2`` (a local Ray started by the command; ``ray init``
  excluded in the ``in run`` column, which is the batch's own timer from first item to last).

Each configuration writes into a fresh folder; every batch run is checked to have done every item.
Other processes share the CPU: read the spread over rounds, not one figure.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
VTEST = SHARED / "videos" / "vtest.avi"
CAMERAS = sorted((SHARED / "multiview" / "pose2sim_single" / "videos").glob("cam*.mp4"))


def cut_clip(source: Path, target: Path, start: int, frames: int, scale: float) -> None:
    capture = cv2.VideoCapture(str(source))
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    fps = capture.get(cv2.CAP_PROP_FPS)
    writer = None
    for _ in range(frames):
        ok, image = capture.read()
        if not ok:
            break
        if scale != 1.0:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if writer is None:
            height, width = image.shape[:2]
            writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        writer.write(image)
    capture.release()
    if writer is not None:
        writer.release()


def make_clips(folder: Path, count: int, frames: int) -> list[Path]:
    clips = []
    for index in range(count):
        if index % 2 == 0 or not CAMERAS:
            source, start, scale = VTEST, 60 * index, 1.0
        else:
            source, start, scale = CAMERAS[(index // 2) % len(CAMERAS)], 0, 0.5
        target = folder / f"clip{index:02d}.mp4"
        cut_clip(source, target, start, frames, scale)
        clips.append(target)
    return clips


def run_timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-2000:]}")
    return seconds, done.stderr


def posekit_command() -> list[str]:
    return [sys.executable, "-m", "posekit"]


def loop(clips: list[Path], out: Path) -> tuple[float, float | None]:
    start = time.perf_counter()
    for clip in clips:
        run_timed([*posekit_command(), "track", str(clip), "--out", str(out / clip.stem), "--quiet"])
    return time.perf_counter() - start, None


def batch(clips: list[Path], out: Path, flags: list[str]) -> tuple[float, float | None]:
    seconds, stderr = run_timed([*posekit_command(), "batch", *map(str, clips), "--out", str(out), "--quiet", *flags])
    match = re.search(r"(\d+) done now, 0 done before, 0 failed; \d+ frames in ([\d.]+)s", stderr)
    if match is None or int(match.group(1)) != len(clips):
        raise SystemExit(f"batch {flags} did not do every item:\n{stderr[-2000:]}")
    return seconds, float(match.group(2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    if not VTEST.is_file():
        print(f"needs {VTEST}", file=sys.stderr)
        return 2
    configs: dict[str, list[str] | None] = {
        "loop": None,
        "1x2": ["--workers", "1", "--threads", "2"],
        "2x1": ["--workers", "2", "--threads", "1"],
        "default": [],
    }
    if not args.no_ray:
        configs["ray 2"] = ["--ray", "--workers", "2"]
    times: dict[str, list[tuple[float, float | None]]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as scratch:
        folder = Path(scratch)
        clips = make_clips(folder, args.clips, args.frames)
        frames = sum(int(cv2.VideoCapture(str(c)).get(cv2.CAP_PROP_FRAME_COUNT)) for c in clips)
        for round_index in range(args.rounds):
            names = list(configs) if round_index % 2 == 0 else list(reversed(configs))
            for name in names:
                out = folder / f"out-{name.replace(' ', '')}-{round_index}"
                flags = configs[name]
                times[name].append(loop(clips, out) if flags is None else batch(clips, out, flags))
                shutil.rmtree(out, ignore_errors=True)
                print(f"round {round_index + 1} {name}: {times[name][-1][0]:.1f}s", file=sys.stderr)
    print(f"{len(clips)} clips, {frames} frames, {args.rounds} rounds interleaved; wall = whole command(s)")
    print(
        f"{'config':<8} {'items':>5} {'frames':>6} {'wall s (median)':>15} {'rounds':>19} {'frames/s':>8} "
        f"{'vs loop':>7} {'in run s':>8}"
    )
    loop_median = statistics.median(t for t, _ in times["loop"])
    for name, runs in times.items():
        walls = [t for t, _ in runs]
        median = statistics.median(walls)
        inner = [r for _, r in runs if r is not None]
        inner_text = f"{statistics.median(inner):8.1f}" if inner else f"{'':>8}"
        print(
            f"{name:<8} {len(clips):>5} {frames:>6} {median:>15.1f} {' '.join(f'{t:.1f}' for t in walls):>19} "
            f"{frames / median:>8.1f} {loop_median / median:>6.2f}x {inner_text}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
