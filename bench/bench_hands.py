"""Hand keypoints, top-down on annotation boxes (what ``posekit eval HANDS.json`` runs): PCK@0.2,
EPE and ms per hand on four sets built from the dev data.

    python bench/bench_hands.py [--out DIR] [--hand-model full|lite] [--threads N]

Sets (written to ``--out`` in the dev sets' format, so ``posekit eval DIR/SET/annotations.json
--images DIR/SET/images`` reproduces a row):

* ``freihand``, ``onehand10k``: the dev files as they are (close-up hands);
* ``wholebody``: every valid left / right hand of the COCO-WholeBody people, on the full COCO
  frames: small hands among people, the nearest stand-in for CMU Panoptic frames;
* ``small``: the FreiHAND and OneHand10K images shrunk to 0.2 ... 0.5 and pasted on a
  320x320 (or larger) piece of a COCO frame: small, blurry hands in a scene, as in RHD's renders;
* ``small_rotated``: the same, each hand also turned by two random angles (RHD's and Panoptic's
  hands point every way; the dev hands mostly point one way);
* ``small_tip_first``: ``small`` with each finger listed tip first, as MMPose's RHD files do.

``all`` pools every hand of the sets into one PCK (each point's accuracy over all hands);
``small_tip_first`` repeats ``small``'s hands, so it is left out of ``all``. A second table
repeats every set with each box replaced by the extent of its labelled points, as CMU
Panoptic's MMPose files give it, predicted and scored on those boxes (smaller: a stricter PCK).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posekit import EstimatorOptions  # noqa: E402
from posekit.eval.dataset import (  # noqa: E402
    KeypointsPredictor,
    load_annotations,
    predict_topdown,
    topdown_predictor,
)
from posekit.eval.files import evaluate_file  # noqa: E402
from tests.builders import TIP_FIRST  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
SMALL_SCALES = (0.2, 0.3, 0.4, 0.5)
TURNS_PER_SCALE = 2  # random angles per image and scale in small_rotated
SMALL_CANVAS = 320  # RHD's image side
_HAND_SIDES = ("left", "right")


def _hand_file(source: dict[str, Any], images: list[dict], annotations: list[dict], description: str) -> dict:
    return {
        "info": {"description": description},
        "images": images,
        "annotations": annotations,
        "categories": source["categories"],
    }


def _copy_images(annotations: dict[str, Any], src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for image in annotations["images"]:
        target = dst / image["file_name"]
        if not target.exists():
            target.write_bytes((src / image["file_name"]).read_bytes())


def build_dev_set(name: str, out: Path) -> Path:
    """A dev hand set copied as it is."""
    source = SHARED / name
    annotations = load_annotations(source / "annotations.json")
    _copy_images(annotations, source / "images", out / "images")
    (out / "annotations.json").write_text(json.dumps(annotations))
    return out


def build_wholebody_set(out: Path) -> Path:
    """One 21-point annotation per valid COCO-WholeBody hand, on its full frame."""
    source = load_annotations(SHARED / "coco_wholebody" / "annotations.json")
    categories = load_annotations(SHARED / "hand_freihand" / "annotations.json")["categories"]
    hands = []
    for person in source["annotations"]:
        for side in _HAND_SIDES:
            points = np.asarray(person[f"{side}hand_kpts"], dtype=np.float64).reshape(21, 3)
            if not person.get(f"{side}hand_valid") or not (points[:, 2] > 0).any():
                continue
            box = [float(v) for v in person[f"{side}hand_box"]]
            hands.append(
                {
                    "id": len(hands) + 1,
                    "image_id": person["image_id"],
                    "category_id": categories[0]["id"],
                    "keypoints": points.ravel().tolist(),
                    "num_keypoints": int((points[:, 2] > 0).sum()),
                    "bbox": box,
                    "area": box[2] * box[3],
                    "iscrowd": 0,
                    "hand": side,
                    "person_id": person["id"],
                }
            )
    used = {hand["image_id"] for hand in hands}
    images = [image for image in source["images"] if image["id"] in used]
    annotations = _hand_file(
        {"categories": categories}, images, hands, "COCO-WholeBody hands on their full COCO frames"
    )
    _copy_images(annotations, SHARED / "coco_wholebody" / "images", out / "images")
    (out / "annotations.json").write_text(json.dumps(annotations))
    return out


def _background(side_x: int, side_y: int, index: int) -> np.ndarray:
    """A ``side_y x side_x`` piece of one of the COCO frames (cycled by ``index``)."""
    frames = sorted((SHARED / "coco" / "images").glob("*.jpg"))
    frame = cv2.imread(str(frames[index % len(frames)]))
    cover = max(side_x / frame.shape[1], side_y / frame.shape[0], 1.0)
    frame = cv2.resize(frame, None, fx=cover, fy=cover, interpolation=cv2.INTER_LINEAR)
    rng = np.random.default_rng(index)
    top = int(rng.integers(0, frame.shape[0] - side_y + 1))
    left = int(rng.integers(0, frame.shape[1] - side_x + 1))
    return frame[top : top + side_y, left : left + side_x].copy()


def _paste(pixels: np.ndarray, scale: float, angle_deg: float, index: int, rng: np.random.Generator):
    """``pixels`` shrunk by ``scale``, turned by ``angle_deg`` and pasted at a random place on a
    piece of a COCO frame; returns the canvas and the 2x3 affine from source to canvas pixels."""
    # Shrink first with pixel-area averaging (as a renderer's anti-aliasing does), then turn.
    small = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    height, width = small.shape[:2]
    affine = cv2.getRotationMatrix2D((width / 2, height / 2), angle_deg, 1.0)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64) @ affine[:, :2].T + affine[:, 2]
    low = corners.min(axis=0)
    size = np.ceil(corners.max(axis=0) - low).astype(int)
    canvas = _background(max(SMALL_CANVAS, int(size[0])), max(SMALL_CANVAS, int(size[1])), index)
    offset = (rng.integers(0, canvas.shape[1] - size[0] + 1), rng.integers(0, canvas.shape[0] - size[1] + 1))
    affine[:, 2] += np.asarray(offset, np.float64) - low
    shape = (canvas.shape[1], canvas.shape[0])
    warped = cv2.warpAffine(small, affine, shape, flags=cv2.INTER_LINEAR)
    inside = cv2.warpAffine(np.full(small.shape[:2], 255, np.uint8), affine, shape) > 127
    canvas[inside] = warped[inside]
    return canvas, affine @ np.diag([scale, scale, 1.0])  # source -> shrunk -> canvas


def _moved_hand(ann: dict[str, Any], affine: np.ndarray, hand_id: int, image_id: int) -> dict[str, Any]:
    """``ann`` under ``affine``: its points moved, its box the axis-aligned box of the moved box."""
    points = np.asarray(ann["keypoints"], dtype=np.float64).reshape(21, 3)
    points[:, :2] = points[:, :2] @ affine[:, :2].T + affine[:, 2]
    x, y, w, h = (float(v) for v in ann["bbox"])
    corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]) @ affine[:, :2].T + affine[:, 2]
    low, high = corners.min(axis=0), corners.max(axis=0)
    box = [float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])]
    moved = {"id": hand_id, "image_id": image_id, "keypoints": points.ravel().tolist(), "bbox": box}
    return {**ann, **moved, "area": box[2] * box[3]}


def build_small_set(out: Path, rotate: bool) -> Path:
    """FreiHAND and OneHand10K images shrunk (and, with ``rotate``, turned by a random angle)
    and pasted on a piece of a COCO frame."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    images: list[dict] = []
    hands: list[dict] = []
    categories: list[dict] = []
    rng = np.random.default_rng(1 if rotate else 0)
    for name in ("hand_freihand", "hand_onehand10k"):
        source = load_annotations(SHARED / name / "annotations.json")
        categories = source["categories"]
        for image in source["images"]:
            pixels = cv2.imread(str(SHARED / name / "images" / image["file_name"]))
            for scale, turn in itertools.product(SMALL_SCALES, range(TURNS_PER_SCALE if rotate else 1)):
                angle = float(rng.uniform(-180.0, 180.0)) if rotate else 0.0
                canvas, affine = _paste(pixels, scale, angle, len(images), rng)
                image_id = len(images) + 1
                file_name = f"{name}_{image['id']}_{int(scale * 100)}_{turn}.png"
                cv2.imwrite(str(out / "images" / file_name), canvas)
                images.append(
                    {"id": image_id, "file_name": file_name, "width": canvas.shape[1], "height": canvas.shape[0]}
                )
                hands += [
                    _moved_hand(ann, affine, len(hands) + 1 + i, image_id)
                    for i, ann in enumerate(a for a in source["annotations"] if a["image_id"] == image["id"])
                ]
    how = "shrunk, turned at random" if rotate else "shrunk"
    annotations = _hand_file(
        {"categories": categories}, images, hands, f"FreiHAND + OneHand10K {how} ({SMALL_SCALES}) on COCO backgrounds"
    )
    (out / "annotations.json").write_text(json.dumps(annotations))
    return out


