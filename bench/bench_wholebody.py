"""Whole-body benchmark: ms per person by stage, body only vs whole body, model invoke beside it;
hand PCK, face NME and COCO-WholeBody AP on the dev sets.

    python bench/bench_wholebody.py

Every figure in one table comes from the same run on the same machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posekit import EstimatorOptions, PoseEstimator  # noqa: E402
from posekit.eval.dataset import TOPDOWN_PREDICTORS, load_annotations, predict_annotated_images, predict_topdown  # noqa: E402
from posekit.eval.files import annotation_kind, evaluate_file  # noqa: E402
from posekit.models import model_path  # noqa: E402
from posekit.runtime import LiteRTRuntime  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
TEST_DATA = ROOT / "tests" / "data"
IMAGES = {"1 person": "000000000785.jpg", "5 people": "000000197388.jpg"}

CONFIGS = {
    "body (thunder + BlazePose full)": EstimatorOptions(),
    "whole body (default: BlazePose heavy)": EstimatorOptions(whole_body=True),
    "whole body, BlazePose full": EstimatorOptions(whole_body=True, landmark_model="full"),
    "whole body, BlazePose full, hands lite": EstimatorOptions(
        whole_body=True, landmark_model="full", hand_model="lite"
    ),
    "whole body, fastest": EstimatorOptions(
        whole_body=True, keypoint_model="lightning", landmark_model="full", hand_model="lite", hand_search=False
    ),
}


def invoke_ms(name: str, repeats: int = 30) -> float:
    runtime = LiteRTRuntime(model_path(name), 2)
    inputs = [np.zeros(shape, dtype) for shape, dtype in zip(runtime.input_shapes, runtime.input_dtypes, strict=True)]
    for _ in range(3):
        runtime.run(inputs)
    start = time.perf_counter()
    for _ in range(repeats):
        runtime.run(inputs)
    return 1000 * (time.perf_counter() - start) / repeats


def speed_table() -> None:
    stages = ["detect", "keypoints", "landmarks", "whole_body", "post"]
    print("ms per image (median of 10 after warm-up) and per person, by stage")
    print(f"{'config':38s} {'image':9s} " + " ".join(f"{s:>10s}" for s in stages) + f" {'total':>7s} {'/person':>8s}")
    for name, options in CONFIGS.items():
        with PoseEstimator(options) as estimator:
            for label, file_name in IMAGES.items():
                image = cv2.imread(str(TEST_DATA / "images" / file_name))
                for _ in range(2):
                    estimator(image)
                runs = []
                for _ in range(10):
                    timings: dict[str, float] = {}
                    start = time.perf_counter()
                    people = len(estimator(image, timings))
                    runs.append((1000 * (time.perf_counter() - start), timings))
                total, timings = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
                cells = " ".join(f"{timings.get(s, 0.0):10.1f}" for s in stages)
                print(f"{name:38s} {label:9s} {cells} {total:7.1f} {total / max(people, 1):8.1f}")
    print("\nmodel invoke alone, ms:")
    for model in (
        "pose_landmark_full.tflite",
        "movenet_singlepose_thunder.tflite",
        "movenet_singlepose_lightning.tflite",
        "hand_landmark_full.tflite",
        "hand_landmark_lite.tflite",
        "hand_recrop.tflite",
        "face_landmark.tflite",
        "palm_detection_full.tflite",
    ):
        print(f"  {model:40s} {invoke_ms(model):6.2f}")


def accuracy_table() -> None:
    print("\naccuracy on the dev sets (shared/data), posekit's evaluator")
    for source in ("coco_wholebody", "hand_freihand", "hand_onehand10k", "face_300w", "face_wflw"):
        folder = SHARED / source
        if not folder.exists():
            print(f"  {source}: not here")
            continue
        annotations = load_annotations(folder / "annotations.json")
        kind = annotation_kind(annotations)
        options = EstimatorOptions(whole_body=True)
        keys = {
            "wholebody": ["wholebody_AP", "body_AP", "foot_AP", "face_AP", "lefthand_AP", "righthand_AP"],
            "hand": ["PCK@0.2", "EPE"],
            "face": ["NME"],
        }[kind]
        if kind in ("hand", "face"):
            with TOPDOWN_PREDICTORS[kind](options) as predict:
                results, _ = predict_topdown(predict, annotations, folder / "images")
            metrics = evaluate_file(annotations, results)
            print(f"  {source:16s} " + "  ".join(f"{k} {metrics[k]:.3f}" for k in keys))
            continue
        # The whole-body file under each whole-body configuration of the speed table.
        for name, config in CONFIGS.items():
            if not config.whole_body:
                continue
            with PoseEstimator(config) as estimator:
                results, _ = predict_annotated_images(estimator, annotations, folder / "images", kind=kind)
            metrics = evaluate_file(annotations, results)
            print(f"  {source} {name:40s} " + "  ".join(f"{k} {metrics[k]:.3f}" for k in keys))


if __name__ == "__main__":
    speed_table()
    accuracy_table()
