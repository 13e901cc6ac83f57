"""Small builders of hand-made ``Poses`` (and label files) for tests that need no model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posekit.results import Keypoints, Poses
from posekit.schemas import BLAZEPOSE33, COCO17, CONVERSIONS, HAND21, HAND21_TIP_FIRST, KeypointSchema

# A person standing and facing the camera, in a unit box (x right, y down). The person's left
# side is on the image's right.
UNIT_PERSON: dict[str, tuple[float, float]] = {
    "nose": (0.50, 0.10),
    "left_eye_inner": (0.52, 0.08),
    "left_eye": (0.53, 0.08),
    "left_eye_outer": (0.54, 0.08),
    "right_eye_inner": (0.48, 0.08),
    "right_eye": (0.47, 0.08),
    "right_eye_outer": (0.46, 0.08),
    "left_ear": (0.56, 0.10),
    "right_ear": (0.44, 0.10),
    "mouth_left": (0.52, 0.13),
    "mouth_right": (0.48, 0.13),
    "left_shoulder": (0.65, 0.25),
    "right_shoulder": (0.35, 0.25),
    "left_elbow": (0.70, 0.40),
    "right_elbow": (0.30, 0.40),
    "left_wrist": (0.72, 0.55),
    "right_wrist": (0.28, 0.55),
    "left_pinky": (0.74, 0.58),
    "right_pinky": (0.26, 0.58),
    "left_index": (0.73, 0.59),
    "right_index": (0.27, 0.59),
    "left_thumb": (0.71, 0.58),
    "right_thumb": (0.29, 0.58),
    "left_hip": (0.60, 0.55),
    "right_hip": (0.40, 0.55),
    "left_knee": (0.60, 0.75),
    "right_knee": (0.40, 0.75),
    "left_ankle": (0.60, 0.93),
    "right_ankle": (0.40, 0.93),
    "left_heel": (0.58, 0.96),
    "right_heel": (0.42, 0.96),
    "left_foot_index": (0.66, 0.99),
    "right_foot_index": (0.34, 0.99),
}


def person_xy(schema: KeypointSchema, bbox_xywh: tuple[float, float, float, float]) -> np.ndarray:
    """``(k, 2)`` pixel positions of :data:`UNIT_PERSON` placed in ``bbox_xywh``."""
    x, y, w, h = bbox_xywh
    unit = np.array([UNIT_PERSON[name] for name in schema.keypoint_names], dtype=np.float32)
    return unit * np.array([w, h], dtype=np.float32) + np.array([x, y], dtype=np.float32)


def make_poses(
    bboxes_xywh: list[tuple[float, float, float, float]],
    *,
    schemas: tuple[KeypointSchema, ...] = (COCO17,),
    image_size: tuple[int, int] = (480, 640),
    confidence: float = 0.9,
    scores: list[float] | None = None,
    track_ids: list[int] | None = None,
    world: bool = False,
) -> Poses:
    """People standing in the given boxes, every point at ``confidence``, in each of ``schemas``."""
    keypoints = {}
    for schema in schemas:
        xy = np.stack([person_xy(schema, box) for box in bboxes_xywh]) if bboxes_xywh else np.zeros((0, 0, 2))
        keypoints[schema.name] = Keypoints(schema, xy, np.full(xy.shape[:2], confidence, np.float32))
    n = len(bboxes_xywh)
    world_xyz = None
    if world:
        world_xyz = np.random.default_rng(0).uniform(-0.5, 0.5, (n, BLAZEPOSE33.num_keypoints, 3))
    return Poses(
        bbox_xywh=np.array(bboxes_xywh, dtype=np.float32).reshape(n, 4),
        score=np.array(scores if scores is not None else [0.9 - 0.1 * i for i in range(n)], dtype=np.float32),
        keypoints=keypoints,
        image_size=image_size,
        world_xyz=world_xyz,
        track_id=None if track_ids is None else np.array(track_ids),
    )


def with_points(poses: Poses, schema: KeypointSchema, xy: np.ndarray, confidence: np.ndarray) -> Poses:
    """``poses`` with one schema's points replaced (the others kept)."""
    keypoints = dict(poses.keypoints)
    keypoints[schema.name] = Keypoints(schema, xy, confidence)
    return Poses(poses.bbox_xywh, poses.score, keypoints, poses.image_size, poses.world_xyz, poses.track_id)


# --- Synthetic labelled sequences from real labelled images ---------------------------------------


