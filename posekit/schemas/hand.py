"""Hand layouts: 21 points in MediaPipe Hands / FreiHAND / OpenPose / COCO-WholeBody order.

All four use the same order: wrist, then thumb, index, middle, ring and pinky, each from the
base of the finger to its tip (MediaPipe's ``HandLandmark``: CMC, MCP, IP, TIP for the thumb;
MCP, PIP, DIP, TIP for the fingers). ``HAND21`` is a hand on its own (hand-only data sets);
``HAND_LEFT21`` and ``HAND_RIGHT21`` are the same layout as one side of a person, with point
names as COCO-WholeBody spells them, so conversions to whole-body layouts go by name.

``HAND21_TIP_FIRST`` is RHD as MMPose ships it (``rhd2d``): the same names, but each finger
listed from its tip to its base (its ``thumb1`` is the thumb tip; MMPose's skeleton links the
wrist to ``thumb4``). CMU Panoptic's MMPose files use the base-first order.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from posekit.schemas.core import KeypointSchema, by_index


class HandLandmark(IntEnum):
    WRIST = 0
    THUMB_CMC = 1
    THUMB_MCP = 2
    THUMB_IP = 3
    THUMB_TIP = 4
    INDEX_FINGER_MCP = 5
    INDEX_FINGER_PIP = 6
    INDEX_FINGER_DIP = 7
    INDEX_FINGER_TIP = 8
    MIDDLE_FINGER_MCP = 9
    MIDDLE_FINGER_PIP = 10
    MIDDLE_FINGER_DIP = 11
    MIDDLE_FINGER_TIP = 12
    RING_FINGER_MCP = 13
    RING_FINGER_PIP = 14
    RING_FINGER_DIP = 15
    RING_FINGER_TIP = 16
    PINKY_MCP = 17
    PINKY_PIP = 18
    PINKY_DIP = 19
    PINKY_TIP = 20


# The names the FreiHAND / OneHand10K / COCO-WholeBody label files use.
_FINGERS = ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")
HAND_NAMES: tuple[str, ...] = ("wrist",) + tuple(f"{f}{i}" for f in _FINGERS for i in range(1, 5))

# MediaPipe's HAND_CONNECTIONS: each finger as a chain from the wrist side, plus the palm
# (wrist - index MCP - middle MCP - ring MCP - pinky MCP - wrist).
HAND_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (0, 5), (5, 6), (6, 7), (7, 8),
    (9, 10), (10, 11), (11, 12),
    (13, 14), (14, 15), (15, 16),
    (0, 17), (17, 18), (18, 19), (19, 20),
    (5, 9), (9, 13), (13, 17),
)  # fmt: skip

# OKS sigmas of a hand: COCO-WholeBody's (the left-hand slice of its 133 sigmas; the right hand's
# are the same). Source: COCO-WholeBody evaluation/myeval_wholebody.py, as copied into
# mmpose configs/_base_/datasets/coco_wholebody.py.
HAND_SIGMAS = np.array(
    [
        0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024,
        0.022, 0.026, 0.017, 0.021, 0.021, 0.032, 0.02, 0.019, 0.022, 0.031,
    ]
)  # fmt: skip

HAND21 = KeypointSchema("hand21", HAND_NAMES, HAND_EDGES, HAND_SIGMAS)
HAND_LEFT21 = KeypointSchema(
    "hand_left21", ("left_hand_root",) + tuple(f"left_{n}" for n in HAND_NAMES[1:]), HAND_EDGES, HAND_SIGMAS
)
HAND_RIGHT21 = KeypointSchema(
    "hand_right21", ("right_hand_root",) + tuple(f"right_{n}" for n in HAND_NAMES[1:]), HAND_EDGES, HAND_SIGMAS
)

# Point i of the tip-first layout is point _TIP_FIRST[i] of the base-first one (and back: the
# permutation is its own inverse).
_TIP_FIRST = (0,) + tuple(5 + 4 * finger - joint for finger in range(5) for joint in range(1, 5))
HAND21_TIP_FIRST = KeypointSchema(
    "hand21_tip_first",
    HAND_NAMES,
    tuple((_TIP_FIRST.index(a), _TIP_FIRST.index(b)) for a, b in HAND_EDGES),
    HAND_SIGMAS[list(_TIP_FIRST)],
)

HAND_CONVERSIONS = (
    by_index(HAND21, HAND21_TIP_FIRST, _TIP_FIRST),
    by_index(HAND21_TIP_FIRST, HAND21, _TIP_FIRST),
    by_index(HAND_LEFT21, HAND21, range(21)),
    by_index(HAND_RIGHT21, HAND21, range(21)),
    by_index(HAND21, HAND_LEFT21, range(21)),
    by_index(HAND21, HAND_RIGHT21, range(21)),
)
