"""Which 2D person in each view is which 3D person, frame by frame, with stable 3D track ids.

Per frame (:meth:`MultiViewTracker.update`):

1. every 3D track seen lately is projected into each view and matched (Hungarian) to the 2D
   people there, by the distance between its projection and their keypoints as a share of their
   box height (half price for the 2D track that was this 3D track's last time);
2. the 2D people left are grouped across views by the distance between their keypoints' rays
   (greedy, closest pairs first, at most one person per view in a group, every pair in a group
   close), as MVPose and EasyMocap group by geometric affinity;
3. all groups are triangulated in one batch (:func:`~posekit.multiview.triangulation.triangulate`);
   a view whose points mostly disagree with the group's 3D points leaves the group;
4. new groups take the id of a lost track they stand where (3D distance), else a new id.

People seen by one view only are returned as such, not triangulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.multiview.triangulation import (
    RigArrays,
    TriangulationOptions,
    project_normalised,
    ray_distances,
    triangulate,
)


@dataclass(frozen=True)
class AssociationOptions:
    """``max_ray_distance_m``: two views' people whose keypoint rays pass farther apart (median)
    are not one person; ``track_match_share``: a 2D person farther than this share of their box
    height from a track's projection is not that track; ``max_lost_frames``: a track unseen this
    long is dropped; ``rejoin_distance_m``: a new group this close to a lost track takes its id;
    ``min_points``: a group with fewer triangulated points is not reported;
    ``min_view_inlier_share``: a view whose share of agreeing points is lower leaves its group."""

    max_ray_distance_m: float = 0.2
    track_match_share: float = 0.25
    max_lost_frames: int = 60
    rejoin_distance_m: float = 0.6
    min_points: int = 6
    min_view_inlier_share: float = 0.3
    triangulation: TriangulationOptions = field(default_factory=TriangulationOptions)


@dataclass(frozen=True)
class ViewPeople:
    """One view's people in one frame: ``normalised (n, k, 2)`` undistorted coordinates,
    ``confidence (n, k)``, ``track_id (n,)`` 2D ids, ``height_px (n,)`` box heights."""

    normalised: np.ndarray
    confidence: np.ndarray
    track_id: np.ndarray
    height_px: np.ndarray

    def __len__(self) -> int:
        return int(self.normalised.shape[0])


@dataclass(frozen=True)
class Person3D:
    """One triangulated person: ``xyz (k, 3)`` world units (NaN missing), ``score (k,)``,
    ``members`` view index -> that view's person index, ``inliers (V, k)``, ``error_px (V, k)``."""

    track_id: int
    xyz: np.ndarray
    score: np.ndarray
    members: dict[int, int]
    inliers: np.ndarray
    error_px: np.ndarray

    @property
    def views(self) -> list[int]:
        return [view for view in sorted(self.members) if self.inliers[view].any()]

    @property
    def mean_error_px(self) -> float:
        values = self.error_px[self.inliers]
        return float(np.mean(values)) if values.size else float("nan")


@dataclass(frozen=True)
class FrameResult:
    people: list[Person3D]
    single_view: list[tuple[int, int]]  # (view index, person index) seen by one view only


@dataclass
class _Track:
    track_id: int
    xyz: np.ndarray
    last_frame: int
    members_2d: dict[int, int]  # view -> 2D track id