def _sequence_annotations(frames: list[list[dict]], size_hw: tuple[int, int]) -> dict:
    """A COCO keypoint file for a sequence: one image per frame (``frame_index``), people with ``track_id``."""
    images, annotations = [], []
    for index, people in enumerate(frames):
        images.append(
            {
                "id": index + 1,
                "file_name": f"{index:06d}.png",
                "frame_index": index,
                "height": size_hw[0],
                "width": size_hw[1],
            }
        )
        for person in people:
            keypoints = np.asarray(person["keypoints"], float).reshape(17, 3)
            visible = keypoints[:, 2] > 0
            if visible.sum() < 3:
                continue
            x0, y0 = keypoints[visible, :2].min(axis=0)
            x1, y1 = keypoints[visible, :2].max(axis=0)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": index + 1,
                    "category_id": 1,
                    "iscrowd": 0,
                    "track_id": person["track_id"],
                    "keypoints": keypoints.reshape(-1).tolist(),
                    "num_keypoints": int(visible.sum()),
                    "bbox": person["bbox"],
                    "area": person["area"],
                }
            )
    return {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "person"}]}


def moving_camera_sequence(image_bgr: np.ndarray, people: list[dict], n_frames: int = 12):
    """The labelled image seen by a camera that pans and zooms smoothly: frames and their labels.

    Each person keeps ``track_id`` = their position in ``people`` (COCO annotations). Points that
    leave the frame become unlabelled.
    """
    import cv2

    height, width = image_bgr.shape[:2]
    frames, labels = [], []
    for t in range(n_frames):
        phase = t / max(n_frames - 1, 1)
        scale = 1.0 + 0.15 * phase
        shift = np.array([-30.0 * phase, -12.0 * phase])
        affine = np.array(
            [[scale, 0, (1 - scale) * width / 2 + shift[0]], [0, scale, (1 - scale) * height / 2 + shift[1]]]
        )
        frames.append(
            cv2.warpAffine(image_bgr, affine, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        )
        frame_people = []
        for track_id, person in enumerate(people, start=1):
            keypoints = np.array(person["keypoints"], float).reshape(17, 3)
            xy = keypoints[:, :2] @ affine[:, :2].T + affine[:, 2]
            inside = (xy >= 0).all(axis=1) & (xy[:, 0] < width) & (xy[:, 1] < height)
            keypoints = np.concatenate([xy, np.where(inside, keypoints[:, 2], 0)[:, None]], axis=1)
            x, y, w, h = person["bbox"]
            bbox = [x * scale + affine[0, 2], y * scale + affine[1, 2], w * scale, h * scale]
            frame_people.append(
                {"track_id": track_id, "keypoints": keypoints, "bbox": bbox, "area": person["area"] * scale**2}
            )
        labels.append(frame_people)
    return frames, _sequence_annotations(labels, (height, width))


@dataclass
class Cutout:
    """One labelled person cut out of an image: pixels, which of them are the person, points."""

    image_bgr: np.ndarray
    mask: np.ndarray  # (h, w) bool: drawn (and covering whoever is behind)
    keypoints: np.ndarray  # (17, 3) COCO keypoints in the cut-out's pixels
    area: float


def rectangle_cutouts(image_bgr: np.ndarray, people: list[dict]) -> list[Cutout]:
    """Each person's box, padded a little, background and all."""
    cutouts = []
    for person in people:
        x, y, w, h = person["bbox"]
        pad_x, pad_y = 0.1 * w, 0.05 * h
        x0, y0 = int(max(x - pad_x, 0)), int(max(y - pad_y, 0))
        x1 = int(min(x + w + pad_x, image_bgr.shape[1]))
        y1 = int(min(y + h + pad_y, image_bgr.shape[0]))
        keypoints = np.array(person["keypoints"], float).reshape(17, 3)
        keypoints[:, :2] -= [x0, y0]
        crop = image_bgr[y0:y1, x0:x1]
        cutouts.append(Cutout(crop, np.ones(crop.shape[:2], bool), keypoints, float(person["area"])))
    return cutouts


def silhouette_cutout(image_bgr: np.ndarray, person: dict, height_px: float) -> Cutout:
    """A person cut along their COCO segmentation polygons, scaled to ``height_px`` tall (box)."""
    import cv2

    x, y, w, h = person["bbox"]
    scale = height_px / h
    x0, y0 = int(max(x - 2, 0)), int(max(y - 2, 0))
    x1, y1 = int(min(x + w + 2, image_bgr.shape[1])), int(min(y + h + 2, image_bgr.shape[0]))
    mask = np.zeros(image_bgr.shape[:2], np.uint8)
    for polygon in person["segmentation"]:
        cv2.fillPoly(mask, [np.round(np.array(polygon).reshape(-1, 2)).astype(np.int32)], 1)
    size = (max(int(round((x1 - x0) * scale)), 1), max(int(round((y1 - y0) * scale)), 1))
    crop = cv2.resize(image_bgr[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
    crop_mask = cv2.resize(mask[y0:y1, x0:x1], size, interpolation=cv2.INTER_NEAREST).astype(bool)
    keypoints = np.array(person["keypoints"], float).reshape(17, 3)
    keypoints[:, :2] = (keypoints[:, :2] - [x0, y0]) * scale
    return Cutout(crop, crop_mask, keypoints, float(person["area"]) * scale**2)


def blurred_background(image_bgr: np.ndarray, canvas_hw: tuple[int, int]) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(cv2.resize(image_bgr, (canvas_hw[1], canvas_hw[0])), (0, 0), 25)


def pasted_people_sequence(
    image_bgr: np.ndarray, people: list[dict], paths, n_frames: int, canvas_hw: tuple[int, int] = (400, 720)
):
    """People's boxes cut from a labelled image and moved over a blurred background along ``paths``
    (see :func:`composited_sequence`)."""
    return composited_sequence(
        rectangle_cutouts(image_bgr, people), paths, n_frames, blurred_background(image_bgr, canvas_hw)
    )


def composited_sequence(cutouts: list[Cutout], paths, n_frames: int, background_bgr: np.ndarray):
    """Cut-out people moved over ``background_bgr`` along ``paths``: frames and their labels.

    ``paths[i](t)`` gives person i's top-left corner at frame t, or None when they are away.
    Later people are drawn over earlier ones; points of a person covered by someone drawn over
    them, or outside the frame, are unlabelled. ``track_id`` = position in ``cutouts``, from 1.
    """
    height, width = background_bgr.shape[:2]
    frames, labels = [], []
    for t in range(n_frames):
        canvas = background_bgr.copy()
        cover = np.zeros((height, width), np.int32)  # which person (track id) each pixel shows
        placed = []
        for track_id, (cutout, path) in enumerate(zip(cutouts, paths, strict=True), start=1):
            corner = path(t)
            if corner is None:
                continue
            cx, cy = int(round(corner[0])), int(round(corner[1]))
            ch, cw = cutout.mask.shape
            sx0, sy0 = max(0, -cx), max(0, -cy)
            sx1, sy1 = min(cw, width - cx), min(ch, height - cy)
            if sx1 <= sx0 or sy1 <= sy0:
                continue
            mask = cutout.mask[sy0:sy1, sx0:sx1]
            target = (slice(cy + sy0, cy + sy1), slice(cx + sx0, cx + sx1))
            canvas[target][mask] = cutout.image_bgr[sy0:sy1, sx0:sx1][mask]
            cover[target][mask] = track_id
            placed.append((track_id, cx, cy, cw, ch, cutout))
        frame_people = []
        for track_id, cx, cy, cw, ch, cutout in placed:
            xy = cutout.keypoints[:, :2] + [cx, cy]
            inside = (xy >= 0).all(axis=1) & (xy[:, 0] < width) & (xy[:, 1] < height)
            pixel = np.clip(np.round(xy).astype(int), 0, [width - 1, height - 1])
            shown = cover[pixel[:, 1], pixel[:, 0]]
            # A point on someone drawn later is covered; one on the background or on this person
            # (the polygon can miss a wrist by a pixel) stays labelled.
            covered = shown > track_id
            visible = (cutout.keypoints[:, 2] > 0) & inside & ~covered
            labelled = np.concatenate([xy, np.where(visible, cutout.keypoints[:, 2], 0)[:, None]], axis=1)
            frame_people.append(
                {"track_id": track_id, "keypoints": labelled, "bbox": [cx, cy, cw, ch], "area": cutout.area}
            )
        frames.append(canvas)
        labels.append(frame_people)
    return frames, _sequence_annotations(labels, (height, width))


# Four people of tests/data/annotations/coco.json cut along their outlines: (annotation id,
# height in px). Walking across each other, they stand in for a clip of people walking.
WALKERS = [(442619, 250), (460541, 240), (437295, 260), (531914, 230)]


def walkers_sequence(
    annotations: dict,
    images_dir,
    speed: float,
    starts=(20, 470, 120, 380),
    ys=(150, 170, 200, 225),
    directions=(1, -1, 1, -1),
    order=(0, 1, 2, 3),
    n_frames: int = 41,
):
    """:data:`WALKERS` (in ``order``, later ones nearer) walking at ``speed`` px per frame from
    ``starts`` (x) at heights ``ys``, ``directions`` +1 right, -1 left, on a 640x480 blurred
    background: frames and labels (``track_id`` = position in ``order``, from 1)."""
    import cv2

    by_id = {a["id"]: a for a in annotations["annotations"]}
    names = {i["id"]: i["file_name"] for i in annotations["images"]}
    cutouts = []
    for k in order:
        person = by_id[WALKERS[k][0]]
        image = cv2.imread(str(images_dir / names[person["image_id"]]))
        cutouts.append(silhouette_cutout(image, person, WALKERS[k][1]))
    background = blurred_background(cv2.imread(str(images_dir / "000000000785.jpg")), (480, 640))
    paths = [(lambda t, x=starts[j], y=ys[j], d=directions[j]: (x + d * speed * t, y)) for j in range(len(order))]
    return composited_sequence(cutouts, paths, n_frames, background)


# Point i of a tip-first hand (RHD as MMPose ships it) is point TIP_FIRST[i] of a base-first one.
TIP_FIRST = [i for ((i, _),) in CONVERSIONS[(HAND21.name, HAND21_TIP_FIRST.name)].sources]


def tip_first(data: dict, *, nested: bool = False) -> dict:
    """A copy of the hand file ``data`` with each finger listed tip first (``nested``: points as
    ``[[x, y, v], ...]``, as MMPose's RHD files hold them)."""
    out = json.loads(json.dumps(data))
    for ann in out["annotations"]:
        points = np.array(ann["keypoints"], float).reshape(21, 3)[TIP_FIRST]
        ann["keypoints"] = points.tolist() if nested else points.ravel().tolist()
    return out


def crowd_mosaic(
    sources: list[tuple[dict, Path]], grid: int, size_wh: tuple[int, int] = (1920, 1080), order_seed: int = 0
) -> tuple[np.ndarray, dict]:
    """A labelled crowd: labelled images (``(annotations, image folder)``) tiled ``grid x grid``
    into one picture, each scaled to fit its cell and centred, labels mapped with it. Cells take
    the images in a seeded order, repeating them when there are fewer images than cells."""
    import cv2

    cells = [(annotations, folder, image) for annotations, folder in sources for image in annotations["images"]]
    np.random.default_rng(order_seed).shuffle(cells)
    width, height = size_wh
    cell_w, cell_h = width // grid, height // grid
    canvas = np.full((height, width, 3), 114, np.uint8)
    labels: list[dict] = []
    for k in range(grid * grid):
        annotations, folder, info = cells[k % len(cells)]
        picture = cv2.imread(str(folder / info["file_name"]))
        scale = min(cell_w / picture.shape[1], cell_h / picture.shape[0])
        new_w, new_h = int(picture.shape[1] * scale), int(picture.shape[0] * scale)
        x0 = (k % grid) * cell_w + (cell_w - new_w) // 2
        y0 = (k // grid) * cell_h + (cell_h - new_h) // 2
        canvas[y0 : y0 + new_h, x0 : x0 + new_w] = cv2.resize(picture, (new_w, new_h), interpolation=cv2.INTER_AREA)
        for label in annotations["annotations"]:
            if label["image_id"] != info["id"] or label.get("num_keypoints", 1) == 0:
                continue
            points = np.array(label["keypoints"], float).reshape(-1, 3)
            seen = points[:, 2] > 0
            points[seen, :2] = points[seen, :2] * scale + [x0, y0]
            x, y, w, h = label["bbox"]
            labels.append(
                {
                    "id": len(labels) + 1,
                    "image_id": 1,
                    "category_id": 1,
                    "keypoints": points.reshape(-1).tolist(),
                    "num_keypoints": int(seen.sum()),
                    "bbox": [x * scale + x0, y * scale + y0, w * scale, h * scale],
                    "area": label["area"] * scale * scale,
                    "iscrowd": 0,
                }
            )
    image_info = {"id": 1, "file_name": "mosaic.jpg", "width": width, "height": height}
    return canvas, {"images": [image_info], "annotations": labels, "categories": [{"id": 1, "name": "person"}]}
