"""Pose classes learnt from examples: k nearest neighbours on a normalised pose embedding.

The embedding (after MediaPipe's pose classifier): the COCO-17 body points less the eyes and
ears, moved so the mid-hip is the origin and scaled by the pose size (the larger of 2.5 torso
lengths and the furthest point from the centre), plus a few normalised distances between
points. With ``mirror`` a pose is also compared left-right mirrored, so one example covers both
sides. In video the class votes are smoothed over time (a running mean over ``smooth_s``) and
runs of one class become segments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posekit.analysis.tracks import valid_runs
from posekit.errors import InputError
from posekit.io.writers import atomic_write_json

EMBED_POINTS = (
    "nose",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
_DISTANCES = (
    ("left_wrist", "right_wrist"),
    ("left_ankle", "right_ankle"),
    ("left_wrist", "left_hip"),
    ("right_wrist", "right_hip"),
    ("left_ankle", "left_hip"),
    ("right_ankle", "right_hip"),
    ("left_wrist", "left_ankle"),
    ("right_wrist", "right_ankle"),
)


def _mirror_name(name: str) -> str:
    return name.replace("left_", "#").replace("right_", "left_").replace("#", "right_")


def embed(points: Mapping[str, np.ndarray], mirror: bool = False) -> np.ndarray:
    """``(n, d)`` embeddings of named points ``(n, 2)``; NaN where a point is missing."""
    n = next(iter(points.values())).shape[0]
    names = [_mirror_name(p) for p in EMBED_POINTS] if mirror else list(EMBED_POINTS)
    missing = np.full((n, 2), np.nan)
    xy = np.stack([points.get(name, missing) for name in names], axis=1)
    if mirror:
        xy = xy * np.array([-1.0, 1.0])
    hips = (xy[:, 7] + xy[:, 8]) / 2
    shoulders = (xy[:, 1] + xy[:, 2]) / 2
    torso = np.linalg.norm(shoulders - hips, axis=1)
    centred = xy - hips[:, None]
    size = np.fmax(2.5 * torso, np.nanmax(np.linalg.norm(centred, axis=2), axis=1))
    normalised = centred / size[:, None, None]
    index = {name: i for i, name in enumerate(names)}
    distances = [np.linalg.norm(normalised[:, index[a]] - normalised[:, index[b]], axis=1) for a, b in _DISTANCES]
    return np.concatenate([normalised.reshape(n, -1), np.stack(distances, axis=1)], axis=1)


def _distances(queries: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """(q, s) root mean squared difference over the dimensions both hold."""
    diff = queries[:, None, :] - samples[None, :, :]
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.nanmean(diff**2, axis=2))


@dataclass(frozen=True)
class PoseClassifier:
    """Examples' embeddings ``(m, d)``, their class index ``(m,)`` and the class names."""

    classes: tuple[str, ...]
    embeddings: np.ndarray
    labels: np.ndarray
    k: int = 5
    mirror: bool = True
    smooth_s: float = 0.5

    def votes(self, points: Mapping[str, np.ndarray], exclude: np.ndarray | None = None) -> np.ndarray:
        """``(n, classes)`` share of the k nearest examples in each class (NaN rows: no pose)."""
        queries = embed(points)
        distance = _distances(queries, self.embeddings)
        if self.mirror:
            distance = np.fmin(distance, _distances(embed(points, mirror=True), self.embeddings))
        if exclude is not None:
            distance[:, exclude] = np.inf
        distance = np.where(np.isfinite(distance), distance, np.inf)
        k = min(self.k, max(1, self.embeddings.shape[0] - (0 if exclude is None else int(exclude.sum()))))
        nearest = np.argsort(distance, axis=1)[:, :k]
        out = np.zeros((queries.shape[0], len(self.classes)))
        for column in range(k):
            out[np.arange(out.shape[0]), self.labels[nearest[:, column]]] += 1.0 / k
        out[~np.isfinite(queries).any(axis=1)] = np.nan
        return out

    def predict(self, points: Mapping[str, np.ndarray]) -> list[str | None]:
        votes = self.votes(points)
        return [None if not np.isfinite(v).all() else self.classes[int(np.argmax(v))] for v in votes]

    def segments(
        self, points: Mapping[str, np.ndarray], timestamp_s: np.ndarray, sound: np.ndarray
    ) -> list[tuple[int, int, str]]:
        """``(start row, stop row, class)`` runs of the temporally smoothed class."""
        votes = self.votes(points)
        votes[~sound] = np.nan
        fps = 1.0 / max(1e-6, float(np.median(np.diff(timestamp_s)))) if timestamp_s.size > 1 else 30.0
        width = max(1, min(timestamp_s.size, int(self.smooth_s * fps)))
        kernel = np.ones(width) / width
        known = np.isfinite(votes).all(axis=1)
        filled = np.where(known[:, None], votes, 0.0)
        weight = np.convolve(known.astype(float), kernel, mode="same")
        smooth = np.stack([np.convolve(filled[:, c], kernel, mode="same") for c in range(votes.shape[1])], axis=1)
        label = np.where(known & (weight > 0), np.argmax(smooth, axis=1), -1)
        found = []
        for start, stop in valid_runs(label >= 0):
            edges = np.flatnonzero(np.diff(label[start:stop])) + 1 + start
            bounds = [start, *edges.tolist(), stop]
            found += [
                (a, b, self.classes[int(label[a])])
                for a, b in zip(bounds, bounds[1:], strict=False)
                if b - a >= width // 2
            ]
        return found

    def leave_one_out_accuracy(self, groups: np.ndarray, mirrored: np.ndarray | None = None) -> float:
        """Share of example poses predicted right from all the other examples (one image or clip
        is one group, left out whole); ``mirrored`` the examples' mirrored embeddings, used as
        :meth:`votes` uses them."""
        correct = total = 0
        for group in np.unique(groups):
            members = groups == group
            distance = _distances(self.embeddings[members], self.embeddings)
            if self.mirror and mirrored is not None:
                distance = np.fmin(distance, _distances(mirrored[members], self.embeddings))
            distance[:, members] = np.inf
            distance = np.where(np.isfinite(distance), distance, np.inf)
            k = min(self.k, max(1, int((~members).sum())))
            nearest = np.argsort(distance, axis=1)[:, :k]
            votes = np.zeros((int(members.sum()), len(self.classes)))
            for column in range(k):
                votes[np.arange(votes.shape[0]), self.labels[nearest[:, column]]] += 1.0
            correct += int(np.sum(np.argmax(votes, axis=1) == self.labels[members]))
            total += int(members.sum())
        return correct / total if total else float("nan")

    def save(self, path: Path) -> None:
        atomic_write_json(
            path,
            {
                "format": "posekit-pose-classifier",
                "version": 1,
                "classes": list(self.classes),
                "k": self.k,
                "mirror": self.mirror,
                "smooth_s": self.smooth_s,
                "labels": self.labels.tolist(),
                "embeddings": [
                    [None if not np.isfinite(v) else round(float(v), 5) for v in row] for row in self.embeddings
                ],
            },
        )

    @classmethod
    def load(cls, path: Path) -> PoseClassifier:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("format") != "posekit-pose-classifier":
                raise ValueError("not a posekit pose classifier file")
            embeddings = np.array(data["embeddings"], dtype=np.float64)
            return cls(
                tuple(data["classes"]),
                embeddings,
                np.asarray(data["labels"], np.int64),
                int(data["k"]),
                bool(data["mirror"]),
                float(data["smooth_s"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(str(path), f"cannot read the classifier ({exc})") from exc


def fit(
    examples: Sequence[tuple[str, str, Mapping[str, np.ndarray]]], *, k: int = 5, mirror: bool = True
) -> tuple[PoseClassifier, np.ndarray, np.ndarray]:
    """A classifier from ``(class, example id, named points)``, each row's example group and the
    rows' mirrored embeddings (for :meth:`PoseClassifier.leave_one_out_accuracy`)."""
    classes = tuple(sorted({c for c, _, _ in examples}))
    rows, mirrored, labels, groups = [], [], [], []
    group_ids: dict[str, int] = {}
    for class_name, example_id, points in examples:
        vectors = embed(points)
        keep = np.isfinite(vectors).sum(axis=1) > vectors.shape[1] // 2
        rows.append(vectors[keep])
        mirrored.append(embed(points, mirror=True)[keep])
        labels += [classes.index(class_name)] * int(keep.sum())
        groups += [group_ids.setdefault(example_id, len(group_ids))] * int(keep.sum())
    if not labels:
        raise InputError("examples", "no usable poses in the examples")
    model = PoseClassifier(classes, np.concatenate(rows), np.asarray(labels, np.int64), k, mirror)
    return model, np.asarray(groups), np.concatenate(mirrored)
