"""The points posekit triangulates: COCO-17 and four foot points (from BlazePose's 33), as data."""

from __future__ import annotations

from dataclasses import dataclass

from posekit.schemas import BLAZEPOSE33, COCO17

FEET_NAMES = ("left_heel", "right_heel", "left_toe", "right_toe")
# Where each foot point comes from in BlazePose's 33 landmarks ("foot index" is the big toe).
FEET_FROM_BLAZEPOSE = ("left_heel", "right_heel", "left_foot_index", "right_foot_index")


@dataclass(frozen=True)
class Skeleton3D:
    """Names of the triangulated points (COCO-17 first, then the feet), edges and bones."""

    names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    bones: tuple[tuple[str, str, str], ...]  # (bone name, proximal point, distal point)

    @property
    def num_points(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        return self.names.index(name)

    def bone_indices(self) -> list[tuple[int, int]]:
        return [(self.index(a), self.index(b)) for _, a, b in self.bones]


def _right_bones() -> list[tuple[str, str, str]]:
    return [
        ("right_upper_arm", "right_shoulder", "right_elbow"),
        ("right_forearm", "right_elbow", "right_wrist"),
        ("right_thigh", "right_hip", "right_knee"),
        ("right_shank", "right_knee", "right_ankle"),
    ]


def _mirrored(bones: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [tuple(part.replace("right", "left") for part in bone) for bone in bones]  # type: ignore[misc]


def _build() -> Skeleton3D:
    names = tuple(COCO17.keypoint_names) + FEET_NAMES
    index = {name: i for i, name in enumerate(names)}
    feet_edges = [
        ("left_ankle", "left_heel"),
        ("left_heel", "left_toe"),
        ("left_ankle", "left_toe"),
        ("right_ankle", "right_heel"),
        ("right_heel", "right_toe"),
        ("right_ankle", "right_toe"),
    ]
    edges = tuple(COCO17.edges) + tuple((index[a], index[b]) for a, b in feet_edges)
    bones = (
        _right_bones()
        + _mirrored(_right_bones())
        + [("shoulder_width", "left_shoulder", "right_shoulder"), ("hip_width", "left_hip", "right_hip")]
    )
    return Skeleton3D(names, edges, tuple(bones))


SKELETON = _build()
COCO17_COUNT = COCO17.num_keypoints
FEET_BLAZEPOSE_INDICES = tuple(BLAZEPOSE33.index(name) for name in FEET_FROM_BLAZEPOSE)
