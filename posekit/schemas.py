"""Keypoint schemas as data: names, skeleton edges, OKS sigmas and conversions.

Every layout posekit reads or writes is declared here once. A :class:`KeypointSchema`
travels with keypoint arrays, so nothing ever guesses a layout from a point count.

Conversions between schemas are data too: each target point is a weighted mean of
source points (:class:`Conversion`). A target point whose sources are missing gets
confidence 0, never a fake ``(0, 0)`` location with a score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

__all__ = [
    "KeypointSchema",
    "Conversion",
    "BLAZEPOSE33",
    "COCO17",
    "BODY25",
    "SCHEMAS",
    "CONVERSIONS",
    "convert",
    "BlazePoseLandmark",
    "Coco17Keypoint",
]


@dataclass(frozen=True)
class KeypointSchema:
    """A named keypoint layout.

    ``edges`` are 0-based index pairs used for drawing. ``sigmas`` are the COCO OKS
    per-keypoint constants (``None`` when the layout is not scored by OKS).
    """

    name: str
    keypoint_names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    sigmas: np.ndarray | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        k = len(self.keypoint_names)
        for a, b in self.edges:
            if not (0 <= a < k and 0 <= b < k):
                raise ValueError(f"schema {self.name}: edge ({a}, {b}) out of range for {k} keypoints")
        if self.sigmas is not None and self.sigmas.shape != (k,):
            raise ValueError(f"schema {self.name}: sigmas shape {self.sigmas.shape} != ({k},)")

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoint_names)

    def oks_sigmas(self) -> np.ndarray:
        """The OKS sigmas; raises for a layout COCO does not score."""
        if self.sigmas is None:
            raise ValueError(f"schema {self.name} has no OKS sigmas")
        return self.sigmas

    def index(self, keypoint_name: str) -> int:
        return self.keypoint_names.index(keypoint_name)

    def __repr__(self) -> str:
        return f"KeypointSchema({self.name!r}, {self.num_keypoints} keypoints)"


def _edges(names: tuple[str, ...], pairs: list[tuple[str, str]]) -> tuple[tuple[int, int], ...]:
    return tuple((names.index(a), names.index(b)) for a, b in pairs)


# --- BlazePose 33 (MediaPipe Pose landmark order) --------------------------------------


class BlazePoseLandmark(IntEnum):
    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


_BP_NAMES = tuple(m.name.lower() for m in BlazePoseLandmark)
BLAZEPOSE33 = KeypointSchema(
    name="blazepose33",
    keypoint_names=_BP_NAMES,
    edges=_edges(
        _BP_NAMES,
        [
            ("nose", "left_eye_inner"),
            ("left_eye_inner", "left_eye"),
            ("left_eye", "left_eye_outer"),
            ("left_eye_outer", "left_ear"),
            ("nose", "right_eye_inner"),
            ("right_eye_inner", "right_eye"),
            ("right_eye", "right_eye_outer"),
            ("right_eye_outer", "right_ear"),
            ("mouth_left", "mouth_right"),
            ("left_shoulder", "right_shoulder"),
            ("left_shoulder", "left_elbow"),
            ("left_elbow", "left_wrist"),
            ("left_wrist", "left_pinky"),
            ("left_wrist", "left_index"),
            ("left_wrist", "left_thumb"),
            ("left_pinky", "left_index"),
            ("right_shoulder", "right_elbow"),
            ("right_elbow", "right_wrist"),
            ("right_wrist", "right_pinky"),
            ("right_wrist", "right_index"),
            ("right_wrist", "right_thumb"),
            ("right_pinky", "right_index"),
            ("left_shoulder", "left_hip"),
            ("right_shoulder", "right_hip"),
            ("left_hip", "right_hip"),
            ("left_hip", "left_knee"),
            ("left_knee", "left_ankle"),
            ("left_ankle", "left_heel"),
            ("left_heel", "left_foot_index"),
            ("left_ankle", "left_foot_index"),
            ("right_hip", "right_knee"),
            ("right_knee", "right_ankle"),
            ("right_ankle", "right_heel"),
            ("right_heel", "right_foot_index"),
            ("right_ankle", "right_foot_index"),
        ],
    ),
)

# --- COCO 17 -------------------------------------------------------------------------------


class Coco17Keypoint(IntEnum):
    NOSE = 0
    LEFT_EYE = 1
    RIGHT_EYE = 2
    LEFT_EAR = 3
    RIGHT_EAR = 4
    LEFT_SHOULDER = 5
    RIGHT_SHOULDER = 6
    LEFT_ELBOW = 7
    RIGHT_ELBOW = 8
    LEFT_WRIST = 9
    RIGHT_WRIST = 10
    LEFT_HIP = 11
    RIGHT_HIP = 12
    LEFT_KNEE = 13
    RIGHT_KNEE = 14
    LEFT_ANKLE = 15
    RIGHT_ANKLE = 16


_COCO_NAMES = tuple(m.name.lower() for m in Coco17Keypoint)
COCO17 = KeypointSchema(
    name="coco17",
    keypoint_names=_COCO_NAMES,
    # The COCO person category's skeleton (converted to 0-based).
    edges=_edges(
        _COCO_NAMES,
        [
            ("left_ankle", "left_knee"),
            ("left_knee", "left_hip"),
            ("right_ankle", "right_knee"),
            ("right_knee", "right_hip"),
            ("left_hip", "right_hip"),
            ("left_shoulder", "left_hip"),
            ("right_shoulder", "right_hip"),
            ("left_shoulder", "right_shoulder"),
            ("left_shoulder", "left_elbow"),
            ("right_shoulder", "right_elbow"),
            ("left_elbow", "left_wrist"),
            ("right_elbow", "right_wrist"),
            ("left_eye", "right_eye"),
            ("nose", "left_eye"),
            ("nose", "right_eye"),
            ("left_eye", "left_ear"),
            ("right_eye", "right_ear"),
            ("left_ear", "left_shoulder"),
            ("right_ear", "right_shoulder"),
        ],
    ),
    sigmas=np.array(
        [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89]
    )
    / 10.0,
)

# --- OpenPose BODY_25 ---------------------------------------------------------------------

_BODY25_NAMES = (
    "nose",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "mid_hip",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_eye",
    "left_eye",
    "right_ear",
    "left_ear",
    "left_big_toe",
    "left_small_toe",
    "left_heel",
    "right_big_toe",
    "right_small_toe",
    "right_heel",
)
BODY25 = KeypointSchema(
    name="body25",
    keypoint_names=_BODY25_NAMES,
    edges=_edges(
        _BODY25_NAMES,
        [
            ("neck", "nose"),
            ("neck", "right_shoulder"),
            ("right_shoulder", "right_elbow"),
            ("right_elbow", "right_wrist"),
            ("neck", "left_shoulder"),
            ("left_shoulder", "left_elbow"),
            ("left_elbow", "left_wrist"),
            ("neck", "mid_hip"),
            ("mid_hip", "right_hip"),
            ("right_hip", "right_knee"),
            ("right_knee", "right_ankle"),
            ("mid_hip", "left_hip"),
            ("left_hip", "left_knee"),
            ("left_knee", "left_ankle"),
            ("nose", "right_eye"),
            ("right_eye", "right_ear"),
            ("nose", "left_eye"),
            ("left_eye", "left_ear"),
            ("left_ankle", "left_big_toe"),
            ("left_big_toe", "left_small_toe"),
            ("left_ankle", "left_heel"),
            ("right_ankle", "right_big_toe"),
            ("right_big_toe", "right_small_toe"),
            ("right_ankle", "right_heel"),
        ],
    ),
)

SCHEMAS: dict[str, KeypointSchema] = {s.name: s for s in (BLAZEPOSE33, COCO17, BODY25)}


# --- Conversions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    """How to build each target keypoint from source keypoints.

    ``sources[i]`` is a tuple of ``(source_index, weight)`` pairs for target point ``i``;
    an empty tuple means the source schema has no such point. The target location is the
    weighted mean; its confidence is the minimum of the contributing confidences (a
    derived point is only as sure as its least sure input).
    """

    source: KeypointSchema
    target: KeypointSchema
    sources: tuple[tuple[tuple[int, float], ...], ...]

    def __post_init__(self) -> None:
        if len(self.sources) != self.target.num_keypoints:
            raise ValueError(f"conversion {self.source.name}->{self.target.name}: wrong number of targets")


def _by_name(source: KeypointSchema, target: KeypointSchema, recipes: dict[str, list[tuple[str, float]]]) -> Conversion:
    """Builds a conversion: same-named points copy, ``recipes`` override by target name."""
    sources: list[tuple[tuple[int, float], ...]] = []
    for name in target.keypoint_names:
        if name in recipes:
            sources.append(tuple((source.index(src), w) for src, w in recipes[name]))
        elif name in source.keypoint_names:
            sources.append(((source.index(name), 1.0),))
        else:
            sources.append(())
    return Conversion(source, target, tuple(sources))


# BODY_25's neck and mid-hip are the midpoints of the shoulders and of the hips (as OpenPose
# labels them). Feet: big toe = BlazePose foot index, heel = heel. BlazePose has no small toe;
# it is estimated as the point 2/3 of the way from heel to foot index (the fifth metatarsal head
# lies roughly there along the foot's long axis, offset sideways, which a 2D model cannot see).
_FEET = {
    "left_big_toe": [("left_foot_index", 1.0)],
    "left_heel": [("left_heel", 1.0)],
    "left_small_toe": [("left_heel", 1 / 3), ("left_foot_index", 2 / 3)],
    "right_big_toe": [("right_foot_index", 1.0)],
    "right_heel": [("right_heel", 1.0)],
    "right_small_toe": [("right_heel", 1 / 3), ("right_foot_index", 2 / 3)],
}
_NECK_MIDHIP = {
    "neck": [("left_shoulder", 0.5), ("right_shoulder", 0.5)],
    "mid_hip": [("left_hip", 0.5), ("right_hip", 0.5)],
}

CONVERSIONS: dict[tuple[str, str], Conversion] = {
    (c.source.name, c.target.name): c
    for c in (
        _by_name(BLAZEPOSE33, COCO17, {}),
        _by_name(BLAZEPOSE33, BODY25, {**_NECK_MIDHIP, **_FEET}),
        _by_name(COCO17, BODY25, _NECK_MIDHIP),
    )
}


def convert(xy: np.ndarray, confidence: np.ndarray, conversion: Conversion) -> tuple[np.ndarray, np.ndarray]:
    """Applies ``conversion`` to ``xy (n, k_src, 2)`` and ``confidence (n, k_src)``.

    Returns ``(xy (n, k_dst, 2), confidence (n, k_dst))``; targets with no source get NaN
    location and confidence 0.
    """
    xy = np.asarray(xy, dtype=np.float32)
    confidence = np.asarray(confidence, dtype=np.float32)
    n = xy.shape[0]
    k_dst = conversion.target.num_keypoints
    out_xy = np.full((n, k_dst, 2), np.nan, dtype=np.float32)
    out_conf = np.zeros((n, k_dst), dtype=np.float32)
    for dst, recipe in enumerate(conversion.sources):
        if not recipe:
            continue
        idx = np.array([i for i, _ in recipe])
        weights = np.array([w for _, w in recipe], dtype=np.float32)
        out_xy[:, dst] = np.einsum("nkc,k->nc", xy[:, idx], weights / weights.sum())
        out_conf[:, dst] = confidence[:, idx].min(axis=1)
    return out_xy, out_conf
