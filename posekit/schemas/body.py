"""Body layouts: BlazePose 33 (MediaPipe Pose), COCO 17 and OpenPose BODY_25."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from posekit.schemas.core import KeypointSchema, by_name, named_edges

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
    edges=named_edges(
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
    edges=named_edges(
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
    edges=named_edges(
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


# BODY_25's neck and mid-hip are the midpoints of the shoulders and of the hips (as OpenPose
# labels them). Feet: big toe = BlazePose foot index, heel = heel. BlazePose has no small toe;
# it is estimated as the point 2/3 of the way from heel to foot index (the fifth metatarsal head
# lies roughly there along the foot's long axis, offset sideways, which a 2D model cannot see).
FEET_FROM_BLAZEPOSE = {
    "left_big_toe": [("left_foot_index", 1.0)],
    "left_heel": [("left_heel", 1.0)],
    "left_small_toe": [("left_heel", 1 / 3), ("left_foot_index", 2 / 3)],
    "right_big_toe": [("right_foot_index", 1.0)],
    "right_heel": [("right_heel", 1.0)],
    "right_small_toe": [("right_heel", 1 / 3), ("right_foot_index", 2 / 3)],
}
NECK_MIDHIP = {
    "neck": [("left_shoulder", 0.5), ("right_shoulder", 0.5)],
    "mid_hip": [("left_hip", 0.5), ("right_hip", 0.5)],
}

BODY_CONVERSIONS = (
    by_name(BLAZEPOSE33, COCO17),
    by_name(BLAZEPOSE33, BODY25, {**NECK_MIDHIP, **FEET_FROM_BLAZEPOSE}),
    by_name(COCO17, BODY25, NECK_MIDHIP),
)
