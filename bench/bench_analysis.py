#!/usr/bin/env python3
"""Movement-analysis benchmark: angle error against labels, and speed.

    python bench/bench_analysis.py [--data ../shared/data] [--part angles|speed|video|all]

* angles: on the labelled dev images (coco_wholebody, which is COCO-17 plus the feet on the coco
  images, crowdpose, ochuman, mpii), each labelled person is matched to posekit's prediction by
  OKS (Hungarian, OKS >= 0.5); every angle of the registry whose points are all labelled visible
  is computed from the labels and from posekit's keypoints (through the same code the analysis
  uses, ``posekit.analysis.body_points`` then the angle registry); the table gives n and the
  median / mean / 90th percentile of the absolute difference, degrees.
* speed: ``run_analysis`` on a synthetic track JSONL of one hour at 30 fps with 5 people
  (2 walkers, 2 jumping jacks, 1 squatting; written to a temporary folder).
* video: ``posekit analyze VIDEO`` against ``posekit track VIDEO`` on the same frames, wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posekit import COCO17, EstimatorOptions, PoseEstimator  # noqa: E402
from posekit.analysis import ANGLES, AnalysisOptions, angles_from_points, body_points, run_analysis  # noqa: E402
from posekit.analysis import synthetic as sy  # noqa: E402
from posekit.analysis.tracks import MIN_CONFIDENCE as DEFAULT_MIN_CONFIDENCE  # noqa: E402
from posekit.analysis.tracks import tracks_from_arrays, with_midpoints  # noqa: E402

SOURCES = ("coco_wholebody", "crowdpose", "ochuman", "mpii")
_FOOT = {"left_toe": 0, "left_heel": 2, "right_toe": 3, "right_heel": 5}  # COCO-WholeBody foot_kpts order
MATCH_OKS = 0.5


def _label_points(annotation: dict) -> dict[str, np.ndarray]:
    """Named points ``(1, 2)`` of one labelled person, visible ones only (hip/shoulder midpoints added)."""
    kpts = np.asarray(annotation["keypoints"], np.float64).reshape(-1, 3)
    points = {name: kpts[i : i + 1, :2] for i, name in enumerate(COCO17.keypoint_names) if kpts[i, 2] > 0}
    if annotation.get("foot_kpts"):
        foot = np.asarray(annotation["foot_kpts"], np.float64).reshape(-1, 3)
        points.update({name: foot[i : i + 1, :2] for name, i in _FOOT.items() if foot[i, 2] > 0})
    return with_midpoints(points)


def _oks(labelled: np.ndarray, area: float, predicted: np.ndarray) -> float:
    visible = labelled[:, 2] > 0
    if not visible.any():
        return 0.0
    variance = (2 * COCO17.oks_sigmas()) ** 2
    d2 = np.sum((labelled[:, :2] - predicted[:, :2]) ** 2, axis=1)
    e = d2 / (2 * max(area, 1.0) * variance + np.spacing(1))
    return float(np.mean(np.exp(-e[visible])))


def _predicted_points(poses, person: int, min_confidence: float) -> dict[str, np.ndarray]:
    arrays = {}
    for name, keypoints in poses.keypoints.items():
        values = np.concatenate([keypoints.xy[person], keypoints.confidence[person][:, None]], axis=1)
        arrays[name] = values[None].astype(np.float64)
    coco = arrays.pop("coco17")
    track = tracks_from_arrays(0, [0], [0.0], coco, **arrays)
    return body_points(track, max_gap_s=0.0, min_confidence=min_confidence)


def _difference(name: str, truth: float, predicted: float) -> float:
    if ANGLES[name].kind == "segment":
        return abs((predicted - truth + 180.0) % 360.0 - 180.0)
    return abs(predicted - truth)


def matched_people(data: Path) -> list[tuple[dict, object, int]]:
    """(label, posekit's poses of its image, matched person) for every labelled person found."""
    found = []
    labelled = 0
    with PoseEstimator(EstimatorOptions()) as estimator:
        for source in SOURCES:
            coco = json.loads((data / source / "annotations.json").read_text())
            for image in coco["images"]:
                people = [a for a in coco["annotations"] if a["image_id"] == image["id"] and a["num_keypoints"] > 0]
                poses = estimator(cv2.imread(str(data / source / "images" / image["file_name"])))
                labelled += len(people)
                if not people or len(poses) == 0:
                    continue
                predicted = np.concatenate(
                    [poses.keypoints["coco17"].xy, poses.keypoints["coco17"].confidence[..., None]], axis=2
                )
                oks = np.array(
                    [[_oks(np.reshape(a["keypoints"], (-1, 3)), a["area"], p) for p in predicted] for a in people]
                )
                found += [
                    (people[row], poses, int(col))
                    for row, col in zip(*linear_sum_assignment(-oks), strict=True)
                    if oks[row, col] >= MATCH_OKS
                ]
    print(f"labelled people {labelled}, matched (OKS >= {MATCH_OKS}) {len(found)}")
    return found


def angle_errors(matched: list[tuple[dict, object, int]], min_confidence: float) -> dict[str, list[float]]:
    """Absolute differences per angle, where the labels hold every point and posekit reports the angle."""
    errors: dict[str, list[float]] = {name: [] for name in ANGLES}
    for label, poses, person in matched:
        truth = angles_from_points(_label_points(label), ANGLES)
        found = angles_from_points(_predicted_points(poses, person, min_confidence), ANGLES)
        for name, value in truth.items():
            if np.isfinite(value[0]) and name in found and np.isfinite(found[name][0]):
                errors[name].append(_difference(name, float(value[0]), float(found[name][0])))
    return errors


def _by_joint(errors: dict[str, list[float]]) -> dict[str, np.ndarray]:
    joints: dict[str, list[float]] = {}
    for name, values in errors.items():
        side, _, rest = name.partition("_")
        joints.setdefault(rest if side in ("left", "right") else name, []).extend(values)
    return {name: np.asarray(values) for name, values in joints.items() if values}


def print_angle_table(errors: dict[str, list[float]]) -> None:
    print("| angle (left and right pooled) | n | median abs error (deg) | mean | 90th pct |")
    print("|---|---:|---:|---:|---:|")
    for name, array in _by_joint(errors).items():
        print(
            f"| {name} | {array.size} | {np.median(array):.1f} | {array.mean():.1f} | {np.percentile(array, 90):.1f} |"
        )


def print_confidence_sweep(matched: list[tuple[dict, object, int]], thresholds: tuple[float, ...]) -> None:
    """Median error and n of the three target angles as the keypoint-confidence floor changes."""
    targets = ("knee_flexion", "hip_flexion", "elbow_flexion")
    print("| min keypoint confidence | " + " | ".join(f"{t} median (n)" for t in targets) + " |")
    print("|---:|" + "---:|" * len(targets))
    for threshold in thresholds:
        joints = _by_joint(angle_errors(matched, threshold))
        cells = [f"{np.median(joints[t]):.1f} ({joints[t].size})" if t in joints else "-" for t in targets]
        print(f"| {threshold:.1f} | " + " | ".join(cells) + " |")


def synthetic_hour(path: Path, hours: float = 1.0, fps: float = 30.0) -> int:
    """A JSONL of ``hours`` at ``fps`` with 5 people; returns the number of frames."""
    t = np.arange(0, hours * 3600, 1 / fps)
    rng = np.random.default_rng(1)
    jumps = [(1.0 + 1.3 * i, 1.0) for i in range(int(t[-1] / 1.3) - 1)]
    squats = [(1.0 + 3.0 * i, 2.0) for i in range(int(t[-1] / 3.0) - 1)]
    squat = sy.Motion(
        {f"{s}_{j}": sy.rep_wave(5.0, peak, squats) for s in ("left", "right") for j, peak in
         (("hip_flexion", 90.0), ("knee_flexion", 100.0))} | {"trunk_lean": sy.rep_wave(5, 30, squats)},
        sy.still((-1.0, 0.0, 6.0)),
    )  # fmt: skip
    motions = {
        1: sy.walk_motion(1.1, 0.0, 0.0, start=(-2.0, 0.0, 7.0)),  # on a treadmill: an hour in view
        2: sy.walk_motion(1.0, 0.0, 180.0, start=(2.0, 0.0, 8.0)),
        3: sy.jumping_jack_motion(jumps, (0.5, 0.0, 5.0)),
        4: sy.jumping_jack_motion(jumps, (1.8, 0.0, 6.0)),
        5: squat,
    }
    tracks = {i: sy.render_track(m, t, noise_px=1.5, rng=rng)["coco17"] for i, m in motions.items()}
    with path.open("w", encoding="utf-8") as out:
        for row, time_s in enumerate(t):
            people = []
            for track_id, values in tracks.items():
                v = np.round(values[row], 2)
                low, high = v[:, :2].min(axis=0), v[:, :2].max(axis=0)
                bbox = [float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])]
                people.append({"track_id": track_id, "score": 0.8, "bbox": bbox, "keypoints": {"coco17": v.tolist()}})
            record = {"source": "synthetic", "frame_index": row, "timestamp_s": round(float(time_s), 6),
                      "image_size": [720, 1280], "people": people}  # fmt: skip
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
    return int(t.size)


