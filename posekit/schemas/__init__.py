"""Keypoint schemas as data: names, skeleton edges, OKS sigmas, parts and conversions.

Every layout posekit reads or writes is declared here once, one module per family
(:mod:`~posekit.schemas.body`, :mod:`~posekit.schemas.hand`, :mod:`~posekit.schemas.face`,
:mod:`~posekit.schemas.wholebody`). A :class:`KeypointSchema` travels with keypoint arrays, so
nothing ever guesses a layout from a point count.

Conversions between schemas are data too: each target point is a weighted mean of source points
(:class:`Conversion`, looked up in ``CONVERSIONS[(source, target)]``). A target point whose
sources are missing gets confidence 0, never a fake ``(0, 0)`` location with a score.
Whole-body layouts are *assembled* from separately estimated parts with the tables in
:mod:`~posekit.schemas.assemble` (``posekit.results.assemble`` applies them).
"""

from __future__ import annotations

from posekit.schemas.assemble import ASSEMBLIES, PART_SCHEMAS
from posekit.schemas.body import (
    BLAZEPOSE33,
    BODY25,
    BODY_CONVERSIONS,
    COCO17,
    BlazePoseLandmark,
    Coco17Keypoint,
)
from posekit.schemas.core import Conversion, KeypointSchema, compose, convert
from posekit.schemas.face import FACE68, FACE468, FACE_CONVERSIONS, WFLW98
from posekit.schemas.hand import HAND21, HAND21_TIP_FIRST, HAND_CONVERSIONS, HAND_LEFT21, HAND_RIGHT21, HandLandmark
from posekit.schemas.wholebody import (
    BODY25_FACE70_HANDS,
    HALPE26,
    HALPE136,
    HOLISTIC,
    OPENPOSE137,
    WHOLEBODY133,
    WHOLEBODY_CONVERSIONS,
)

__all__ = [
    "KeypointSchema",
    "Conversion",
    "BLAZEPOSE33",
    "COCO17",
    "BODY25",
    "HAND21",
    "HAND21_TIP_FIRST",
    "HAND_LEFT21",
    "HAND_RIGHT21",
    "FACE68",
    "FACE468",
    "WFLW98",
    "WHOLEBODY133",
    "HALPE26",
    "HALPE136",
    "OPENPOSE137",
    "BODY25_FACE70_HANDS",
    "HOLISTIC",
    "SCHEMAS",
    "CONVERSIONS",
    "ASSEMBLIES",
    "PART_SCHEMAS",
    "convert",
    "compose",
    "BlazePoseLandmark",
    "Coco17Keypoint",
    "HandLandmark",
]

SCHEMAS: dict[str, KeypointSchema] = {
    s.name: s
    for s in (
        BLAZEPOSE33,
        COCO17,
        BODY25,
        HAND21,
        HAND21_TIP_FIRST,
        HAND_LEFT21,
        HAND_RIGHT21,
        FACE68,
        FACE468,
        WFLW98,
        WHOLEBODY133,
        HALPE26,
        HALPE136,
        OPENPOSE137,
        HOLISTIC,
    )
}

CONVERSIONS: dict[tuple[str, str], Conversion] = {
    (c.source.name, c.target.name): c
    for c in BODY_CONVERSIONS + HAND_CONVERSIONS + FACE_CONVERSIONS + WHOLEBODY_CONVERSIONS
}
