"""Running posekit over a COCO keypoint annotation file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from posekit.errors import InputError, UnreadableInputError
from posekit.io.images import read_image
from posekit.pipeline import PoseEstimator


def load_annotations(path: Path) -> dict[str, Any]:
    """Reads a COCO keypoint annotation file, with a clear error for a bad one."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableInputError(str(path), f"cannot read annotation file: {exc}") from exc
    if not isinstance(data, dict) or not {"images", "annotations"} <= data.keys():
        raise UnreadableInputError(str(path), "not a COCO annotation file (needs 'images' and 'annotations')")
    data.setdefault("categories", [{"id": 1, "name": "person"}])
    return data


def predict_annotated_images(
    estimator: PoseEstimator,
    annotations: dict[str, Any],
    images_dir: Path,
    on_image: Callable[[], None] | None = None,
) -> tuple[list[dict[str, Any]], list[InputError]]:
    """COCO results for every image of ``annotations``, keyed by the file's own image ids."""
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
            results.extend(estimator(image).to_coco(image_info["id"], category_id))
        if on_image is not None:
            on_image()
    return results, failures
