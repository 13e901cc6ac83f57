"""Face layouts: iBUG 300-W 68 points, MediaPipe Face Mesh 468 points and WFLW 98 points.

``FACE68`` is the iBUG 300-W markup (0-based): jaw 0-16, right brow 17-21, left brow 22-26
(the person's right and left), nose bridge 27-30, lower nose 31-35, right eye 36-41, left eye
42-47, outer lip 48-59, inner lip 60-67. COCO-WholeBody, Halpe and OpenPose use this order for
their faces. ``FACE468`` is MediaPipe's canonical face mesh; its points have no names, only
indices (``mesh-0`` ... ``mesh-467``), and it is drawn with MediaPipe's contour edges.
"""

from __future__ import annotations

import numpy as np

from posekit.schemas.core import KeypointSchema, by_index, chain

FACE68_NAMES: tuple[str, ...] = tuple(f"face-{i}" for i in range(68))

# Outer corners of the eyes: the 300-W inter-ocular normaliser of NME.
FACE68_RIGHT_EYE_OUTER = 36
FACE68_LEFT_EYE_OUTER = 45
FACE68_RIGHT_EYE = tuple(range(36, 42))
FACE68_LEFT_EYE = tuple(range(42, 48))

FACE68_EDGES: tuple[tuple[int, int], ...] = tuple(
    chain(range(0, 17))  # jaw
    + chain(range(17, 22))  # right brow
    + chain(range(22, 27))  # left brow
    + chain(range(27, 31))  # nose bridge
    + chain(range(31, 36))  # lower nose
    + [(30, 33)]  # tip of the bridge to the middle of the lower nose
    + chain(FACE68_RIGHT_EYE, closed=True)
    + chain(FACE68_LEFT_EYE, closed=True)
    + chain(range(48, 60), closed=True)  # outer lip
    + chain(range(60, 68), closed=True)  # inner lip
)

# OKS sigmas of the 68 face points: COCO-WholeBody's face slice (points 23..90 of its 133).
# Source: COCO-WholeBody evaluation/myeval_wholebody.py, as copied into mmpose
# configs/_base_/datasets/coco_wholebody.py.
FACE68_SIGMAS = np.array(
    [
        0.042, 0.043, 0.044, 0.043, 0.040, 0.035, 0.031, 0.025, 0.020, 0.023, 0.029, 0.032, 0.037, 0.038,
        0.043, 0.041, 0.045, 0.013, 0.012, 0.011, 0.011, 0.012, 0.012, 0.011, 0.011, 0.013, 0.015, 0.009,
        0.007, 0.007, 0.007, 0.012, 0.009, 0.008, 0.016, 0.010, 0.017, 0.011, 0.009, 0.011, 0.009, 0.007,
        0.013, 0.008, 0.011, 0.012, 0.010, 0.034, 0.008, 0.008, 0.009, 0.008, 0.008, 0.007, 0.010, 0.008,
        0.009, 0.009, 0.009, 0.007, 0.007, 0.008, 0.011, 0.008, 0.008, 0.008, 0.01, 0.008,
    ]
)  # fmt: skip

FACE68 = KeypointSchema("face68", FACE68_NAMES, FACE68_EDGES, FACE68_SIGMAS)

# --- MediaPipe Face Mesh (468) ------------------------------------------------------------

# MediaPipe's FACEMESH_CONTOURS (face_mesh_connections.py): lips, eyes, eyebrows and face oval.
# Right/left are the person's: the right eye (around 33 and 133) is on the image's left.
_MESH_LIPS = [
    (61, 146), (146, 91), (91, 181), (181, 84), (84, 17), (17, 314), (314, 405), (405, 321), (321, 375),
    (375, 291), (61, 185), (185, 40), (40, 39), (39, 37), (37, 0), (0, 267), (267, 269), (269, 270),
    (270, 409), (409, 291), (78, 95), (95, 88), (88, 178), (178, 87), (87, 14), (14, 317), (317, 402),
    (402, 318), (318, 324), (324, 308), (78, 191), (191, 80), (80, 81), (81, 82), (82, 13), (13, 312),
    (312, 311), (311, 310), (310, 415), (415, 308),
]  # fmt: skip
_MESH_LEFT_EYE = [
    (263, 249), (249, 390), (390, 373), (373, 374), (374, 380), (380, 381), (381, 382), (382, 362),
    (263, 466), (466, 388), (388, 387), (387, 386), (386, 385), (385, 384), (384, 398), (398, 362),
]  # fmt: skip
_MESH_LEFT_EYEBROW = [
    (276, 283), (283, 282), (282, 295), (295, 285), (300, 293), (293, 334), (334, 296), (296, 336),
]  # fmt: skip
_MESH_RIGHT_EYE = [
    (33, 7), (7, 163), (163, 144), (144, 145), (145, 153), (153, 154), (154, 155), (155, 133),
    (33, 246), (246, 161), (161, 160), (160, 159), (159, 158), (158, 157), (157, 173), (173, 133),
]  # fmt: skip
_MESH_RIGHT_EYEBROW = [(46, 53), (53, 52), (52, 65), (65, 55), (70, 63), (63, 105), (105, 66), (66, 107)]
_MESH_FACE_OVAL = chain(
    [
        10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
        148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    ],
    closed=True,
)  # fmt: skip