def speed(hours: float) -> None:
    from posekit.analysis import load_recording
    from posekit.analysis.run import analyse_recording

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hour.jsonl"
        started = time.perf_counter()
        frames = synthetic_hour(path, hours)
        size_mb = path.stat().st_size / 1e6
        print(f"wrote {frames} frames x 5 people ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s")
        options = AnalysisOptions(exercise="jumping_jack")
        started = time.perf_counter()
        recording = load_recording(path)
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        analyses = analyse_recording(recording, options)
        analyse_s = time.perf_counter() - started
        started = time.perf_counter()
        summary = run_analysis(path, Path(folder) / "out", options)
        total_s = time.perf_counter() - started
        counts = {
            t["track_id"]: (t.get("repetitions", {}).get("count"), (t["gait"] or {}).get("steps"))
            for t in summary["tracks"]
        }
        print("| step | seconds |")
        print("|---|---:|")
        print(f"| read JSONL | {read_s:.1f} |\n| analyse 5 tracks | {analyse_s:.1f} |")
        print(f"| run_analysis (read, analyse, write csv/plots/report/summary) | {total_s:.1f} |")
        print(f"(reps, steps) per track: {counts}; tracks analysed {len(analyses)}")


def video(clip: str, max_frames: int) -> None:
    times: dict[str, list[float]] = {"track": [], "analyze": []}
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(2):
            for command in ("track", "analyze"):
                args = [
                    "posekit",
                    command,
                    clip,
                    "--out",
                    f"{folder}/{command}{attempt}",
                    "--max-frames",
                    str(max_frames),
                ]
                args += ["--quiet"] if command == "analyze" else []
                started = time.perf_counter()
                subprocess.run(args, check=True, capture_output=True)
                times[command].append(time.perf_counter() - started)
    track_s, analyze_s = min(times["track"]), min(times["analyze"])
    print("| clip | frames | track (s) | analyze (s) | ratio |\n|---|---:|---:|---:|---:|")
    print(f"| {Path(clip).name} | {max_frames} | {track_s:.1f} | {analyze_s:.1f} | {analyze_s / track_s:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--part", choices=["angles", "speed", "video", "all"], default="all")
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--frames", type=int, default=200, help="frames of each clip for the video part")
    args = parser.parse_args()
    if args.part in ("angles", "all"):
        matched = matched_people(args.data)
        print_angle_table(angle_errors(matched, DEFAULT_MIN_CONFIDENCE))
        print_confidence_sweep(matched, (0.0, 0.2, 0.3, 0.4, 0.5))
    if args.part in ("speed", "all"):
        speed(args.hours)
    if args.part in ("video", "all"):
        video(str(args.data / "videos" / "vtest.avi"), args.frames)
        video(str(args.data / "multiview" / "pose2sim_single" / "videos" / "cam01.mp4"), 100)


if __name__ == "__main__":
    main()
