#!/usr/bin/env python3
"""Image benchmark: dev-set AP and per-stage speed, in one run, printed as Markdown tables.

    python bench/bench_images.py                    # AP on the dev sets + speed table
    python bench/bench_images.py --data ../shared/data --repeats 20

AP is COCO keypoint AP (posekit's own evaluator, equal to pycocotools), pooled over the dev
sets ``coco, crowdpose, ochuman, mpii`` and per set. Speed is steady-state wall time per image
(after warm-up) split into stages, with the models' own invoke time beside it so the
pipeline's overhead shows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from posekit.cli.evaluate import EVAL_DETECTOR_MIN_SCORE
from posekit.eval.oks import evaluate_keypoints
from posekit.image import EstimatorOptions, PoseEstimator
from posekit.io.formats import poses_to_coco
from posekit.io.images import read_image
from posekit.runtime import LiteRTRuntime
from posekit.schemas import COCO17

ROOT = Path(__file__).resolve().parents[1]
DEV_SETS = ("coco", "crowdpose", "ochuman", "mpii")
VARIANTS = {
    "default (thunder + BlazePose full)": EstimatorOptions(),
    "thunder, no BlazePose": EstimatorOptions(landmark_model="none"),
    "thunder, no BlazePose, no re-read of hidden people": EstimatorOptions(landmark_model="none", reread_hidden=False),
    "lightning + BlazePose lite": EstimatorOptions(keypoint_model="lightning", landmark_model="lite"),
    "lightning, no BlazePose": EstimatorOptions(keypoint_model="lightning", landmark_model="none"),
    "MultiPose only": EstimatorOptions(keypoint_model="none", landmark_model="none"),
    "BlazePose detector + full": EstimatorOptions(detector="blazepose"),
}


class TimedRuntime:
    """Wraps a runtime and adds each invoke's time to a shared counter."""

    def __init__(self, inner: LiteRTRuntime, counter: dict[str, float]) -> None:
        self._inner = inner
        self._counter = counter
        self.input_shapes = inner.input_shapes

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        start = time.perf_counter()
        outputs = self._inner.run(inputs)
        self._counter["invoke"] = self._counter.get("invoke", 0.0) + 1000 * (time.perf_counter() - start)
        return outputs


def load_dev_sets(data_dir: Path) -> dict[str, tuple[dict, Path]]:
    sets = {}
    for name in DEV_SETS:
        if (data_dir / name / "annotations.json").exists():
            sets[name] = (json.loads((data_dir / name / "annotations.json").read_text()), data_dir / name / "images")
        else:  # the copies bundled with the tests
            sets[name] = (
                json.loads((ROOT / "tests/data/annotations" / f"{name}.json").read_text()),
                ROOT / "tests/data/images",
            )
    return sets


def pool(sets: dict[str, tuple[dict, Path]]) -> tuple[dict, dict[int, Path]]:
    images, annotations, paths = [], [], {}
    for n, (data, image_dir) in enumerate(sets.values()):
        offset = (n + 1) * 10**10  # keeps every set's ids apart
        for image in data["images"]:
            images.append({**image, "id": image["id"] + offset})
            paths[image["id"] + offset] = image_dir / image["file_name"]
        annotations += [
            {**a, "image_id": a["image_id"] + offset, "id": len(annotations) + i + 1}
            for i, a in enumerate(data["annotations"])
        ]
    return {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "person"}]}, paths


def ap_table(sets: dict[str, tuple[dict, Path]]) -> None:
    pooled, paths = pool(sets)
    decoded = {image_id: read_image(path) for image_id, path in paths.items()}
    print(f"\n### COCO keypoint AP on the dev sets ({len(pooled['annotations'])} labelled people)\n")
    print("| variant | pooled AP | AP50 | AP75 | AR | " + " | ".join(sets) + " | ms/image |")
    print("|---|---|---|---|---|" + "---|" * len(sets) + "---|")
    for label, options in VARIANTS.items():
        # The evaluation protocol of `posekit eval`: every detection kept, AP ranks them.
        options = replace(options, min_person_score=0.0, detector_min_score=EVAL_DETECTOR_MIN_SCORE)
        with PoseEstimator(options) as estimator:
            results, elapsed = [], 0.0
            for image_id, image in decoded.items():
                start = time.perf_counter()
                poses = estimator(image)
                elapsed += time.perf_counter() - start
                results += poses_to_coco(poses, image_id)
        pooled_metrics = evaluate_keypoints(pooled, results, COCO17.oks_sigmas())
        per_set = []
        for n in range(len(sets)):
            low, high = (n + 1) * 10**10, (n + 2) * 10**10
            subset = {
                **pooled,
                "images": [i for i in pooled["images"] if low <= i["id"] < high],
                "annotations": [a for a in pooled["annotations"] if low <= a["image_id"] < high],
            }
            per_set.append(
                evaluate_keypoints(subset, [r for r in results if low <= r["image_id"] < high], COCO17.oks_sigmas())[
                    "AP"
                ]
            )
        m = pooled_metrics
        print(
            f"| {label} | **{m['AP']:.3f}** | {m['AP50']:.3f} | {m['AP75']:.3f} | {m['AR']:.3f} | "
            + " | ".join(f"{v:.3f}" for v in per_set)
            + f" | {1000 * elapsed / len(decoded):.0f} |"
        )


def speed_table(images: dict[str, Path], repeats: int) -> None:
    print(f"\n### Steady-state ms per image (median of {repeats}, after 3 warm-up runs)\n")
    print(
        "| variant | image | people | decode | detect | keypoints | landmarks | post | end-to-end "
        "| model invoke | overhead |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, options in VARIANTS.items():
        counter: dict[str, float] = {}

        def timed(path: Path, threads: int, counter: dict[str, float] = counter) -> TimedRuntime:
            return TimedRuntime(LiteRTRuntime(path, threads), counter)

        with PoseEstimator(options, runtime_factory=timed) as est:
            for image_name, path in images.items():
                rows: list[dict[str, float]] = []
                people = 0
                for run in range(repeats + 3):
                    counter.clear()
                    timings: dict[str, float] = {}
                    start = time.perf_counter()
                    image = read_image(path)
                    timings["decode"] = 1000 * (time.perf_counter() - start)
                    poses = est(image, timings_ms=timings)
                    timings["total"] = 1000 * (time.perf_counter() - start)
                    timings["invoke"] = counter.get("invoke", 0.0)
                    people = len(poses)
                    if run >= 3:
                        rows.append(timings)

                def med(key: str, rows: list[dict[str, float]] = rows) -> float:
                    return statistics.median(r.get(key, 0.0) for r in rows)

                print(
                    f"| {label} | {image_name} | {people} | {med('decode'):.1f} | {med('detect'):.1f} | "
                    f"{med('keypoints'):.1f} | {med('landmarks'):.1f} | {med('post'):.1f} | "
                    f"**{med('total'):.1f}** | {med('invoke'):.1f} | {med('total') - med('invoke'):.1f} |"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--skip-ap", action="store_true")
    args = parser.parse_args()
    if not args.skip_ap:
        ap_table(load_dev_sets(args.data))
    images = ROOT / "tests" / "data" / "images"
    speed_table(
        {
            "1 person (000000000785, 640x425)": images / "000000000785.jpg",
            "4 people (000000196141, 640x429)": images / "000000196141.jpg",
        },
        args.repeats,
    )


if __name__ == "__main__":
    main()