FACE468 = KeypointSchema(
    "face468",
    tuple(f"mesh-{i}" for i in range(468)),
    tuple(_MESH_LIPS + _MESH_LEFT_EYE + _MESH_LEFT_EYEBROW + _MESH_RIGHT_EYE + _MESH_RIGHT_EYEBROW + _MESH_FACE_OVAL),
)

# Face Mesh -> iBUG 68: for each of the 68 points, the mesh vertices whose mean stands for it.
# Source: the correspondence table of github.com/PeizhiYan/Mediapipe_2_Dlib_Landmarks (the
# widely copied version: two-vertex means for jaw points 3, 4 and 12 and nose points 27, 28).
# Mesh vertices lie on the mesh surface, not on the 2D silhouette iBUG labels for the jaw, so
# jaw points differ most on turned heads; the eye corners (33, 133, 362, 263), mouth corners
# (61, 291) and inner-lip points are exact landmarks of both.
FACE468_TO_FACE68: tuple[tuple[int, ...], ...] = (
    # jaw 0-16, from the person's right ear round the chin to the left ear
    (127,), (234,), (93,), (132, 58), (58, 172), (136,), (150,), (176,), (152,),
    (400,), (379,), (365,), (397, 288), (361,), (323,), (454,), (356,),
    # right brow 17-21, left brow 22-26
    (70,), (63,), (105,), (66,), (107,),
    (336,), (296,), (334,), (293,), (300,),
    # nose bridge 27-30, lower nose 31-35
    (168, 6), (197, 195), (5,), (4,), (75,), (97,), (2,), (326,), (305,),
    # right eye 36-41 (outer corner, upper lid, inner corner, lower lid), left eye 42-47
    (33,), (160,), (158,), (133,), (153,), (144,),
    (362,), (385,), (387,), (263,), (373,), (380,),
    # outer lip 48-59, from the right mouth corner over the upper lip and back under the lower
    (61,), (39,), (37,), (0,), (267,), (269,), (291,), (321,), (314,), (17,), (84,), (91,),
    # inner lip 60-67
    (78,), (82,), (13,), (312,), (308,), (317,), (14,), (87,),
)  # fmt: skip

# --- WFLW (98) --------------------------------------------------------------------------------

# WFLW's 98 points: jaw 0-32, right brow 33-41, left brow 42-50, nose 51-59, right eye 60-67,
# left eye 68-75, outer lip 76-87, inner lip 88-95, pupils 96 (right) and 97 (left). Its
# inter-ocular normaliser is the outer eye corners 60 and 72.
WFLW98_RIGHT_EYE_OUTER = 60
WFLW98_LEFT_EYE_OUTER = 72
WFLW98 = KeypointSchema(
    "wflw98",
    tuple(f"wflw-{i}" for i in range(98)),
    tuple(
        chain(range(0, 33))
        + chain(range(33, 42), closed=True)
        + chain(range(42, 51), closed=True)
        + chain(range(51, 55))
        + chain(range(55, 60))
        + chain(range(60, 68), closed=True)
        + chain(range(68, 76), closed=True)
        + chain(range(76, 88), closed=True)
        + chain(range(88, 96), closed=True)
    ),
)

# WFLW 98 -> iBUG 68: the subset of WFLW points at the 68 iBUG positions: every second jaw
# point, the upper brow lines, the nose, the 6 iBUG eye points among WFLW's 8, and both lips.
# This is the DLIB_68_TO_WFLW_98_IDX_MAPPING table widely used with WFLW (e.g. in the
# face-landmark tooling around PFLD and DSLPT). The outer eye corners map 36 -> 60, 45 -> 72,
# so the inter-ocular distance is the same in both layouts.
WFLW98_TO_FACE68: tuple[int, ...] = (
    tuple(range(0, 33, 2))
    + tuple(range(33, 38))
    + tuple(range(42, 47))
    + tuple(range(51, 60))
    + (60, 61, 63, 64, 65, 67)
    + (68, 69, 71, 72, 73, 75)
    + tuple(range(76, 96))
)

FACE468_TO_FACE68_CONVERSION = by_index(FACE468, FACE68, [tuple((i, 1.0) for i in mesh) for mesh in FACE468_TO_FACE68])
FACE_CONVERSIONS = (
    FACE468_TO_FACE68_CONVERSION,
    by_index(WFLW98, FACE68, WFLW98_TO_FACE68),
)