def _tip_first(ann: dict[str, Any]) -> None:
    points = np.asarray(ann["keypoints"], dtype=np.float64).reshape(21, 3)
    ann["keypoints"] = points[list(TIP_FIRST)].ravel().tolist()


def _keypoint_box(ann: dict[str, Any]) -> None:
    points = np.asarray(ann["keypoints"], dtype=np.float64).reshape(21, 3)
    labelled = points[points[:, 2] > 0, :2]
    low, high = labelled.min(axis=0), labelled.max(axis=0)
    ann["bbox"] = [float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])]
    ann["area"] = ann["bbox"][2] * ann["bbox"][3]


def derived_set(source: Path, out: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """``source``'s hands, each annotation passed through ``change``; the images are ``source``'s."""
    annotations = load_annotations(source / "annotations.json")
    for ann in annotations["annotations"]:
        change(ann)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "images").exists():
        (out / "images").symlink_to((source / "images").resolve(), target_is_directory=True)
    (out / "annotations.json").write_text(json.dumps(annotations))
    return out


def build_sets(out: Path) -> dict[str, Path]:
    sets = {
        "freihand": build_dev_set("hand_freihand", out / "freihand"),
        "onehand10k": build_dev_set("hand_onehand10k", out / "onehand10k"),
        "wholebody": build_wholebody_set(out / "wholebody"),
        "small": build_small_set(out / "small", rotate=False),
        "small_rotated": build_small_set(out / "small_rotated", rotate=True),
    }
    sets["small_tip_first"] = derived_set(sets["small"], out / "small_tip_first", _tip_first)
    return sets


