"""Writing (and reading back) 3D results: triangulation JSONL, CSV, OpenSim TRC and C3D.

Every file is written to a temp file and renamed (:mod:`posekit.io.writers`), so an interrupted
run leaves whole files only.
"""

from __future__ import annotations

import io
import json
import logging
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from posekit.errors import UnreadableInputError
from posekit.io.writers import atomic_write_bytes, atomic_write_text
from posekit.multiview.reconstruct import Reconstruction, Track3D
from posekit.multiview.skeleton import COCO17_COUNT, FEET_NAMES, SKELETON

logger = logging.getLogger(__name__)

JSONL_NAME = "triangulation.jsonl"
# TRC files are Y-up (OpenSim); calibration worlds here are Z-up: (x, y, z) -> (y, z, x), as Pose2Sim does.
_TRC_AXES = (1, 2, 0)


def _point(xyz: np.ndarray, score: float) -> list[Any]:
    if not np.isfinite(xyz).all():
        return [None, None, None, 0.0]
    return [round(float(xyz[0]), 5), round(float(xyz[1]), 5), round(float(xyz[2]), 5), round(float(score), 4)]


def frame_record(reconstruction: Reconstruction, frame: int) -> dict[str, Any]:
    people = []
    for track in reconstruction.tracks:
        if not track.present[frame]:
            continue
        points = [_point(track.xyz[frame, k], track.score[frame, k]) for k in range(SKELETON.num_points)]
        error = track.error_px[frame]
        people.append(
            {
                "track_id": int(track.track_id),
                "keypoints3d": {"coco17": points[:COCO17_COUNT], "feet": points[COCO17_COUNT:]},
                "reprojection_error_px": round(float(error), 3) if math.isfinite(error) else None,
                "views": list(track.views[frame]),
            }
        )
    single = reconstruction.single_view[frame] if frame < len(reconstruction.single_view) else []
    return {
        "frame_index": frame,
        "timestamp_s": round(frame / reconstruction.fps, 6),
        "people": people,
        "single_view": [{"camera": camera, "track_id_2d": track_id} for camera, track_id in single],
    }


def jsonl_text(reconstruction: Reconstruction) -> str:
    lines = [
        json.dumps(frame_record(reconstruction, f), separators=(",", ":"), allow_nan=False)
        for f in range(reconstruction.frame_count)
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def read_triangulation_jsonl(path: Path) -> Reconstruction:
    """A ``triangulation.jsonl`` back as a :class:`Reconstruction` (metres)."""
    try:
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableInputError(str(path), f"not a triangulation JSONL ({exc})") from exc
    if not records:
        raise UnreadableInputError(str(path), "no frames")
    count = max(int(r["frame_index"]) for r in records) + 1
    fps = (count - 1) / records[-1]["timestamp_s"] if count > 1 and records[-1]["timestamp_s"] else 30.0
    tracks: dict[int, Track3D] = {}
    k = SKELETON.num_points
    for record in records:
        frame = int(record["frame_index"])
        for person in record["people"]:
            track_id = int(person["track_id"])
            if track_id not in tracks:
                tracks[track_id] = Track3D(
                    track_id,
                    np.full((count, k, 3), np.nan),
                    np.zeros((count, k)),
                    np.full(count, np.nan),
                    [[] for _ in range(count)],
                )
            track = tracks[track_id]
            points = person["keypoints3d"]["coco17"] + person["keypoints3d"].get("feet", [[None] * 3 + [0.0]] * 4)
            array = np.array([[np.nan if v is None else float(v) for v in p] for p in points])
            track.xyz[frame], track.score[frame] = array[:, :3], array[:, 3]
            error = person.get("reprojection_error_px")
            track.error_px[frame] = np.nan if error is None else float(error)
            track.views[frame] = list(person.get("views", []))
    return Reconstruction((), round(fps, 3), count, [tracks[t] for t in sorted(tracks)], [[] for _ in range(count)])


def csv_text(reconstruction: Reconstruction) -> str:
    rows = ["frame_index,timestamp_s,track_id,point,x_m,y_m,z_m,score"]
    for frame in range(reconstruction.frame_count):
        for track in reconstruction.tracks:
            if not track.present[frame]:
                continue
            for k, name in enumerate(SKELETON.names):
                x, y, z = track.xyz[frame, k]
                cells = "" if not np.isfinite(x) else f"{x:.5f},{y:.5f},{z:.5f}"
                rows.append(
                    f"{frame},{frame / reconstruction.fps:.6f},{track.track_id},{name},"
                    + (cells if cells else ",,")
                    + f",{track.score[frame, k]:.4f}"
                )
    return "\n".join(rows) + "\n"


def trc_text(track: Track3D, fps: float, name: str) -> str:
    """OpenSim's TRC (tab-separated, metres, Y up; missing points are empty cells)."""
    frames = track.xyz.shape[0]
    markers = SKELETON.names
    header = [
        f"PathFileType\t4\t(X/Y/Z)\t{name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{fps:g}\t{fps:g}\t{frames}\t{len(markers)}\tm\t{fps:g}\t1\t{frames}",
        "Frame#\tTime\t" + "\t\t\t".join(markers) + "\t\t",
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, len(markers) + 1)),
        "",
    ]
    lines = []
    for frame in range(frames):
        cells = [str(frame + 1), f"{frame / fps:.6f}"]
        for point in track.xyz[frame]:
            cells += [f"{point[a]:.5f}" if np.isfinite(point[a]) else "" for a in _TRC_AXES]
        lines.append("\t".join(cells))
    return "\n".join(header + lines) + "\n"


def c3d_bytes(track: Track3D, fps: float) -> bytes | None:
    """The track as C3D (metres, calibration axes), or None when the ``c3d`` package is missing."""
    try:
        import c3d
    except ImportError:
        return None
    writer = c3d.Writer(point_rate=float(fps), point_units="m   ", point_scale=-1.0)
    writer.set_point_labels([name[:30] for name in SKELETON.names])
    frames = []
    for frame in range(track.xyz.shape[0]):
        points = np.zeros((SKELETON.num_points, 5), dtype=np.float32)
        finite = np.isfinite(track.xyz[frame]).all(axis=1)
        points[finite, :3] = track.xyz[frame][finite]
        points[~finite, 3] = -1.0  # C3D's "invalid point"
        frames.append((points, np.zeros((0, 0), dtype=np.float32)))
    writer.add_frames(frames)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # c3d warns that a file holds no analog data, as intended
        writer.write(buffer)
    return buffer.getvalue()


def write_outputs(reconstruction: Reconstruction, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    """Writes ``triangulation.jsonl`` always, and ``csv``, ``trc``, ``c3d`` (one per person) when asked."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / JSONL_NAME]
    atomic_write_text(written[0], jsonl_text(reconstruction))
    if "csv" in formats:
        written.append(out_dir / "triangulation.csv")
        atomic_write_text(written[-1], csv_text(reconstruction))
    for track in reconstruction.tracks:
        stem = f"person{track.track_id}"
        if "trc" in formats:
            written.append(out_dir / f"{stem}.trc")
            atomic_write_text(written[-1], trc_text(track, reconstruction.fps, written[-1].name))
        if "c3d" in formats:
            data = c3d_bytes(track, reconstruction.fps)
            if data is None:
                logger.warning("c3d output skipped: pip install 'posekit[c3d]' for it")
                break
            written.append(out_dir / f"{stem}.c3d")
            atomic_write_bytes(written[-1], data)
    return written


__all__ = ["FEET_NAMES", "JSONL_NAME", "write_outputs", "read_triangulation_jsonl", "frame_record"]
