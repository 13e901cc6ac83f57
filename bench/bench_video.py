"""Video benchmark: ms per frame by stage, with and without ROI propagation, people per frame;
tracking metrics on labelled synthetic sequences; jitter and lag with and without smoothing.

    python bench/bench_video.py [--video PATH] [--frames N]

Defaults to ``shared/data/videos/vtest.avi`` (795 frames of pedestrians, 768x576) when present,
else the bundled 24-frame clip cut from it (``posekit/assets/demo_walk.mp4``). Every figure in
one table comes from the same run on the same machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posekit.eval.oks import compute_oks  # noqa: E402
from posekit.eval.tracking import evaluate_tracking  # noqa: E402
from posekit.image import EstimatorOptions  # noqa: E402
from posekit.io.formats import poses_to_coco  # noqa: E402
from posekit.io.video import ReadOptions, open_source  # noqa: E402
from posekit.runtime import LiteRTRuntime  # noqa: E402
from posekit.schemas import COCO17  # noqa: E402
from posekit.track.smoothing import jitter, lag_frames  # noqa: E402
from posekit.video import VideoOptions, VideoPoseEstimator, smooth_sequence  # noqa: E402
from tests.builders import (  # noqa: E402
    blurred_background,
    composited_sequence,
    moving_camera_sequence,
    pasted_people_sequence,
    silhouette_cutout,
    walkers_sequence,
)

SHARED_VIDEO = ROOT.parent / "shared" / "data" / "videos" / "vtest.avi"
TEST_DATA = ROOT / "tests" / "data"

LIGHTNING = VideoOptions(estimator=EstimatorOptions(keypoint_model="lightning", landmark_model="none"))
CONFIGS = {
    "auto (default)": VideoOptions(),
    "auto, no look behind": VideoOptions(look_behind=False),
    "auto, no propagation": VideoOptions(propagate=False),
    "lightning": LIGHTNING,
    "thunder": VideoOptions(estimator=EstimatorOptions(keypoint_model="thunder", landmark_model="none")),
    "lightning + BlazePose lite": VideoOptions(
        estimator=EstimatorOptions(keypoint_model="lightning", landmark_model="lite")
    ),
    "BlazePose full only (1 person)": VideoOptions(
        estimator=EstimatorOptions(detector="blazepose", keypoint_model="none", landmark_model="full")
    ),
}


class TimedRuntime(LiteRTRuntime):
    """LiteRT with a running total of the time spent in the models: the floor of a frame's cost
    that no change outside the models can lower."""

    def __init__(self, model_path: Path, num_threads: int) -> None:
        super().__init__(model_path, num_threads)
        self.counting = False
        self.model_ms = 0.0

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        start = time.perf_counter()
        outputs = super().run(inputs)
        if self.counting:
            self.model_ms += 1000 * (time.perf_counter() - start)
        return outputs


def speed(video_path: str, options: VideoOptions, max_frames: int, warmup: int = 5) -> dict[str, float]:
    timings: dict[str, float] = {}
    frames = people = 0
    elapsed = 0.0
    runtimes: list[TimedRuntime] = []

    def timed_runtime(path: Path, threads: int) -> TimedRuntime:
        runtimes.append(TimedRuntime(path, threads))
        return runtimes[-1]

    with (
        VideoPoseEstimator(options, timed_runtime) as video,
        open_source(video_path, ReadOptions(max_frames=max_frames)) as source,
    ):
        read_start = time.perf_counter()
        for frame in source:
            decode_ms = 1000 * (time.perf_counter() - read_start)
            start = time.perf_counter()
            stage: dict[str, float] = {}
            for runtime in runtimes:
                runtime.counting = frames >= warmup
            poses = video(frame.image_bgr, frame.timestamp_s, stage)
            if frames >= warmup:  # steady state: the first frames scan the whole image
                elapsed += time.perf_counter() - start + decode_ms / 1000
                for key, value in stage.items():
                    timings[key] = timings.get(key, 0.0) + value
                timings["read"] = timings.get("read", 0.0) + decode_ms
                people += len(poses)
            frames += 1
            read_start = time.perf_counter()
        detector_runs = video.stats.detector_runs
    counted = max(frames - warmup, 1)
    row = {key: value / counted for key, value in timings.items()}
    row.update(
        total=1000 * elapsed / counted,
        models=sum(r.model_ms for r in runtimes) / counted,
        people=people / counted,
        detector=detector_runs / frames,
    )
    return row


def _people(annotation_file: str, file_name: str):
    annotations = json.loads((TEST_DATA / "annotations" / annotation_file).read_text())
    image = next(i for i in annotations["images"] if i["file_name"] == file_name)
    people = [a for a in annotations["annotations"] if a["image_id"] == image["id"] and a["num_keypoints"] > 0]
    return cv2.imread(str(TEST_DATA / "images" / file_name)), people


def sequences():
    image, people = _people("coco.json", "000000196141.jpg")
    yield "pan+zoom, 4 people", *moving_camera_sequence(image, people, 20)
    image, people = _people("coco.json", "000000197388.jpg")
    yield "pan+zoom, 5 people", *moving_camera_sequence(image, people, 20)
    image, people = _people("crowdpose.json", "103319.jpg")
    paths = [lambda t: (40 + 18 * t, 60), lambda t: (600 - 18 * t, 70)]
    yield "2 people crossing", *pasted_people_sequence(image, people, paths, 30)
    image, people = _people("coco.json", "000000000785.jpg")
    away = [lambda t: None if 10 <= t < 22 else ((60 + 25 * t) if t < 10 else 60 + 25 * (32 - t), 20)]
    yield "leaves 1.2 s, returns", *pasted_people_sequence(image, people, away, 32)


WALKER_PATHS = {
    "4 cross, 6 px/f": dict(speed=6.0),
    "4 cross, 9 px/f": dict(speed=9.0),
    "pairs staggered": dict(speed=7.0, starts=(-60, 560, 180, 420), ys=(140, 150, 210, 230)),
    "overtake": dict(speed=5.0, starts=(0, 200, 470, 330), directions=(1, 1, -1, -1), ys=(160, 200, 150, 220)),
    "other order": dict(speed=7.0, order=(3, 2, 1, 0)),
    "rows apart": dict(speed=8.0, starts=(0, 520, 60, 460), ys=(60, 80, 230, 240)),
}


def random_walker_paths(count: int = 24, seed: int = 7) -> dict[str, dict]:
    """More walker sequences than the six hand-laid ones, because these are chaotic: random
    speeds (4-10 px per frame), directions, start points, heights (people low in the frame are
    cut by its bottom edge) and depth orders, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    family = {}
    for k in range(count):
        directions = tuple(int(d) for d in rng.choice([-1, 1], 4))
        starts = tuple(float(rng.uniform(-80, 300) if d > 0 else rng.uniform(340, 640)) for d in directions)
        family[f"random {k}"] = dict(
            speed=float(rng.uniform(4, 10)),
            starts=starts,
            ys=tuple(float(y) for y in rng.uniform(40, 280, 4)),
            directions=directions,
            order=tuple(int(i) for i in rng.permutation(4)),
        )
    return family


