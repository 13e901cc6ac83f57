"""Rebuilds this folder's fixtures from the dev session (run once; needs ../shared and the models).

    python tests/data/multiview/make_fixtures.py /work/shared/data/multiview/pose2sim_single

Writes: Calib.qca.txt (copied), cam0N.jsonl (posekit track, BlazePose full, no 2D smoothing, first
30 frames, world_xyz dropped, 1 decimal), cam01_int_*.jpg (3 checkerboard images at half size),
cam01.mp4 / cam02.mp4 (first 6 frames, for the video path).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

FRAMES = 30
HERE = Path(__file__).parent


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, 1) if abs(value) > 1.5 else round(value, 3)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def main(session: Path) -> None:
    shutil.copy(session / "calibration" / "Calib.qca.txt", HERE / "Calib.qca.txt")
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(1, 5):
            video = session / "videos" / f"cam0{index}.mp4"
            subprocess.run(
                [
                    "posekit",
                    "track",
                    str(video),
                    "--out",
                    scratch,
                    "--model",
                    "full",
                    "--smooth",
                    "none",
                    "--max-frames",
                    str(FRAMES),
                    "--quiet",
                ],
                check=True,
            )
            lines = []
            for line in (Path(scratch) / f"cam0{index}.jsonl").read_text().splitlines():
                record = json.loads(line)
                record["source"] = video.name
                for person in record["people"]:
                    person.pop("world_xyz", None)
                lines.append(json.dumps(_rounded(record), separators=(",", ":")))
            (HERE / f"cam0{index}.jsonl").write_text("\n".join(lines) + "\n")
    boards = sorted((session / "calibration" / "intrinsics" / "int_cam01_img").glob("*.jpg"))
    for path in boards[2:5]:
        image = cv2.imread(str(path))
        small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(HERE / f"cam01_int_{path.stem[-6:-4]}.jpg"), small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    for name in ("cam01", "cam02"):
        capture = cv2.VideoCapture(str(session / "videos" / f"{name}.mp4"))
        fps = capture.get(cv2.CAP_PROP_FPS)
        writer = None
        for _ in range(6):
            ok, frame = capture.read()
            if not ok:
                break
            if writer is None:
                size = (frame.shape[1], frame.shape[0])
                writer = cv2.VideoWriter(str(HERE / f"{name}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
            writer.write(frame)
        if writer is not None:
            writer.release()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
