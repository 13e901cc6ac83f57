"""Joint and segment angles as data: each defined once, by its points and its convention.

Every definition names the points it needs (``mid_hip``/``mid_shoulder`` are the means of the
two hips/shoulders), how the angle is computed (:data:`METHODS`), where its zero is, what a
positive value means and its range. Only right-side rows are written by hand: the left side is
derived by mirroring every ``right_`` name to ``left_`` (and back), so the two cannot disagree.
Conventions follow Sports2D's published ones in spirit (zero at the anatomical neutral
position, flexion positive); docs/analysis.md lists them all.

Image coordinates have y down; angles against the horizontal or the vertical are measured as a
viewer sees the picture (counter-clockwise positive, leaning to the image's right positive).
Joint angles work on 2D pixels or 3D world metres alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from posekit.errors import UsageError

Method = Literal["flexion", "between", "dorsiflexion", "abduction", "horizontal", "vertical", "line"]
Side = Literal["right", "left", "centre"]


@dataclass(frozen=True)
class AngleDefinition:
    """One angle. ``points`` are read by ``method`` (see :data:`METHODS`), in order."""

    name: str
    kind: Literal["joint", "segment"]
    method: Method
    points: tuple[str, ...]
    zero: str
    positive: str
    range_deg: tuple[float, float]
    side: Side = "centre"


def _swap_side(name: str) -> str:
    if name.startswith("right_"):
        return "left_" + name[len("right_") :]
    if name.startswith("left_"):
        return "right_" + name[len("left_") :]
    return name


def mirrored(definition: AngleDefinition) -> AngleDefinition:
    """The other side's definition: every ``right_``/``left_`` name swapped."""
    side: Side = {"right": "left", "left": "right", "centre": "centre"}[definition.side]  # type: ignore[assignment]
    return replace(
        definition,
        name=_swap_side(definition.name),
        points=tuple(_swap_side(p) for p in definition.points),
        side=side,
    )


_RIGHT_SIDE = (
    AngleDefinition(
        "right_knee_flexion",
        "joint",
        "flexion",
        ("right_hip", "right_knee", "right_ankle"),
        "leg straight",
        "knee bent",
        (0.0, 180.0),
        "right",
    ),
    AngleDefinition(
        "right_hip_flexion",
        "joint",
        "between",
        ("mid_shoulder", "mid_hip", "right_hip", "right_knee"),
        "thigh in line with the trunk",
        "thigh away from the trunk's line (unsigned in 2D)",
        (0.0, 180.0),
        "right",
    ),
    AngleDefinition(
        "right_ankle_dorsiflexion",
        "joint",
        "dorsiflexion",
        ("right_knee", "right_ankle", "right_heel", "right_toe"),
        "foot at right angles to the shank",
        "toes towards the shin",
        (-90.0, 90.0),
        "right",
    ),
    AngleDefinition(
        "right_elbow_flexion",
        "joint",
        "flexion",
        ("right_shoulder", "right_elbow", "right_wrist"),
        "arm straight",
        "elbow bent",
        (0.0, 180.0),
        "right",
    ),
    AngleDefinition(
        "right_shoulder_flexion",
        "joint",
        "between",
        ("mid_shoulder", "mid_hip", "right_shoulder", "right_elbow"),
        "upper arm hanging along the trunk",
        "arm raised (any direction in 2D; forward in a side view)",
        (0.0, 180.0),
        "right",
    ),
    AngleDefinition(
        "right_shoulder_abduction",
        "joint",
        "abduction",
        ("mid_shoulder", "mid_hip", "right_shoulder", "right_elbow", "left_shoulder"),
        "upper arm hanging along the trunk",
        "elbow out to the side (away from the other shoulder)",
        (-180.0, 180.0),
        "right",
    ),
    AngleDefinition(
        "right_hip_abduction",
        "joint",
        "abduction",
        ("mid_shoulder", "mid_hip", "right_hip", "right_knee", "left_hip"),
        "thigh in line with the trunk",
        "knee out to the side (away from the other hip)",
        (-180.0, 180.0),
        "right",
    ),
    AngleDefinition(
        "right_thigh",
        "segment",
        "horizontal",
        ("right_hip", "right_knee"),
        "hip-to-knee pointing to the image's right",
        "counter-clockwise on the image",
        (-180.0, 180.0),
        "right",
    ),
    AngleDefinition(
        "right_shank",
        "segment",
        "horizontal",
        ("right_knee", "right_ankle"),
        "knee-to-ankle pointing to the image's right",
        "counter-clockwise on the image",
        (-180.0, 180.0),
        "right",
    ),
    AngleDefinition(
        "right_foot",
        "segment",
        "horizontal",
        ("right_heel", "right_toe"),
        "heel-to-toe pointing to the image's right",
        "counter-clockwise on the image",
        (-180.0, 180.0),
        "right",
    ),
    AngleDefinition(
        "right_arm",
        "segment",
        "horizontal",
        ("right_shoulder", "right_elbow"),
        "shoulder-to-elbow pointing to the image's right",
        "counter-clockwise on the image",
        (-180.0, 180.0),
        "right",
    ),
    AngleDefinition(
        "right_forearm",
        "segment",
        "horizontal",
        ("right_elbow", "right_wrist"),
        "elbow-to-wrist pointing to the image's right",
        "counter-clockwise on the image",
        (-180.0, 180.0),
        "right",
    ),
)