def walkers(**paths):
    annotations = json.loads((TEST_DATA / "annotations" / "coco.json").read_text())
    return walkers_sequence(annotations, TEST_DATA / "images", **paths)


def _track_metrics(options: VideoOptions, frames, labels, fps: float) -> dict[str, float]:
    results = []
    with VideoPoseEstimator(options) as video:
        for index, frame in enumerate(frames):
            results += poses_to_coco(video(frame, index / fps), labels["images"][index]["id"])
    return evaluate_tracking(labels, results, COCO17.oks_sigmas())


def _mean_row(name: str, rows: list[dict[str, float]]) -> str:
    mean = {key: np.mean([m[key] for m in rows]) for key in ("MOTA", "IDF1", "AP", "AP50")}
    switches = int(sum(m["ID_switches"] for m in rows))
    cells = f"{mean['MOTA']:6.3f} {mean['IDF1']:6.3f} {switches:5d} {mean['AP']:6.3f} {mean['AP50']:6.3f}"
    return f"{name:24s} {'':4s} {cells}"


def tracking_table(options: VideoOptions, random_walkers: int = 24) -> None:
    print(f"\n{'sequence':24s} {'fps':>4s} {'MOTA':>6s} {'IDF1':>6s} {'IDsw':>5s} {'AP':>6s} {'AP50':>6s}")
    labelled = [(name, frames, labels, 10.0) for name, frames, labels in sequences()]
    labelled += [(name, *walkers(**paths), 30.0) for name, paths in WALKER_PATHS.items()]
    walker_rows = []
    for name, frames, labels, fps in labelled:
        m = _track_metrics(options, frames, labels, fps)
        if name in WALKER_PATHS:
            walker_rows.append(m)
        print(
            f"{name:24s} {fps:4.0f} {m['MOTA']:6.3f} {m['IDF1']:6.3f} {int(m['ID_switches']):5d} {m['AP']:6.3f} "
            f"{m['AP50']:6.3f}"
        )
    print(_mean_row("walkers: mean (IDsw sum)", walker_rows))
    if random_walkers:
        family = random_walker_paths(random_walkers)
        random_rows = [_track_metrics(options, *walkers(**paths), 30.0) for paths in family.values()]
        print(_mean_row(f"{random_walkers} random walkers: mean", random_rows))
        print(_mean_row(f"all {len(walker_rows) + len(random_rows)} walkers: mean", walker_rows + random_rows))


