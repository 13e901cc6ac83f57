"""Running posekit over a labelled file: whole images for people, annotation boxes for hands and faces.

People files (COCO body, COCO-WholeBody) are predicted on whole images by the
:class:`~posekit.image.PoseEstimator`; its :class:`~posekit.results.Poses` become results in
the file's layout (:mod:`posekit.io.formats`). Hand and face files are evaluated *top-down*, as
MMPose evaluates FreiHAND, OneHand10K, 300W and WFLW: a :data:`KeypointsPredictor` gets each
image with the boxes of its annotations and returns one set of points per box.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from posekit.errors import InputError, UnreadableInputError, UsageError
from posekit.eval.landmarks import hand_file_schema
from posekit.image import EstimatorOptions, PoseEstimator
from posekit.io.formats import keypoints_to_results, poses_to_coco, poses_to_wholebody_results
from posekit.io.images import DEFAULT_MAX_PIXELS, read_image
from posekit.landmarks.face import FaceMeshLandmarker
from posekit.landmarks.hand import HandLandmarker
from posekit.landmarks.wholebody import landmarks_to_keypoints
from posekit.models import model_path
from posekit.results import Keypoints
from posekit.runtime import LiteRTRuntime
from posekit.schemas import FACE68, FACE468, HAND21

KeypointsPredictor = Callable[[np.ndarray, np.ndarray], Keypoints]
"""``predict(image_bgr, boxes_xywh (m, 4)) -> Keypoints`` of ``m`` objects (hands: ``hand21``,
faces: ``face68``), one per box, in image pixels; a point not found has confidence 0."""

PredictorFactory = Callable[[EstimatorOptions], AbstractContextManager[KeypointsPredictor]]
"""Builds a top-down predictor from the estimator options; used as a context manager so the
models it loads are released afterwards."""


@contextmanager
def _hand_predictor(options: EstimatorOptions) -> Iterator[KeypointsPredictor]:
    hands = HandLandmarker(LiteRTRuntime(model_path(f"hand_landmark_{options.hand_model}.tflite"), options.num_threads))

    def predict(image_bgr: np.ndarray, boxes_xywh: np.ndarray) -> Keypoints:
        image_rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        return landmarks_to_keypoints([hands.in_box(image_rgb, box) for box in boxes_xywh], HAND21)

    yield predict


@contextmanager
def _face_predictor(options: EstimatorOptions) -> Iterator[KeypointsPredictor]:
    faces = FaceMeshLandmarker(LiteRTRuntime(model_path("face_landmark.tflite"), options.num_threads))

    def predict(image_bgr: np.ndarray, boxes_xywh: np.ndarray) -> Keypoints:
        image_rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        return landmarks_to_keypoints([faces.in_box(image_rgb, box) for box in boxes_xywh], FACE468).to(FACE68)

    yield predict


# Top-down predictors for hand-only and face-only files, by annotation kind: the hand model
# (orientation found by trying four, see HandLandmarker.in_box) and the face mesh on each
# annotation's box, as MMPose evaluates FreiHAND, OneHand10K and 300W.
TOPDOWN_PREDICTORS: dict[str, PredictorFactory] = {"hand": _hand_predictor, "face": _face_predictor}


def load_annotations(path: Path) -> dict[str, Any]:
    """Reads a COCO keypoint annotation file, with a clear error for a bad one."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableInputError(str(path), f"cannot read annotation file: {exc}") from exc
    if not isinstance(data, dict) or not {"images", "annotations"} <= data.keys():
        raise UnreadableInputError(str(path), "not a COCO annotation file (needs 'images' and 'annotations')")
    data.setdefault("categories", [{"id": 1, "name": "person"}])
    _check_keypoint_lists(data, str(path))
    return data


# Whole-body annotations carry their parts beside ``keypoints``: field -> points in the part.
_PART_FIELDS = {"foot_kpts": 6, "face_kpts": 68, "lefthand_kpts": 21, "righthand_kpts": 21}