_CENTRE = (
    AngleDefinition(
        "trunk_tilt",
        "segment",
        "vertical",
        ("mid_hip", "mid_shoulder"),
        "trunk upright",
        "shoulders leaning to the image's right",
        (-180.0, 180.0),
    ),
    AngleDefinition(
        "pelvis_tilt",
        "segment",
        "line",
        ("left_hip", "right_hip"),
        "hips level",
        "line through the hips turned counter-clockwise on the image",
        (-90.0, 90.0),
    ),
    AngleDefinition(
        "shoulder_tilt",
        "segment",
        "line",
        ("left_shoulder", "right_shoulder"),
        "shoulders level",
        "line through the shoulders turned counter-clockwise on the image",
        (-90.0, 90.0),
    ),
)

ANGLES: dict[str, AngleDefinition] = {d.name: d for d in (*_RIGHT_SIDE, *(mirrored(r) for r in _RIGHT_SIDE), *_CENTRE)}
"""Every angle by name."""

DEFAULT_ANGLES: tuple[str, ...] = tuple(
    f"{side}_{joint}"
    for joint in ("knee_flexion", "hip_flexion", "elbow_flexion", "shoulder_flexion", "ankle_dorsiflexion")
    for side in ("left", "right")
) + ("trunk_tilt",)
"""What ``posekit analyze`` reports without ``--angles``."""


def _unit_angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unsigned angle between row vectors, degrees (NaN where either is missing or zero)."""
    dot = np.einsum("ij,ij->i", u, v)
    norms = np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(norms > 0, dot / norms, np.nan)
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def _flexion(p: list[np.ndarray]) -> np.ndarray:
    proximal, joint, distal = p
    return 180.0 - _unit_angle(proximal - joint, distal - joint)


def _between(p: list[np.ndarray]) -> np.ndarray:
    return _unit_angle(p[1] - p[0], p[3] - p[2])


def _dorsiflexion(p: list[np.ndarray]) -> np.ndarray:
    knee, ankle, heel, toe = p
    return 90.0 - _unit_angle(knee - ankle, toe - heel)


def _abduction(p: list[np.ndarray]) -> np.ndarray:
    top, bottom, joint, distal, other = p
    magnitude = _unit_angle(bottom - top, distal - joint)
    lateral = np.einsum("ij,ij->i", distal - joint, joint - other)
    return np.where(lateral < 0, -magnitude, magnitude)


def _horizontal(p: list[np.ndarray]) -> np.ndarray:
    delta = p[1] - p[0]
    return np.degrees(np.arctan2(-delta[:, 1], delta[:, 0]))


def _vertical(p: list[np.ndarray]) -> np.ndarray:
    delta = p[1] - p[0]
    return np.degrees(np.arctan2(delta[:, 0], -delta[:, 1]))


def _line(p: list[np.ndarray]) -> np.ndarray:
    angle = _horizontal(p)
    return (angle + 90.0) % 180.0 - 90.0


METHODS: dict[str, Callable[[list[np.ndarray]], np.ndarray]] = {
    "flexion": _flexion,  # (proximal, joint, distal): 180 - the inner angle at the joint
    "between": _between,  # (a0, a1, b0, b1): unsigned angle between a0->a1 and b0->b1
    "dorsiflexion": _dorsiflexion,  # (knee, ankle, heel, toe): 90 - angle(ankle->knee, heel->toe)
    "abduction": _abduction,  # (top, bottom, joint, distal, other side): 'between', negative across the body
    "horizontal": _horizontal,  # (a, b): direction of a->b, counter-clockwise from the image's +x
    "vertical": _vertical,  # (a, b): direction of a->b from image up, positive towards +x
    "line": _line,  # (a, b): the line through a and b against the horizontal, folded to -90..90
}


def check_angle_names(names: Iterable[str]) -> tuple[str, ...]:
    """The names, checked against :data:`ANGLES`; an unknown one raises a :class:`UsageError`."""
    names = tuple(names)
    unknown = [n for n in names if n not in ANGLES]
    if unknown:
        raise UsageError(f"unknown angle {', '.join(unknown)}; known: {', '.join(sorted(ANGLES))}")
    return names


def compute_angle(definition: AngleDefinition, points: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """``(n,)`` degrees of one angle from named points ``(n, 2|3)``; None when a point is not held."""
    if any(p not in points for p in definition.points):
        return None
    arrays = [np.asarray(points[p], dtype=np.float64) for p in definition.points]
    if definition.method in ("horizontal", "vertical", "line"):
        arrays = [a[:, :2] for a in arrays]  # segment angles: in the image plane (world: x right, y down)
    return METHODS[definition.method](arrays)


def angles_from_points(points: Mapping[str, np.ndarray], names: Iterable[str]) -> dict[str, np.ndarray]:
    """Each named angle ``(n,)`` degrees (NaN where its points are missing); unheld ones left out."""
    result = {}
    for name in check_angle_names(names):
        values = compute_angle(ANGLES[name], points)
        if values is not None:
            result[name] = values
    return result


def conventions_table() -> str:
    """The registry as a Markdown table (docs/analysis.md embeds it; a test keeps the two equal)."""
    rows = [
        "| angle | kind | points (in order) | method | zero | positive | range (deg) |",
        "|---|---|---|---|---|---|---|",
    ]
    for definition in sorted(
        ANGLES.values(), key=lambda d: (d.kind, d.name.removeprefix("left_").removeprefix("right_"), d.name)
    ):
        low, high = definition.range_deg
        rows.append(
            f"| `{definition.name}` | {definition.kind} | {', '.join(definition.points)} | {definition.method} "
            f"| {definition.zero} | {definition.positive} | {low:g} to {high:g} |"
        )
    return "\n".join(rows) + "\n"