class MultiViewTracker:
    """Associates and triangulates frame by frame; ``update()`` per frame, ``reset()`` to start over."""

    def __init__(self, rig: RigArrays, options: AssociationOptions | None = None) -> None:
        self.rig = rig
        self.options = options or AssociationOptions()
        self.reset()

    def reset(self) -> None:
        self._tracks: dict[int, _Track] = {}
        self._next_id = 1
        self._frame = -1

    def update(self, views: list[ViewPeople]) -> FrameResult:
        self._frame += 1
        options = self.options
        live = [t for t in self._tracks.values() if self._frame - t.last_frame <= options.max_lost_frames]
        self._tracks = {t.track_id: t for t in live}
        groups, track_of_group = self._match_tracks(views, live)
        taken = {(view, person) for members in groups for view, person in members.items()}
        new_groups = self._group_by_rays(views, taken)
        groups += new_groups
        track_of_group += [None] * len(new_groups)
        people, single = self._triangulate_groups(views, groups)
        kept_people, kept_tracks = [], []
        for person, track in zip(people, track_of_group, strict=True):
            if person is not None:
                kept_people.append(person)
                kept_tracks.append(track)
            else:
                continue
        final = self._assign_ids(views, kept_people, kept_tracks)
        used = {(view, person.members[view]) for person in final for view in person.views}
        single_view = [
            (view, index)
            for view in range(len(views))
            for index in range(len(views[view]))
            if (view, index) not in used
        ]
        single_view = [item for item in single_view if item in set(single) or self._seen_enough(views, item)]
        return FrameResult(final, single_view)

    def _seen_enough(self, views: list[ViewPeople], item: tuple[int, int]) -> bool:
        view, index = item
        return int((views[view].confidence[index] >= self.options.triangulation.min_confidence).sum()) >= 5

    def _match_tracks(self, views: list[ViewPeople], tracks: list[_Track]) -> tuple[list[dict[int, int]], list]:
        if not tracks:
            return [], []
        predicted = project_normalised(self.rig, np.concatenate([t.xyz for t in tracks]))  # (V, T*k, 2)
        k = tracks[0].xyz.shape[0]
        predicted = predicted.reshape(len(views), len(tracks), k, 2)
        members: list[dict[int, int]] = [{} for _ in tracks]
        min_conf = self.options.triangulation.min_confidence
        for view, people in enumerate(views):
            if not len(people):
                continue
            delta = predicted[view][:, None] - people.normalised[None]  # (T, n, k, 2)
            distance_px = np.linalg.norm(delta, axis=-1) * self.rig.focal[view]
            valid = (people.confidence[None] >= min_conf) & np.isfinite(distance_px)
            masked = np.where(valid, distance_px, np.nan)
            cost = fast_nanmedian(masked) / np.maximum(people.height_px[None], 1.0)
            cost[valid.sum(axis=-1) < 4] = np.inf
            for t, track in enumerate(tracks):
                same = people.track_id == track.members_2d.get(view, -2)
                cost[t, same & (people.track_id >= 0)] *= 0.5
            cost = np.nan_to_num(cost, nan=np.inf)
            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e6))
            for row, col in zip(rows, cols, strict=True):
                if cost[row, col] < self.options.track_match_share:
                    members[row][view] = int(col)
        groups, owners = [], []
        for track, group in zip(tracks, members, strict=True):
            if group:
                groups.append(group)
                owners.append(track)
        return groups, owners

    def _group_by_rays(self, views: list[ViewPeople], taken: set[tuple[int, int]]) -> list[dict[int, int]]:
        nodes = [(v, i) for v, people in enumerate(views) for i in range(len(people)) if (v, i) not in taken]
        if len(nodes) < 2:
            return []
        min_conf = self.options.triangulation.min_confidence
        limit = self.options.max_ray_distance_m
        distance: dict[tuple[int, int], float] = {}
        pairs = []
        for a in range(len(nodes)):
            for b in range(a + 1, len(nodes)):
                (va, ia), (vb, ib) = nodes[a], nodes[b]
                if va == vb:
                    continue
                both = (views[va].confidence[ia] >= min_conf) & (views[vb].confidence[ib] >= min_conf)
                if both.sum() < 4:
                    continue
                rays = ray_distances(self.rig, views[va].normalised[ia][both], va, views[vb].normalised[ib][both], vb)
                value = float(np.median(rays))
                distance[(a, b)] = distance[(b, a)] = value
                if value < limit:
                    pairs.append((value, a, b))
        cluster_of = list(range(len(nodes)))
        clusters: dict[int, set[int]] = {i: {i} for i in range(len(nodes))}
        for _, a, b in sorted(pairs):
            ca, cb = cluster_of[a], cluster_of[b]
            if ca == cb:
                continue
            if {nodes[i][0] for i in clusters[ca]} & {nodes[i][0] for i in clusters[cb]}:
                continue
            if any(distance.get((i, j), np.inf) > 1.5 * limit for i in clusters[ca] for j in clusters[cb]):
                continue
            for i in clusters[cb]:
                cluster_of[i] = ca
            clusters[ca] |= clusters.pop(cb)
        return [{nodes[i][0]: nodes[i][1] for i in members} for members in clusters.values() if len(members) >= 2]

    def _triangulate_groups(
        self, views: list[ViewPeople], groups: list[dict[int, int]]
    ) -> tuple[list[Person3D | None], list[tuple[int, int]]]:
        if not groups:
            return [], []
        k = views[0].normalised.shape[1] if views else 0
        n_views = len(views)
        normalised = np.full((n_views, len(groups), k, 2), np.nan)
        confidence = np.zeros((n_views, len(groups), k))
        for g, members in enumerate(groups):
            for view, person in members.items():
                normalised[view, g] = views[view].normalised[person]
                confidence[view, g] = views[view].confidence[person]
        result = triangulate(
            self.rig, normalised.reshape(n_views, -1, 2), confidence.reshape(n_views, -1), self.options.triangulation
        )
        xyz = result.xyz.reshape(len(groups), k, 3)
        inliers = result.inliers.reshape(n_views, len(groups), k)
        error = result.error_px.reshape(n_views, len(groups), k)
        people: list[Person3D | None] = []
        dropped: list[tuple[int, int]] = []
        for g, members in enumerate(groups):
            kept = {}
            for view, person in members.items():
                seen = confidence[view, g] >= self.options.triangulation.min_confidence
                share = inliers[view, g][seen].mean() if seen.any() else 0.0
                if share >= self.options.min_view_inlier_share:
                    kept[view] = person
                else:
                    dropped.append((view, person))
            valid = np.isfinite(xyz[g]).all(axis=1)
            if len(kept) < 2 or valid.sum() < self.options.min_points:
                people.append(None)
                dropped += [(view, person) for view, person in kept.items()]
                continue
            used = inliers[:, g]
            score = np.where(used, confidence[:, g], 0.0).sum(axis=0) / np.maximum(used.sum(axis=0), 1)
            people.append(Person3D(0, xyz[g], np.where(valid, score, 0.0), kept, used, error[:, g]))
        return people, dropped

    def _assign_ids(self, views: list[ViewPeople], people: list[Person3D], tracks: list) -> list[Person3D]:
        from dataclasses import replace

        claimed = {track.track_id for track in tracks if track is not None}
        lost = [t for t in self._tracks.values() if t.track_id not in claimed]
        fresh = [i for i, track in enumerate(tracks) if track is None]
        if lost and fresh:
            cost = np.array([[_pose_distance(people[i].xyz, t.xyz) for t in lost] for i in fresh])
            rows, cols = linear_sum_assignment(np.nan_to_num(cost, nan=1e6, posinf=1e6))
            for row, col in zip(rows, cols, strict=True):
                if cost[row, col] < self.options.rejoin_distance_m:
                    tracks[fresh[row]] = lost[col]
        out = []
        for person, track in zip(people, tracks, strict=True):
            if track is None:
                track = _Track(self._next_id, person.xyz, self._frame, {})
                self._next_id += 1
                self._tracks[track.track_id] = track
            xyz = np.where(np.isfinite(person.xyz), person.xyz, track.xyz)
            track.xyz, track.last_frame = xyz, self._frame
            track.members_2d = {view: int(views[view].track_id[index]) for view, index in person.members.items()}
            out.append(replace(person, track_id=track.track_id))
        return out


def fast_nanmedian(values: np.ndarray) -> np.ndarray:
    """Median over the last axis ignoring NaN (NaN where all are): a sort, faster than
    ``np.nanmedian`` on the many small arrays here."""
    ordered = np.sort(values, axis=-1)  # NaN sorts last
    count = np.isfinite(values).sum(axis=-1)
    low = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[..., None], axis=-1)[..., 0]
    high = np.take_along_axis(ordered, np.maximum(count // 2, 0)[..., None], axis=-1)[..., 0]
    return np.where(count > 0, 0.5 * (low + high), np.nan)


def _pose_distance(a: np.ndarray, b: np.ndarray) -> float:
    both = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    if both.sum() < 3:
        return float("inf")
    return float(np.median(np.linalg.norm(a[both] - b[both], axis=1)))
