"""Whole-body layouts: COCO-WholeBody 133, Halpe 26 / 136, OpenPose body+face+hands, MediaPipe Holistic.

Each is body + feet + face + hands concatenated in its own order, with named ``parts`` so that
evaluation (per-part AP) and drawing (per-part style) need no index arithmetic of their own.
The face of every layout here is the iBUG 68 (plus OpenPose's two pupils, Holistic's mesh).
"""

from __future__ import annotations

import numpy as np

from posekit.schemas.body import BLAZEPOSE33, BODY25, COCO17, NECK_MIDHIP
from posekit.schemas.core import KeypointSchema, by_name, named_edges, offset_edges
from posekit.schemas.face import FACE68, FACE68_LEFT_EYE, FACE68_NAMES, FACE68_RIGHT_EYE, FACE468
from posekit.schemas.hand import HAND_EDGES, HAND_LEFT21, HAND_RIGHT21

FOOT_NAMES = ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel")
_FOOT_PAIRS = [(f"{side}_ankle", f"{side}_{p}") for side in ("left", "right") for p in ("big_toe", "small_toe", "heel")]
_HANDS = HAND_LEFT21.keypoint_names + HAND_RIGHT21.keypoint_names


def _face_and_hand_edges(face_start: int, left_hand_start: int, right_hand_start: int) -> tuple[tuple[int, int], ...]:
    return (
        offset_edges(FACE68.edges, face_start)
        + offset_edges(HAND_EDGES, left_hand_start)
        + offset_edges(HAND_EDGES, right_hand_start)
    )


# --- COCO-WholeBody 133 -------------------------------------------------------------------

_WB_NAMES = COCO17.keypoint_names + FOOT_NAMES + FACE68_NAMES + _HANDS

# The COCO-WholeBody OKS sigmas, in its 133-point order. Source: COCO-WholeBody
# evaluation/myeval_wholebody.py (github.com/jin-s13/COCO-WholeBody), as copied into mmpose
# configs/_base_/datasets/coco_wholebody.py; xtcocotools' COCOeval takes them from the caller.
WHOLEBODY133_SIGMAS = np.array(
    [
        0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062,
        0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089, 0.068, 0.066, 0.066,
        0.092, 0.094, 0.094, 0.042, 0.043, 0.044, 0.043, 0.040, 0.035, 0.031,
        0.025, 0.020, 0.023, 0.029, 0.032, 0.037, 0.038, 0.043, 0.041, 0.045,
        0.013, 0.012, 0.011, 0.011, 0.012, 0.012, 0.011, 0.011, 0.013, 0.015,
        0.009, 0.007, 0.007, 0.007, 0.012, 0.009, 0.008, 0.016, 0.010, 0.017,
        0.011, 0.009, 0.011, 0.009, 0.007, 0.013, 0.008, 0.011, 0.012, 0.010,
        0.034, 0.008, 0.008, 0.009, 0.008, 0.008, 0.007, 0.010, 0.008, 0.009,
        0.009, 0.009, 0.007, 0.007, 0.008, 0.011, 0.008, 0.008, 0.008, 0.01,
        0.008, 0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035,
        0.018, 0.024, 0.022, 0.026, 0.017, 0.021, 0.021, 0.032, 0.02, 0.019,
        0.022, 0.031, 0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024,
        0.035, 0.018, 0.024, 0.022, 0.026, 0.017, 0.021, 0.021, 0.032, 0.02,
        0.019, 0.022, 0.031,
    ]
)  # fmt: skip

WHOLEBODY133 = KeypointSchema(
    name="wholebody133",
    keypoint_names=_WB_NAMES,
    edges=COCO17.edges + named_edges(_WB_NAMES, _FOOT_PAIRS) + _face_and_hand_edges(23, 91, 112),
    sigmas=WHOLEBODY133_SIGMAS,
    parts=(("body", 0, 17), ("foot", 17, 23), ("face", 23, 91), ("left_hand", 91, 112), ("right_hand", 112, 133)),
)

