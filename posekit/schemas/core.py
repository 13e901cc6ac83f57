"""The schema and conversion types every family module builds on.

A :class:`KeypointSchema` is a named layout: point names, 0-based drawing edges, optional OKS
sigmas and optional named *parts* (index ranges such as ``body``, ``face``, ``left_hand``) that
drawing and evaluation use. A :class:`Conversion` builds each target point as a weighted mean of
source points; a target point whose sources are missing gets NaN and confidence 0, never a fake
``(0, 0)`` location with a score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

Recipe = tuple[tuple[int, float], ...]
"""``(source_index, weight)`` pairs; the target point is their weighted mean (empty: no source)."""


@dataclass(frozen=True)
class KeypointSchema:
    """A named keypoint layout.

    ``edges`` are 0-based index pairs used for drawing. ``sigmas`` are the per-keypoint OKS
    constants (``None`` when the layout is not scored by OKS). ``parts`` names contiguous index
    ranges ``(name, start, stop)`` that cover the layout, e.g. COCO-WholeBody's
    ``body, foot, face, left_hand, right_hand``; a single-part layout leaves it empty.
    """

    name: str
    keypoint_names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    sigmas: np.ndarray | None = field(default=None, compare=False)
    parts: tuple[tuple[str, int, int], ...] = ()

    def __post_init__(self) -> None:
        k = len(self.keypoint_names)
        if len(set(self.keypoint_names)) != k:
            raise ValueError(f"schema {self.name}: keypoint names are not unique")
        for a, b in self.edges:
            if not (0 <= a < k and 0 <= b < k):
                raise ValueError(f"schema {self.name}: edge ({a}, {b}) out of range for {k} keypoints")
        if self.sigmas is not None:
            sigmas = np.asarray(self.sigmas, dtype=np.float64)
            if sigmas.shape != (k,):
                raise ValueError(f"schema {self.name}: sigmas shape {sigmas.shape} != ({k},)")
            sigmas.setflags(write=False)
            object.__setattr__(self, "sigmas", sigmas)
        if self.parts:
            stops = [start for _, start, _ in self.parts[1:]] + [k]
            if self.parts[0][1] != 0 or any(
                stop != next_start for (_, _, stop), next_start in zip(self.parts, stops, strict=True)
            ):
                raise ValueError(f"schema {self.name}: parts must be contiguous and cover all {k} points")

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

    def part(self, part_name: str) -> slice:
        """The index range of a named part (``schema.part("face")``)."""
        for name, start, stop in self.parts:
            if name == part_name:
                return slice(start, stop)
        raise ValueError(f"schema {self.name} has no part {part_name!r}")

    def part_of_each(self) -> tuple[str, ...]:
        """``(k,)`` part name of every point (the schema's name for a single-part layout)."""
        if not self.parts:
            return (self.name,) * self.num_keypoints
        return tuple(name for name, start, stop in self.parts for _ in range(start, stop))

    def __repr__(self) -> str:
        return f"KeypointSchema({self.name!r}, {self.num_keypoints} keypoints)"


def named_edges(names: Sequence[str], pairs: Iterable[tuple[str, str]]) -> tuple[tuple[int, int], ...]:
    """Edges given by point names, as index pairs."""
    return tuple((names.index(a), names.index(b)) for a, b in pairs)


def offset_edges(edges: Iterable[tuple[int, int]], offset: int) -> tuple[tuple[int, int], ...]:
    return tuple((a + offset, b + offset) for a, b in edges)


def chain(indices: Sequence[int], closed: bool = False) -> list[tuple[int, int]]:
    """Edges along a polyline of point indices (closed: back to the first)."""
    pairs = list(zip(indices[:-1], indices[1:], strict=True))
    return pairs + [(indices[-1], indices[0])] if closed else pairs


@dataclass(frozen=True)
class Conversion:
    """How to build each target keypoint from source keypoints.

    ``sources[i]`` is a :data:`Recipe` for target point ``i``; an empty tuple means the source
    schema has no such point. The target location is the weighted mean; its confidence is the
    minimum of the contributing confidences (a derived point is only as sure as its least sure
    input).
    """

    source: KeypointSchema
    target: KeypointSchema
    sources: tuple[Recipe, ...]

    def __post_init__(self) -> None:
        if len(self.sources) != self.target.num_keypoints:
            raise ValueError(f"conversion {self.source.name}->{self.target.name}: wrong number of targets")
        k = self.source.num_keypoints
        if any(not 0 <= i < k for recipe in self.sources for i, _ in recipe):
            raise ValueError(f"conversion {self.source.name}->{self.target.name}: source index out of range")


def by_name(
    source: KeypointSchema,
    target: KeypointSchema,
    recipes: Mapping[str, Sequence[tuple[str, float]]] | None = None,
) -> Conversion:
    """A conversion where same-named points copy and ``recipes`` (by target name) override."""
    recipes = recipes or {}
    sources: list[Recipe] = []
    for name in target.keypoint_names:
        if name in recipes:
            sources.append(tuple((source.index(src), float(w)) for src, w in recipes[name]))
        elif name in source.keypoint_names:
            sources.append(((source.index(name), 1.0),))
        else:
            sources.append(())
    return Conversion(source, target, tuple(sources))


def by_index(source: KeypointSchema, target: KeypointSchema, indices: Sequence[int | Recipe]) -> Conversion:
    """A conversion where target point ``i`` is source point ``indices[i]`` (or a recipe)."""
    sources = tuple(((int(i), 1.0),) if isinstance(i, int | np.integer) else tuple(i) for i in indices)
    return Conversion(source, target, sources)


def apply_recipe(xy: np.ndarray, confidence: np.ndarray, recipe: Recipe) -> tuple[np.ndarray, np.ndarray]:
    """One target point for ``n`` people: ``(xy (n, 2), confidence (n,))`` from a recipe."""
    idx = np.array([i for i, _ in recipe])
    weights = np.array([w for _, w in recipe], dtype=np.float32)
    point = np.einsum("nkc,k->nc", xy[:, idx], weights / weights.sum())
    return point, confidence[:, idx].min(axis=1)


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
        if recipe:
            out_xy[:, dst], out_conf[:, dst] = apply_recipe(xy, confidence, recipe)
    return out_xy, out_conf


def compose(first: Conversion, second: Conversion) -> Conversion:
    """``first`` then ``second`` as one conversion (``first.target`` must be ``second.source``).

    Weighted means compose into weighted means, and a target point needs every intermediate
    point it uses, so the result equals converting twice, in one step.
    """
    if first.target.name != second.source.name:
        raise ValueError(f"cannot compose {first.source.name}->{first.target.name} with {second.source.name}->...")
    sources: list[Recipe] = []
    for recipe in second.sources:
        total = sum(w for _, w in recipe)
        if not recipe or any(not first.sources[i] for i, _ in recipe):
            sources.append(())
            continue
        combined: dict[int, float] = {}
        for i, w in recipe:
            inner_total = sum(v for _, v in first.sources[i])
            for j, v in first.sources[i]:
                combined[j] = combined.get(j, 0.0) + (w / total) * (v / inner_total)
        sources.append(tuple(combined.items()))
    return Conversion(first.source, second.target, tuple(sources))
