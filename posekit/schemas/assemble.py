"""Tables that assemble whole-body layouts from separately estimated parts.

posekit estimates a person in parts: COCO-17 body points, BlazePose-33 landmarks (feet), a face
(iBUG 68 or the 468-point mesh) and each hand (21 points). ``ASSEMBLIES[target]`` lists, in order
of preference, a :class:`~posekit.schemas.core.Conversion` from each part to the target layout.
For each target point and person the first conversion whose part is present and gives the point
with a confidence above 0 wins; a point no part gives stays missing (NaN, confidence 0).

Preferences: body points from ``coco17`` (posekit's body model follows COCO's labelling), else
from ``blazepose33``; feet from ``blazepose33`` (big toe = foot index, heel = heel, small toe =
1/3 heel + 2/3 foot index: an estimate, see :mod:`posekit.schemas.body`); face from ``face68``,
else from ``face468`` through the mesh -> iBUG table; hands from ``hand_left21``/``hand_right21``.
Derived points (BODY_25 neck and mid-hip, Halpe neck and hip, OpenPose pupils) are means of their
sources, as documented next to each recipe.
"""

from __future__ import annotations

from posekit.schemas.body import BLAZEPOSE33, COCO17, FEET_FROM_BLAZEPOSE, NECK_MIDHIP
from posekit.schemas.core import Conversion, KeypointSchema, by_name, compose
from posekit.schemas.face import FACE68, FACE468, FACE468_TO_FACE68_CONVERSION
from posekit.schemas.hand import HAND_LEFT21, HAND_RIGHT21
from posekit.schemas.wholebody import (
    HALPE26,
    HALPE136,
    HALPE_NECK_HIP,
    HOLISTIC,
    OPENPOSE137,
    PUPILS_FROM_FACE68,
    WHOLEBODY133,
)

# The part names posekit's Poses use as keys; each holds keypoints of the schema of that name.
PART_SCHEMAS: dict[str, KeypointSchema] = {
    s.name: s for s in (COCO17, BLAZEPOSE33, FACE68, FACE468, HAND_LEFT21, HAND_RIGHT21)
}


def _assembly(
    target: KeypointSchema,
    recipes: dict[str, list[tuple[str, float]]],
    body: tuple[KeypointSchema, ...] = (COCO17, BLAZEPOSE33),
) -> tuple[Conversion, ...]:
    """Part -> target conversions in order of preference; ``recipes`` name derived points."""

    def usable(source: KeypointSchema) -> dict[str, list[tuple[str, float]]]:
        return {t: r for t, r in recipes.items() if all(name in source.keypoint_names for name, _ in r)}

    face68_to_target = by_name(FACE68, target, usable(FACE68))
    if "mesh-0" in target.keypoint_names:
        face468_to_target = by_name(FACE468, target)
    else:
        face468_to_target = compose(FACE468_TO_FACE68_CONVERSION, face68_to_target)
    steps = (
        *(by_name(source, target, usable(source)) for source in body),
        face68_to_target,
        face468_to_target,
        by_name(HAND_LEFT21, target),
        by_name(HAND_RIGHT21, target),
    )
    return tuple(step for step in steps if any(step.sources))


ASSEMBLIES: dict[str, tuple[Conversion, ...]] = {
    WHOLEBODY133.name: _assembly(WHOLEBODY133, FEET_FROM_BLAZEPOSE),
    HALPE26.name: _assembly(HALPE26, {**HALPE_NECK_HIP, **FEET_FROM_BLAZEPOSE}),
    HALPE136.name: _assembly(HALPE136, {**HALPE_NECK_HIP, **FEET_FROM_BLAZEPOSE}),
    OPENPOSE137.name: _assembly(OPENPOSE137, {**NECK_MIDHIP, **FEET_FROM_BLAZEPOSE, **PUPILS_FROM_FACE68}),
    # Holistic is MediaPipe's own layout: its body is BlazePose's, COCO-17 only fills gaps.
    HOLISTIC.name: _assembly(HOLISTIC, {}, body=(BLAZEPOSE33, COCO17)),
}