# The fields of a COCO-WholeBody annotation (and of xtcocotools' results), in layout order.
WHOLEBODY_FIELDS = (
    ("body", "keypoints"),
    ("foot", "foot_kpts"),
    ("face", "face_kpts"),
    ("left_hand", "lefthand_kpts"),
    ("right_hand", "righthand_kpts"),
)

# --- Halpe-FullBody 136 and its body+feet 26 ---------------------------------------------

_HALPE26_NAMES = COCO17.keypoint_names + (
    "head",  # top of the head
    "neck",
    "hip",  # mid-hip
    "left_big_toe",
    "right_big_toe",
    "left_small_toe",
    "right_small_toe",
    "left_heel",
    "right_heel",
)
_HALPE136_NAMES = _HALPE26_NAMES + FACE68_NAMES + _HANDS
_HALPE26_PAIRS = [
    ("left_ankle", "left_knee"), ("left_knee", "left_hip"), ("left_hip", "hip"),
    ("right_ankle", "right_knee"), ("right_knee", "right_hip"), ("right_hip", "hip"),
    ("head", "neck"), ("neck", "hip"),
    ("neck", "left_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("neck", "right_shoulder"), ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_eye", "right_eye"), ("nose", "left_eye"), ("nose", "right_eye"),
    ("left_eye", "left_ear"), ("right_eye", "right_ear"),
    ("left_ear", "left_shoulder"), ("right_ear", "right_shoulder"),
    *_FOOT_PAIRS,
]  # fmt: skip

# Halpe OKS sigmas. Source: Halpe-FullBody HalpeCOCOAPI/PythonAPI/halpecocotools/cocoeval.py,
# as copied into mmpose configs/_base_/datasets/halpe26.py and halpe.py. The two data sets publish
# different values for head, neck, hip and feet; each layout keeps its own.
HALPE26_SIGMAS = np.array(
    [
        0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107,
        0.087, 0.087, 0.089, 0.089, 0.026, 0.026, 0.066, 0.079, 0.079, 0.079, 0.079, 0.079, 0.079,
    ]
)  # fmt: skip
HALPE136_SIGMAS = np.concatenate(
    [
        [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107],
        [0.087, 0.087, 0.089, 0.089, 0.08, 0.08, 0.08, 0.089, 0.089, 0.089, 0.089, 0.089, 0.089],
        np.full(110, 0.015),  # face and hands
    ]
)

HALPE26 = KeypointSchema(
    name="halpe26",
    keypoint_names=_HALPE26_NAMES,
    edges=named_edges(_HALPE26_NAMES, _HALPE26_PAIRS),
    sigmas=HALPE26_SIGMAS,
    parts=(("body", 0, 20), ("foot", 20, 26)),
)
HALPE136 = KeypointSchema(
    name="halpe136",
    keypoint_names=_HALPE136_NAMES,
    edges=HALPE26.edges + _face_and_hand_edges(26, 94, 115),
    sigmas=HALPE136_SIGMAS,
    parts=(("body", 0, 20), ("foot", 20, 26), ("face", 26, 94), ("left_hand", 94, 115), ("right_hand", 115, 136)),
)

# --- OpenPose BODY_25 + face 70 + hands 2x21 --------------------------------------------