def smoothing_table(video_path: str, max_frames: int) -> None:
    """Jitter (mean keypoint acceleration, person heights) and lag (frames behind the raw track)."""
    # The same raw tracks both ways (smoothing only changes what is reported), so the online
    # row is what `posekit track` writes.
    with (
        VideoPoseEstimator(replace(VideoOptions(), smoothing="none")) as video,
        VideoPoseEstimator(replace(VideoOptions(), smoothing="online")) as smoothed,
        open_source(video_path, ReadOptions(max_frames=max_frames)) as source,
    ):
        sequence, online = [], []
        for frame in source:
            sequence.append((frame.timestamp_s, video(frame.image_bgr, frame.timestamp_s)))
            online.append(smoothed(frame.image_bgr, frame.timestamp_s).keypoints["coco17"].xy)
    offline = smooth_sequence(sequence)
    tracks: dict[int, list[tuple[int, int]]] = {}
    for f, (_, poses) in enumerate(sequence):
        for p, track_id in enumerate(poses.track_id if poses.track_id is not None else []):
            tracks.setdefault(int(track_id), []).append((f, p))
    rows = {"none": [], "online (One Euro)": [], "offline (RTS)": []}
    lags = {"online (One Euro)": [], "offline (RTS)": []}
    for positions in tracks.values():
        if len(positions) < 20:
            continue
        heights = np.array([sequence[f][1].bbox_xywh[p, 3] for f, p in positions])
        raw = np.array([sequence[f][1].keypoints["coco17"].xy[p] for f, p in positions])
        on = np.array([online[f][p] for f, p in positions])
        off = np.array([offline[f].keypoints["coco17"].xy[p] for f, p in positions])
        rows["none"].append(jitter(raw, heights))
        rows["online (One Euro)"].append(jitter(on, heights))
        rows["offline (RTS)"].append(jitter(off, heights))
        lags["online (One Euro)"].append(lag_frames(raw, on))
        lags["offline (RTS)"].append(lag_frames(raw, off))
    print(f"\n{'smoothing':20s} {'jitter':>8s} {'lag (frames)':>13s}   ({len(rows['none'])} tracks of 20+ frames)")
    for name, values in rows.items():
        lag = np.median(lags[name]) if name in lags else 0
        print(f"{name:20s} {np.mean(values):8.4f} {lag:13.1f}")


def single_person_clip(path: Path, n_frames: int = 150) -> Path:
    """A 640x480 clip of one person (COCO image 785, panned and zoomed), written once."""
    if not path.exists():
        image, people = _people("coco.json", "000000000785.jpg")
        image = cv2.resize(image, (640, 480))
        frames, _ = moving_camera_sequence(image, [], n_frames)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (640, 480))
        for frame in frames:
            writer.write(frame)
        writer.release()
    return path