def _check_keypoint_lists(data: dict[str, Any], source: str) -> None:
    """Every annotation's keypoint lists hold x, y, v for each of its category's points."""
    points_of = {c.get("id"): len(c.get("keypoints") or []) for c in data["categories"] if isinstance(c, dict)}
    for number, annotation in enumerate(data["annotations"]):
        if not isinstance(annotation, dict):
            raise UnreadableInputError(source, f"annotation #{number} is not an object")
        name = f"annotation {annotation.get('id', '#' + str(number))} (image {annotation.get('image_id')})"
        expected = points_of.get(annotation.get("category_id")) or None
        for field, part_points in (("keypoints", expected), *_PART_FIELDS.items()):
            values = annotation.get(field)
            if values is None:
                continue
            if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
                raise UnreadableInputError(source, f"{name}: '{field}' is not a list of numbers")
            if len(values) % 3 or (part_points is not None and len(values) != 3 * part_points):
                wanted = f"{3 * part_points} ({part_points} x, y, v)" if part_points else "a multiple of 3 (x, y, v)"
                raise UnreadableInputError(source, f"{name}: '{field}' has {len(values)} values, expected {wanted}")


def topdown_predictor(kind: str, options: EstimatorOptions) -> AbstractContextManager[KeypointsPredictor]:
    """The registered top-down predictor for ``kind``, or a :class:`UsageError` saying there is none."""
    factory = TOPDOWN_PREDICTORS.get(kind)
    if factory is None:
        raise UsageError(
            f"posekit has no {kind} keypoint model yet, so it cannot evaluate {kind}-only files; "
            "body (COCO) and whole-body (COCO-WholeBody) files work"
        )
    return factory(options)


def predict_annotated_images(
    estimator: PoseEstimator,
    annotations: dict[str, Any],
    images_dir: Path,
    on_image: Callable[[], None] | None = None,
    *,
    kind: str = "body",
) -> tuple[list[dict[str, Any]], list[InputError]]:
    """Results for every image of a people file (``kind`` ``body`` or ``wholebody``), keyed by the
    file's own image ids: COCO-17 results, or COCO-WholeBody results in the file's fields."""
    if kind not in ("body", "wholebody"):
        raise UsageError(f"whole-image prediction is for body and whole-body files, not {kind!r}")
    category_id = int(annotations["categories"][0]["id"]) if annotations["categories"] else 1
    results: list[dict[str, Any]] = []
    failures: list[InputError] = []
    for image_info in annotations["images"]:
        path = Path(images_dir) / image_info["file_name"]
        try:
            image = read_image(path, max_pixels=estimator.options.max_image_pixels)
        except InputError as exc:
            failures.append(exc)
        else:
            poses = estimator(image)
            if kind == "wholebody":
                results.extend(poses_to_wholebody_results(poses, image_info["id"], category_id))
            else:
                results.extend(poses_to_coco(poses, image_info["id"], category_id))
        if on_image is not None:
            on_image()
    return results, failures


def predict_topdown(
    predict: KeypointsPredictor,
    annotations: dict[str, Any],
    images_dir: Path,
    on_image: Callable[[], None] | None = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[list[dict[str, Any]], list[InputError]]:
    """Top-down results for a hand or face file: ``predict`` runs on each image with its
    annotations' boxes; every result records the ``annotation_id`` and ``bbox`` it answers.
    Hand results are in the file's finger order (:func:`hand_file_schema`)."""
    category_id = int(annotations["categories"][0]["id"]) if annotations["categories"] else 1
    k = len(annotations["categories"][0].get("keypoints", [])) if annotations["categories"] else 0
    hand_layout = hand_file_schema(annotations) if k == 21 else None
    by_image: dict[Any, list[dict[str, Any]]] = {}
    for ann in annotations["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    results: list[dict[str, Any]] = []
    failures: list[InputError] = []
    for image_info in annotations["images"]:
        anns = by_image.get(image_info["id"], [])
        if anns:
            path = Path(images_dir) / image_info["file_name"]
            try:
                image = read_image(path, max_pixels=max_pixels)
            except InputError as exc:
                failures.append(exc)
            else:
                boxes = np.array([a["bbox"] for a in anns], dtype=np.float32).reshape(-1, 4)
                points = predict(image, boxes)
                if hand_layout is not None and points.schema == HAND21:
                    points = points.to(hand_layout)
                if len(points) != len(anns):
                    raise UsageError(f"the predictor returned {len(points)} results for {len(anns)} boxes")
                allowed = (k, 68) if k == 98 else (k,)  # WFLW is also scored on its 68-point subset
                if k and points.schema.num_keypoints not in allowed:
                    raise UsageError(f"the predictor returned {points.schema.name} points for a {k}-point file")
                ids = [a["id"] for a in anns]
                results += keypoints_to_results(
                    points, image_info["id"], category_id, annotation_ids=ids, boxes_xywh=boxes
                )
        if on_image is not None:
            on_image()
    return results, failures