# What OpenPose writes per person with --face --hand: pose_keypoints_2d (BODY_25),
# face_keypoints_2d (70: the iBUG 68, then the right and the left pupil) and
# hand_left/right_keypoints_2d (21 each, the MediaPipe/FreiHAND order), concatenated here.
# 25 + 70 + 42 = 137 points. The face's last two points are the right, then the left eyeball
# (as listed in mmhuman3d's OpenPose keypoint conventions, taken from OpenPose's own tables).
# OpenPose's experimental BODY_135 *model* is a different layout (COCO-17 order, upper neck and
# head top, hands without wrists, then the face); it is not this one.
_OP_NAMES = BODY25.keypoint_names + FACE68_NAMES + ("right_pupil", "left_pupil") + _HANDS
OPENPOSE137 = KeypointSchema(
    name="openpose137",
    keypoint_names=_OP_NAMES,
    edges=BODY25.edges + _face_and_hand_edges(25, 95, 116),
    parts=(("body", 0, 25), ("face", 25, 95), ("left_hand", 95, 116), ("right_hand", 116, 137)),
)
BODY25_FACE70_HANDS = OPENPOSE137
OPENPOSE_FIELDS = (
    ("body", "pose_keypoints_2d"),
    ("face", "face_keypoints_2d"),
    ("left_hand", "hand_left_keypoints_2d"),
    ("right_hand", "hand_right_keypoints_2d"),
)

# A pupil is the mean of its eye's six contour points: the centre of the eye opening, which is
# where the pupil is for a person looking ahead (OpenPose's face model locates it from the image).
PUPILS_FROM_FACE68 = {
    "right_pupil": [(FACE68_NAMES[i], 1.0) for i in FACE68_RIGHT_EYE],
    "left_pupil": [(FACE68_NAMES[i], 1.0) for i in FACE68_LEFT_EYE],
}

# --- MediaPipe Holistic: pose 33 + face mesh 468 + left hand 21 + right hand 21 ------------

HOLISTIC = KeypointSchema(
    name="holistic",
    keypoint_names=BLAZEPOSE33.keypoint_names + FACE468.keypoint_names + _HANDS,
    edges=BLAZEPOSE33.edges
    + offset_edges(FACE468.edges, 33)
    + offset_edges(HAND_EDGES, 501)
    + offset_edges(HAND_EDGES, 522),
    parts=(("body", 0, 33), ("face", 33, 501), ("left_hand", 501, 522), ("right_hand", 522, 543)),
)

# --- Conversions between whole-body layouts and to their parts --------------------------------

# Halpe's neck and hip are labelled points; from a layout without them they are estimated as
# the midpoints of the shoulders and of the hips, as for BODY_25. Halpe's head top has no
# counterpart in COCO-WholeBody and stays missing.
HALPE_NECK_HIP = {
    "neck": [("left_shoulder", 0.5), ("right_shoulder", 0.5)],
    "hip": [("left_hip", 0.5), ("right_hip", 0.5)],
}

WHOLEBODY_CONVERSIONS = (
    by_name(WHOLEBODY133, COCO17),
    by_name(WHOLEBODY133, BODY25, NECK_MIDHIP),
    by_name(WHOLEBODY133, HALPE26, HALPE_NECK_HIP),
    by_name(WHOLEBODY133, HALPE136, HALPE_NECK_HIP),
    by_name(WHOLEBODY133, OPENPOSE137, {**NECK_MIDHIP, **PUPILS_FROM_FACE68}),
    by_name(WHOLEBODY133, FACE68),
    by_name(WHOLEBODY133, HAND_LEFT21),
    by_name(WHOLEBODY133, HAND_RIGHT21),
    by_name(HALPE136, WHOLEBODY133),
    by_name(HALPE136, HALPE26),
    by_name(HALPE136, COCO17),
    by_name(HALPE136, FACE68),
    by_name(HALPE136, HAND_LEFT21),
    by_name(HALPE136, HAND_RIGHT21),
    by_name(HALPE26, COCO17),
    by_name(OPENPOSE137, BODY25),
    by_name(OPENPOSE137, FACE68),
    by_name(OPENPOSE137, HAND_LEFT21),
    by_name(OPENPOSE137, HAND_RIGHT21),
    by_name(HOLISTIC, BLAZEPOSE33),
    by_name(HOLISTIC, FACE468),
    by_name(HOLISTIC, HAND_LEFT21),
    by_name(HOLISTIC, HAND_RIGHT21),
)