def lone_person_table() -> None:
    """Keypoint accuracy for one person alone: each COCO test person with 12+ labelled points cut
    along their outline onto a plain background, 130, 260 and 400 px tall, walking right for 30 frames
    at 30 fps; mean per-frame OKS (best prediction) by keypoint model (``auto`` reads a person
    alone with Thunder at a 192 px input)."""
    annotations = json.loads((TEST_DATA / "annotations" / "coco.json").read_text())
    names = {i["id"]: i["file_name"] for i in annotations["images"]}
    background = blurred_background(cv2.imread(str(TEST_DATA / "images" / "000000040083.jpg")), (480, 640))
    models = ("lightning", "thunder", "auto")
    sigmas = COCO17.oks_sigmas()
    means: dict[str, list[float]] = {m: [] for m in models}
    for person in (a for a in annotations["annotations"] if a["num_keypoints"] >= 12):
        image = cv2.imread(str(TEST_DATA / "images" / names[person["image_id"]]))
        for height in (130, 260, 400):
            cutout = silhouette_cutout(image, person, height)
            x0, y0 = (40 if cutout.mask.shape[1] < 400 else 0), max(470 - cutout.mask.shape[0], 0)
            frames, labels = composited_sequence([cutout], [lambda t, x0=x0, y0=y0: (x0 + 4 * t, y0)], 30, background)
            for model in models:
                options = VideoOptions(estimator=EstimatorOptions(keypoint_model=model, landmark_model="none"))
                per_frame = []
                with VideoPoseEstimator(options) as video:
                    for index, frame in enumerate(frames):
                        poses = video(frame, index / 30)
                        (label,) = [a for a in labels["annotations"] if a["image_id"] == index + 1]
                        truth = np.array(label["keypoints"], float).reshape(1, 17, 3)
                        xy = poses.keypoints["coco17"].xy
                        found = np.concatenate([xy, np.ones((*xy.shape[:2], 1))], axis=2)
                        oks = compute_oks(truth, np.array([label["area"]]), np.zeros((1, 4)), found, sigmas)
                        per_frame.append(float(oks.max()) if oks.size else 0.0)
                means[model].append(float(np.mean(per_frame)))
    thunder, lightning = np.array(means["thunder"]), np.array(means["lightning"])
    print(
        f"\none person alone, {len(thunder)} clips (30 fps): mean OKS lightning {lightning.mean():.3f}, "
        f"thunder {thunder.mean():.3f}, auto (thunder at 192 px) {np.mean(means['auto']):.3f}; "
        f"thunder better than lightning in {int((thunder > lightning).sum())}, "
        f"lightning in {int((lightning > thunder).sum())}, equal in {int((lightning == thunder).sum())}"
    )


SINGLE_PERSON_CONFIGS = {
    "default (auto: a person alone gets thunder at 192 px)": VideoOptions(),
    "lightning": LIGHTNING,
    "BlazePose full only (MediaPipe-style)": VideoOptions(
        estimator=EstimatorOptions(detector="blazepose", keypoint_model="none", landmark_model="full")
    ),
    "BlazePose lite only": VideoOptions(
        estimator=EstimatorOptions(detector="blazepose", keypoint_model="none", landmark_model="lite")
    ),
    "lightning + BlazePose full": VideoOptions(
        estimator=EstimatorOptions(keypoint_model="lightning", landmark_model="full")
    ),
    # Whole body (track --whole-body): ms per frame is ms per person here.
    "whole body (--whole-body)": VideoOptions(
        estimator=replace(VideoOptions().estimator, whole_body=True, landmark_model="full")
    ),
    "whole body, MediaPipe-style, hands lite": VideoOptions(
        estimator=EstimatorOptions(
            detector="blazepose",
            keypoint_model="none",
            landmark_model="full",
            whole_body=True,
            hand_model="lite",
            hand_search=False,
        )
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--video", default=str(SHARED_VIDEO if SHARED_VIDEO.exists() else ROOT / "posekit" / "assets" / "demo_walk.mp4")
    )
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    print(f"speed on {Path(args.video).name}, {args.frames} frames (first 5 not counted), ms per frame")
    print("(models: the time inside the models' runtimes, part of the stages; the rest is posekit's own)")
    stages = ["read", "decode", "detect", "keypoints", "landmarks", "post", "track", "smooth"]
    print(
        f"{'config':32s} "
        + " ".join(f"{s:>9s}" for s in stages)
        + f" {'total':>7s} {'models':>7s} {'fps':>6s} {'people':>7s} {'det/frm':>8s}"
    )
    for name, options in CONFIGS.items():
        row = speed(args.video, options, args.frames)
        cells = " ".join(f"{row.get(s, 0.0):9.1f}" for s in stages)
        rate = 1000 / row["total"]
        print(
            f"{name:32s} {cells} {row['total']:7.1f} {row['models']:7.1f} {rate:6.1f} {row['people']:7.2f} "
            f"{row['detector']:8.2f}"
        )
    clip = single_person_clip(Path("/tmp/posekit_single_person_640x480.mp4"))
    print(f"\nsingle person, 640x480, {clip} (150 frames)")
    for name, options in SINGLE_PERSON_CONFIGS.items():
        row = speed(str(clip), options, 150)
        print(f"{name:40s} {row['total']:6.1f} ms/frame {1000 / row['total']:6.1f} fps  people {row['people']:.2f}")
    lone_person_table()
    for name, options in (("default (auto)", VideoOptions()), ("lightning", LIGHTNING)):
        print(f"\ntracking, {name}")
        tracking_table(options)
    smoothing_table(args.video, args.frames)


if __name__ == "__main__":
    main()
