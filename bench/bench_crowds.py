#!/usr/bin/env python3
"""Crowd benchmark: AP, AR, people found and ms per image on labelled crowd mosaics and real
crowded frames, tiled (the default) against the whole-image pass alone; and a cost curve.

    python bench/bench_crowds.py [--data ../shared/data]

Mosaics: ``crowd_mosaic3`` / ``crowd_mosaic4`` from the dev data, and more built here from the
dev images (coco, crowdpose, ochuman) by ``tests/builders.crowd_mosaic`` (3x3 and 4x4 at
1920x1080, several orders). AP is COCO keypoint AP (posekit's evaluator, equal to pycocotools),
with its 20 detections per image: a mosaic of more than 20 labelled people cannot reach AP 1.
Real frames have no labels: people found and time only. The cost curve is ms per 1920x1080
image as the number of people grows (the dev images scaled into 1, 2x2, 3x3 and 4x4 grids).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posekit.cli.evaluate import EVAL_DETECTOR_MIN_SCORE  # noqa: E402
from posekit.eval.oks import evaluate_keypoints  # noqa: E402
from posekit.image import EstimatorOptions, PoseEstimator  # noqa: E402
from posekit.io.formats import poses_to_coco  # noqa: E402
from posekit.schemas import COCO17  # noqa: E402
from tests.builders import crowd_mosaic  # noqa: E402

VARIANTS = {
    "tiled (default)": EstimatorOptions(landmark_model="none"),
    "whole image only": EstimatorOptions(landmark_model="none", min_tile_px=0),
}


def _labelled(data: Path) -> list[tuple[str, list[np.ndarray], dict]]:
    """``(name, images, labels)`` per labelled crowd set."""
    sets = []
    for name in ("crowd_mosaic3", "crowd_mosaic4"):
        folder = data / name
        if (folder / "annotations.json").exists():
            labels = json.loads((folder / "annotations.json").read_text())
            images = [cv2.imread(str(folder / "images" / i["file_name"])) for i in labels["images"]]
            sets.append((name, images, labels))
    sources = [
        (json.loads((data / s / "annotations.json").read_text()), data / s / "images")
        for s in ("coco", "crowdpose", "ochuman")
    ]
    for grid in (3, 4):
        built = [crowd_mosaic(sources, grid, order_seed=seed) for seed in (1, 2, 3)]
        labels = {"images": [], "annotations": [], "categories": built[0][1]["categories"]}
        for image_id, (_, one) in enumerate(built, start=1):
            labels["images"].append({**one["images"][0], "id": image_id})
            labels["annotations"] += [
                {**a, "image_id": image_id, "id": len(labels["annotations"]) + k}
                for k, a in enumerate(one["annotations"])
            ]
        sets.append((f"built {grid}x{grid} (3 images)", [image for image, _ in built], labels))
    return sets


def _frames(data: Path) -> list[tuple[str, np.ndarray]]:
    frames = []
    capture = cv2.VideoCapture(str(data / "videos" / "vtest.avi"))
    for index in range(301):
        ok, frame = capture.read()
        if ok and index in (100, 300):
            frames.append((f"vtest frame {index} (768x576)", frame))
            frames.append((f"vtest frame {index}, 2x (1536x1152)", cv2.resize(frame, None, fx=2, fy=2)))
    basketball = cv2.imread(str(data / "images" / "basketball1.png"))
    if basketball is not None:
        frames.append(("basketball1 (OpenCV sample)", basketball))
    return frames


def _timed(estimator: PoseEstimator, image: np.ndarray):
    start = time.perf_counter()
    poses = estimator(image)
    return poses, 1000 * (time.perf_counter() - start)


def crowd_table(data: Path) -> None:
    print("\n### Labelled crowds\n")
    print("| set | labelled people | variant | AP | AR | found / image | ms / image |")
    print("|---|---|---|---|---|---|---|")
    sets = _labelled(data)
    for label, options in VARIANTS.items():
        with PoseEstimator(
            EstimatorOptions(
                **{**options.__dict__, "min_person_score": 0.0, "detector_min_score": EVAL_DETECTOR_MIN_SCORE}
            )
        ) as estimator:
            for name, images, labels in sets:
                results, found, ms = [], 0, 0.0
                for info, image in zip(labels["images"], images, strict=True):
                    poses, took = _timed(estimator, image)
                    results += poses_to_coco(poses, info["id"])
                    found, ms = found + len(poses), ms + took
                m = evaluate_keypoints(labels, results, COCO17.oks_sigmas())
                n = len(images)
                cells = f"{m['AP']:.3f} | {m['AR']:.3f} | {found / n:.1f} | {ms / n:.0f}"
                print(f"| {name} | {len(labels['annotations'])} | {label} | {cells} |")
    print("\n### Real crowded frames (no labels; default --min-score)\n")
    print("| frame | variant | people | ms |")
    print("|---|---|---|---|")
    frames = _frames(data)
    for label, options in VARIANTS.items():
        with PoseEstimator(options) as estimator:
            estimator(frames[0][1])  # warm-up
            for name, frame in frames:
                poses, took = _timed(estimator, frame)
                print(f"| {name} | {label} | {len(poses)} | {took:.0f} |")


def cost_curve(data: Path) -> None:
    print("\n### Cost curve: ms per 1920x1080 image as people grow (tiled default, Thunder per person)\n")
    print("| grid | labelled people | found | ms (median of 3) |")
    print("|---|---|---|---|")
    coco = json.loads((data / "coco" / "annotations.json").read_text())
    one = {**coco, "images": [i for i in coco["images"] if i["file_name"] == "000000000785.jpg"]}
    sources_all = [
        (json.loads((data / s / "annotations.json").read_text()), data / s / "images")
        for s in ("coco", "crowdpose", "ochuman")
    ]
    cases = [(1, [(one, data / "coco" / "images")]), (2, sources_all), (3, sources_all), (4, sources_all)]
    with PoseEstimator(EstimatorOptions(landmark_model="none")) as estimator:
        for grid, sources in cases:
            image, labels = crowd_mosaic(sources, grid, order_seed=1)
            runs = [_timed(estimator, image) for _ in range(3)]
            ms = np.median([r[1] for r in runs])
            print(f"| {grid}x{grid} | {len(labels['annotations'])} | {len(runs[0][0])} | {ms:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    crowd_table(args.data)
    cost_curve(args.data)


if __name__ == "__main__":
    main()
