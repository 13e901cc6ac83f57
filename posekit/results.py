"""The result types: immutable columns of numpy arrays with checked shapes.

``Keypoints`` is one schema's points for ``n`` people; ``Poses`` is everything posekit knows
about the ``n`` people in one image or frame. Selecting (``poses[mask]``) returns new objects;
nothing edits an array a caller holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from posekit.schemas import ASSEMBLIES, CONVERSIONS, PART_SCHEMAS, WHOLEBODY133, KeypointSchema, convert
from posekit.schemas.core import apply_recipe

Selector = slice | int | np.ndarray | list[int]


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def _as_index(selector: Selector) -> slice | np.ndarray:
    if isinstance(selector, slice):
        return selector
    if isinstance(selector, int | np.integer):
        return np.array([int(selector)])
    return np.asarray(selector)


@dataclass(frozen=True)
class Keypoints:
    """Keypoints of ``n`` people in one schema.

    ``xy (n, k, 2)`` float32 image pixels (NaN where a point is missing);
    ``confidence (n, k)`` float32 in 0..1, 0 where a point is missing (for BlazePose: visibility,
    the chance the point is in view and not occluded).
    ``presence (n, k) | None``: for models that give it (BlazePose), the chance the point is
    inside the image at all, occluded or not.
    """

    schema: KeypointSchema
    xy: np.ndarray
    confidence: np.ndarray
    presence: np.ndarray | None = None

    def __post_init__(self) -> None:
        k = self.schema.num_keypoints
        xy = np.asarray(self.xy, dtype=np.float32)
        confidence = np.asarray(self.confidence, dtype=np.float32)
        if xy.size == 0:  # any empty input means "nobody", whatever its shape
            xy, confidence = xy.reshape(0, k, 2), confidence.reshape(0, k)
        if xy.ndim != 3 or xy.shape[1:] != (k, 2):
            raise ValueError(f"{self.schema.name}: xy must be (n, {k}, 2), got {xy.shape}")
        if confidence.shape != xy.shape[:2]:
            raise ValueError(f"{self.schema.name}: confidence must be {xy.shape[:2]}, got {confidence.shape}")
        object.__setattr__(self, "xy", _frozen(xy))
        object.__setattr__(self, "confidence", _frozen(confidence))
        if self.presence is not None:
            presence = np.asarray(self.presence, dtype=np.float32).reshape(confidence.shape)
            object.__setattr__(self, "presence", _frozen(presence))

    @classmethod
    def empty(cls, schema: KeypointSchema) -> Keypoints:
        k = schema.num_keypoints
        return cls(schema, np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32))

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def __getitem__(self, selector: Selector) -> Keypoints:
        index = _as_index(selector)
        presence = None if self.presence is None else self.presence[index]
        return Keypoints(self.schema, self.xy[index], self.confidence[index], presence)

    def to(self, target: KeypointSchema) -> Keypoints:
        """Converts to another schema using the conversion table in :mod:`posekit.schemas`."""
        if target.name == self.schema.name:
            return self
        conversion = CONVERSIONS.get((self.schema.name, target.name))
        if conversion is None:
            raise ValueError(f"no conversion from {self.schema.name} to {target.name}")
        xy, confidence = convert(self.xy, self.confidence, conversion)
        return Keypoints(target, xy, confidence)


def assemble(parts: Mapping[str, Keypoints], target: KeypointSchema = WHOLEBODY133) -> Keypoints:
    """A whole-body layout built from separately estimated parts.

    ``parts`` maps part names (``coco17``, ``blazepose33``, ``face68``, ``face468``,
    ``hand_left21``, ``hand_right21``; any subset, other keys are ignored) to keypoints of the
    same ``n`` people. ``target`` is a layout in :data:`posekit.schemas.ASSEMBLIES`
    (``wholebody133``, ``halpe26``, ``halpe136``, ``openpose137``, ``holistic``). Each target
    point comes from the first part, in the table's order of preference, that has it with a
    confidence above 0 for that person; points no part gives are missing (NaN, confidence 0).
    """
    steps = ASSEMBLIES.get(target.name)
    if steps is None:
        raise ValueError(f"no assembly table for {target.name}; known: {', '.join(ASSEMBLIES)}")
    held = {name: points for name, points in parts.items() if name in PART_SCHEMAS}
    if not held:
        raise ValueError(f"assembling {target.name} needs one of the parts {', '.join(PART_SCHEMAS)}")
    for name, points in held.items():
        if points.schema.name != PART_SCHEMAS[name].name:
            raise ValueError(f"part {name!r} holds {points.schema.name} keypoints, expected {name}")
    sizes = {len(points) for points in held.values()}
    if len(sizes) != 1:
        raise ValueError(f"parts hold different numbers of people: {sorted(sizes)}")
    n, k = sizes.pop(), target.num_keypoints
    xy = np.full((n, k, 2), np.nan, dtype=np.float32)
    confidence = np.zeros((n, k), dtype=np.float32)
    for step in steps:
        part = held.get(step.source.name)
        if part is None:
            continue
        for dst, recipe in enumerate(step.sources):
            if not recipe:
                continue
            point_xy, point_conf = apply_recipe(part.xy, part.confidence, recipe)
            take = (confidence[:, dst] <= 0) & (point_conf > 0) & np.isfinite(point_xy).all(axis=1)
            xy[take, dst] = point_xy[take]
            confidence[take, dst] = point_conf[take]
    return Keypoints(target, xy, confidence)


@dataclass(frozen=True)
class Poses:
    """Every detected person in one image, in columns.

    * ``bbox_xywh (n, 4)`` float32, pixels: x, y of the top-left corner, width, height.
    * ``score (n,)`` float32 in 0..1: the person score used to rank detections (COCO AP ranks by it).
    * ``keypoints``: schema name -> :class:`Keypoints`, for example ``"coco17"`` and ``"blazepose33"``.
    * ``world_xyz (n, 33, 3) | None``: BlazePose world coordinates in metres, origin between the
      hips, axes aligned with the image (x right, y down, z away from the camera), in
      ``blazepose33`` order.
    * ``track_id (n,) | None``: stable ids across frames when a tracker produced them.
    * ``image_size``: (height, width) of the image the pixels refer to.
    """

    bbox_xywh: np.ndarray
    score: np.ndarray
    keypoints: Mapping[str, Keypoints]
    image_size: tuple[int, int]
    world_xyz: np.ndarray | None = None
    track_id: np.ndarray | None = None

    def __post_init__(self) -> None:
        bbox = _frozen(np.asarray(self.bbox_xywh, dtype=np.float32).reshape(-1, 4))
        n = bbox.shape[0]
        score = _frozen(np.asarray(self.score, dtype=np.float32).reshape(-1))
        if score.shape != (n,):
            raise ValueError(f"score must be ({n},), got {score.shape}")
        for name, points in self.keypoints.items():
            if len(points) != n:
                raise ValueError(f"keypoints[{name!r}] has {len(points)} people, bbox has {n}")
            if points.schema.name != name:
                raise ValueError(f"keypoints[{name!r}] holds schema {points.schema.name!r}")
        object.__setattr__(self, "bbox_xywh", bbox)
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "keypoints", MappingProxyType(dict(self.keypoints)))
        if self.world_xyz is not None:
            world = _frozen(np.asarray(self.world_xyz, dtype=np.float32))
            if world.ndim != 3 or world.shape[0] != n or world.shape[2] != 3:
                raise ValueError(f"world_xyz must be ({n}, k, 3), got {world.shape}")
            object.__setattr__(self, "world_xyz", world)
        if self.track_id is not None:
            track_id = _frozen(np.asarray(self.track_id, dtype=np.int64).reshape(-1))
            if track_id.shape != (n,):
                raise ValueError(f"track_id must be ({n},), got {track_id.shape}")
            object.__setattr__(self, "track_id", track_id)

    @classmethod
    def empty(cls, image_size: tuple[int, int], schemas: tuple[KeypointSchema, ...] = ()) -> Poses:
        return cls(
            bbox_xywh=np.zeros((0, 4), np.float32),
            score=np.zeros(0, np.float32),
            keypoints={s.name: Keypoints.empty(s) for s in schemas},
            image_size=image_size,
        )

    def __len__(self) -> int:
        return int(self.bbox_xywh.shape[0])

    def __getitem__(self, selector: Selector) -> Poses:
        index = _as_index(selector)
        return Poses(
            bbox_xywh=self.bbox_xywh[index],
            score=self.score[index],
            keypoints={name: points[index] for name, points in self.keypoints.items()},
            image_size=self.image_size,
            world_xyz=None if self.world_xyz is None else self.world_xyz[index],
            track_id=None if self.track_id is None else self.track_id[index],
        )

    def with_track_ids(self, track_id: np.ndarray) -> Poses:
        return replace(self, track_id=track_id)

    def keypoints_in(self, schema: KeypointSchema) -> Keypoints:
        """This schema's keypoints: held, assembled from held parts (whole-body layouts, see
        :func:`assemble`) or converted from a held schema."""
        if schema.name in self.keypoints:
            return self.keypoints[schema.name]
        if schema.name in ASSEMBLIES and any(name in PART_SCHEMAS for name in self.keypoints):
            return assemble(self.keypoints, schema)
        for points in self.keypoints.values():
            if (points.schema.name, schema.name) in CONVERSIONS:
                return points.to(schema)
        if len(self) == 0:
            return Keypoints.empty(schema)
        raise ValueError(f"cannot produce {schema.name} from {', '.join(self.keypoints)}")