def _pooled(parts: list[tuple[str, dict[str, Any], list[dict[str, Any]]]]) -> tuple[dict, list[dict]]:
    """One hand file and result list from several, ids made unique by the set's name."""
    pooled: dict[str, Any] = {"images": [], "annotations": [], "categories": parts[0][1]["categories"]}
    results: list[dict[str, Any]] = []
    for name, hand_file, set_results in parts:
        pooled["images"] += [{**image, "id": f"{name}/{image['id']}"} for image in hand_file["images"]]
        pooled["annotations"] += [
            {**ann, "id": f"{name}/{ann['id']}", "image_id": f"{name}/{ann['image_id']}"}
            for ann in hand_file["annotations"]
        ]
        results += [
            {**r, "annotation_id": f"{name}/{r['annotation_id']}", "image_id": f"{name}/{r['image_id']}"}
            for r in set_results
        ]
    return pooled, results


Row = tuple[str, dict[str, float], float]


def table(predict: KeypointsPredictor, sets: dict[str, Path]) -> list[Row]:
    """One row per set (PCK@0.2, EPE, ms per hand), then ``all``."""
    rows: list[Row] = []
    parts = []
    for name, folder in sets.items():
        annotations = load_annotations(folder / "annotations.json")
        start = time.perf_counter()
        results, _ = predict_topdown(predict, annotations, folder / "images")
        ms = 1000 * (time.perf_counter() - start) / max(len(annotations["annotations"]), 1)
        rows.append((name, evaluate_file(annotations, results), ms))
        if name != "small_tip_first":
            parts.append((name, annotations, results, ms))
    pooled, pooled_results = _pooled([(name, a, r) for name, a, r, _ in parts])
    hands = [len(a["annotations"]) for _, a, _, _ in parts]
    mean_ms = sum(ms * n for (_, _, _, ms), n in zip(parts, hands, strict=True)) / sum(hands)
    return rows + [("all", evaluate_file(pooled, pooled_results), mean_ms)]


def print_table(title: str, rows: list[Row]) -> None:
    print(f"\n{title}\n")
    print("| set | hands | PCK@0.2 | EPE px | ms/hand |")
    print("|---|---:|---:|---:|---:|")
    for name, metrics, ms in rows:
        print(f"| {name} | {metrics['num_hands']:.0f} | {metrics['PCK@0.2']:.3f} | {metrics['EPE']:.2f} | {ms:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp/posekit-bench-hands"), help="where the sets go")
    parser.add_argument("--hand-model", choices=("full", "lite"), default="full")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per model")
    args = parser.parse_args()
    options = EstimatorOptions(hand_model=args.hand_model, num_threads=args.threads)
    sets = build_sets(args.out)
    tight = {name: derived_set(path, args.out / "keypoint_boxes" / name, _keypoint_box) for name, path in sets.items()}
    print(f"hand_landmark_{args.hand_model}, {args.threads} thread(s)")
    with topdown_predictor("hand", options) as predict:
        print_table("boxes as the sources give them", table(predict, sets))
        print_table("boxes = extent of the labelled points (CMU Panoptic's MMPose files)", table(predict, tight))


if __name__ == "__main__":
    main()
