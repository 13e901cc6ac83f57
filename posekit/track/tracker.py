"""Multi-person tracker: stable ids from pose and box overlap, motion prediction and appearance.

Each frame, :meth:`PoseTracker.update` takes that frame's :class:`~posekit.results.Poses` and
returns them with ``track_id`` set (a new object; the input is not changed):

1. every live track predicts where its points are now (constant velocity, fitted to its box
   centre over the last ``velocity_window_s``);
2. people are matched to live tracks by an optimal assignment on ``oks_weight * OKS +
   (1 - oks_weight) * box IoU`` against the prediction;
3. people left over are matched to *lost* tracks (gone less than ``max_lost_s``) by appearance
   (a colour histogram of the torso) gated by where the track could have walked, so a person who
   was occluded or stepped out gets the old id back;
4. anyone still left starts a tentative track.

Lifecycle: ``TENTATIVE`` -> ``CONFIRMED`` after ``min_hits`` frames in a row (at once on the first
frame) -> ``LOST`` when unmatched -> ``REMOVED`` after ``max_lost_s``. A tentative track that
misses a frame is removed. Only confirmed tracks are reported, so a one-frame false detection
never gets an id.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

import cv2
import numpy as np

from posekit.geometry import box_iou_xyxy, pose_oks
from posekit.results import Poses
from posekit.schemas import COCO17, Coco17Keypoint
from posekit.track.assignment import match

logger = logging.getLogger(__name__)

MIN_KEYPOINT_CONFIDENCE = 0.3
APPEARANCE_EVERY = 5  # frames between updates of a track's appearance


class TrackState(enum.Enum):
    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    LOST = "lost"
    REMOVED = "removed"


@dataclass(frozen=True)
class TrackerOptions:
    """* ``match_threshold``: least similarity (0..1) for a person to continue a track.
    * ``oks_weight``: share of OKS in the similarity; the rest is box IoU.
    * ``min_hits``: frames in a row before a new track is confirmed and reported.
    * ``max_lost_s``: how long a lost track waits for its person to come back.
    * ``reid_threshold``: least appearance similarity (histogram correlation) to revive a lost track.
    * ``max_speed``: fastest plausible walk, in person heights per second, for gating re-id.
    * ``max_gap_for_motion_s``: a track lost this recently is matched by pose and box overlap
      with its motion prediction, like a live one; after that only by appearance.
    * ``velocity_window_s``: the velocity is the least-squares slope of the box centre over this
      much of the track's recent past: robust to the box wobbling with the pose (at 30 fps a
      10 px jump between two frames is 300 px/s), and the same at any frame rate. Not to the box
      shrinking to the part left visible when someone walks in front: that moves the centre
      (the points' median shift instead was measured and not kept:
      docs/benchmarks.md#tried-and-rejected).
    """

    match_threshold: float = 0.2
    oks_weight: float = 0.5
    min_hits: int = 2
    max_lost_s: float = 5.0
    reid_threshold: float = 0.6
    max_speed: float = 2.5
    max_gap_for_motion_s: float = 1.0
    velocity_window_s: float = 0.5


@dataclass
class Track:
    """One person across frames (mutable inside the tracker; callers get ``Poses``)."""

    track_id: int
    state: TrackState
    keypoints_xy: np.ndarray  # (17, 2) last observed COCO-17 pixels
    keypoints_confidence: np.ndarray  # (17,)
    box_xyxy: np.ndarray  # (4,)
    time_s: float
    hits: int = 1
    velocity_xy: np.ndarray = field(default_factory=lambda: np.zeros(2))  # pixels / s of the box centre
    appearance: np.ndarray | None = None
    lost_since_s: float | None = None
    centre_history: list[tuple[float, np.ndarray]] = field(default_factory=list)  # (time, box centre)

    @property
    def height_px(self) -> float:
        return float(max(self.box_xyxy[3] - self.box_xyxy[1], 1.0))

    def predicted(self, time_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints and box moved by the track's velocity to ``time_s`` (capped at 1 s ahead)."""
        shift = self.velocity_xy * min(max(time_s - self.time_s, 0.0), 1.0)
        return self.keypoints_xy + shift, self.box_xyxy + np.tile(shift, 2)


def torso_appearance(image_bgr: np.ndarray, keypoints_xy: np.ndarray, confidence: np.ndarray) -> np.ndarray | None:
    """A normalised hue-saturation histogram (8x8) of the person's torso and upper legs.

    The region is the box of shoulders, hips and knees that were seen; clothing colour there is
    a cheap, pose-independent cue for telling people apart. None when the torso is not visible.
    """
    parts = [
        Coco17Keypoint.LEFT_SHOULDER,
        Coco17Keypoint.RIGHT_SHOULDER,
        Coco17Keypoint.LEFT_HIP,
        Coco17Keypoint.RIGHT_HIP,
        Coco17Keypoint.LEFT_KNEE,
        Coco17Keypoint.RIGHT_KNEE,
    ]
    seen = confidence[parts] >= MIN_KEYPOINT_CONFIDENCE
    if seen[:4].sum() < 3:
        return None
    points = keypoints_xy[parts][seen]
    height, width = image_bgr.shape[:2]
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    # Shrink sideways a little: the box of shoulders and hips reaches past the torso's edges.
    margin = (x1 - x0) // 8
    x0, x1 = max(x0 + margin, 0), min(x1 - margin, width)
    y0, y1 = max(y0, 0), min(y1, height)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    hsv = cv2.cvtColor(image_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
    histogram = cv2.calcHist([hsv], [0, 1], None, [8, 8], [0, 180, 0, 256]).reshape(-1)
    total = float(histogram.sum())
    return histogram / total if total > 0 else None


def centre_velocity(history: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """Least-squares velocity (pixels / s) of ``(time, centre)`` samples; zero for fewer than two."""
    times = np.array([t for t, _ in history])
    if len(times) < 2 or np.ptp(times) <= 0:
        return np.zeros(2)
    centres = np.array([c for _, c in history])
    offsets = times - times.mean()
    return (offsets @ (centres - centres.mean(axis=0))) / (offsets @ offsets)


def appearance_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya coefficient of two normalised histograms: 1 for identical, 0 for disjoint."""
    return float(np.sum(np.sqrt(a * b)))


def pose_similarity(
    track_xy: np.ndarray,
    track_confidence: np.ndarray,
    track_boxes: np.ndarray,
    xy: np.ndarray,
    boxes: np.ndarray,
    oks_weight: float,
) -> np.ndarray:
    """``(tracks, people)`` similarity in 0..1: OKS of each person against each track's predicted
    pose (confident track points count, scale from its box), blended with box IoU."""
    if len(track_xy) == 0 or len(xy) == 0:
        return np.zeros((len(track_xy), len(xy)))
    oks = pose_oks(track_xy, track_confidence, track_boxes, xy, COCO17.oks_sigmas(), MIN_KEYPOINT_CONFIDENCE)
    return oks_weight * oks + (1 - oks_weight) * box_iou_xyxy(track_boxes, boxes)


class PoseTracker:
    """Assigns stable ``track_id`` values to the people of successive frames. ``reset()`` forgets all."""

    def __init__(self, options: TrackerOptions | None = None) -> None:
        self.options = options or TrackerOptions()
        self.reset()

    def reset(self) -> None:
        self.tracks: list[Track] = []
        self._next_id = 1
        self._frames_seen = 0
        self.tracks_started = 0
        self.tracks_revived = 0
        self.last_track_ids = np.zeros(0, dtype=np.int64)

    @property
    def live_tracks(self) -> list[Track]:
        return [t for t in self.tracks if t.state in (TrackState.TENTATIVE, TrackState.CONFIRMED)]

    @property
    def lost_tracks(self) -> list[Track]:
        return [t for t in self.tracks if t.state is TrackState.LOST]

    def update(self, poses: Poses, time_s: float, image_bgr: np.ndarray | None = None) -> Poses:
        """``poses`` of the frame at ``time_s`` with ``track_id`` set; people whose track is not
        yet confirmed are left out."""
        first_frame = self._frames_seen == 0
        self._frames_seen += 1
        people = _FramePeople.of(poses, image_bgr)
        assigned: dict[int, Track] = {}
        self._match_by_motion(self.live_tracks, people, time_s, assigned, revive=False)
        # Recently lost tracks by pose and box overlap too (as ByteTrack keeps lost tracks in its
        # matching): a person missed for a few frames reappears about where the track's motion
        # says, even when no clean view of them was ever had for appearance.
        recent = [t for t in self.lost_tracks if time_s - t.time_s <= self.options.max_gap_for_motion_s]
        self._match_by_motion(recent, people, time_s, assigned, revive=True)
        self._match_by_appearance(people, time_s, assigned)
        for i, track in assigned.items():
            # Appearance is learnt every few frames: clothes do not change from frame to frame.
            learn = track.appearance is None or track.hits % APPEARANCE_EVERY == 0
            appearance = people.appearance(i) if learn else None
            self._observe(
                track, people.xy[i], people.confidence[i], people.boxes[i], time_s, appearance, people.boxes, i
            )
        self._start_tracks(people, time_s, assigned, first_frame)
        self._age_unmatched({t.track_id for t in assigned.values()}, time_s)
        # Every input person's track (tentative ones too), for callers keeping per-track state.
        self.last_track_ids = np.array([assigned[i].track_id for i in range(len(poses))], dtype=np.int64)
        reported = [i for i in range(len(poses)) if assigned[i].state is TrackState.CONFIRMED]
        ids = np.array([assigned[i].track_id for i in reported], dtype=np.int64)
        return poses[np.array(reported, dtype=np.int64)].with_track_ids(ids)

    def _match_by_motion(
        self, tracks: list[Track], people: _FramePeople, time_s: float, assigned: dict[int, Track], revive: bool
    ) -> None:
        """Steps 1-3a: people not yet assigned, matched to ``tracks`` by pose and box overlap with
        each track's predicted position."""
        unmatched = [i for i in range(len(people)) if i not in assigned]
        if not tracks or not unmatched:
            return
        similarity = self._motion_similarity(tracks, time_s, people.xy[unmatched], people.boxes[unmatched])
        rows, cols, _, _ = match(1.0 - similarity, 1.0 - self.options.match_threshold)
        for row, col in zip(rows, cols, strict=True):
            if revive:
                self._revive(tracks[row], time_s)
            assigned[unmatched[col]] = tracks[row]

    def _match_by_appearance(self, people: _FramePeople, time_s: float, assigned: dict[int, Track]) -> None:
        """Step 3b: lost tracks, by appearance, where the person could have walked since."""
        unmatched = [i for i in range(len(people)) if i not in assigned]
        lost = [t for t in self.lost_tracks if t.appearance is not None]
        if not lost or not unmatched:
            return
        cost = np.ones((len(lost), len(unmatched)))
        for r, track in enumerate(lost):
            assert track.appearance is not None
            reach = track.height_px * (0.5 + self.options.max_speed * (time_s - track.time_s))
            predicted_box = track.predicted(time_s)[1]
            predicted_centre = (predicted_box[:2] + predicted_box[2:]) / 2
            for c, i in enumerate(unmatched):
                centre = (people.boxes[i, :2] + people.boxes[i, 2:]) / 2
                if np.linalg.norm(centre - predicted_centre) > reach:
                    continue
                candidate = people.appearance(i)
                if candidate is not None:
                    cost[r, c] = 1.0 - appearance_similarity(track.appearance, candidate)
        rows, cols, _, _ = match(cost, 1.0 - self.options.reid_threshold)
        for row, col in zip(rows, cols, strict=True):
            self._revive(lost[row], time_s)
            lost[row].velocity_xy = np.zeros(2)  # after a long gap the old velocity means nothing
            lost[row].centre_history = []
            assigned[unmatched[col]] = lost[row]

    def _start_tracks(self, people: _FramePeople, time_s: float, assigned: dict[int, Track], first_frame: bool) -> None:
        """Step 4: a new tentative track for every person still unassigned."""
        for i in range(len(people)):
            if i in assigned:
                continue
            confirmed = first_frame or self.options.min_hits <= 1
            track = Track(
                track_id=self._next_id,
                state=TrackState.CONFIRMED if confirmed else TrackState.TENTATIVE,
                keypoints_xy=people.xy[i].copy(),
                keypoints_confidence=people.confidence[i].copy(),
                box_xyxy=people.boxes[i].copy(),
                time_s=time_s,
                appearance=people.appearance(i),
            )
            self._next_id += 1
            self.tracks_started += 1
            self.tracks.append(track)
            assigned[i] = track

    def _age_unmatched(self, matched_ids: set[int], time_s: float) -> None:
        """Step 5: tracks nobody matched are lost, or removed when never confirmed or gone too long."""
        for track in self.tracks:
            if track.track_id in matched_ids:
                continue
            if track.state is TrackState.TENTATIVE:
                track.state = TrackState.REMOVED
            elif track.state is TrackState.CONFIRMED:
                track.state = TrackState.LOST
                track.lost_since_s = time_s
            elif track.state is TrackState.LOST and time_s - track.time_s > self.options.max_lost_s:
                track.state = TrackState.REMOVED
        self.tracks = [t for t in self.tracks if t.state is not TrackState.REMOVED]

    def _motion_similarity(self, tracks: list[Track], time_s: float, xy: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """``(tracks, people)`` pose and box similarity against each track's predicted position."""
        predictions = [t.predicted(time_s) for t in tracks]
        return pose_similarity(
            np.array([p[0] for p in predictions]),
            np.array([t.keypoints_confidence for t in tracks]),
            np.array([p[1] for p in predictions]),
            xy,
            boxes,
            self.options.oks_weight,
        )

    def _revive(self, track: Track, time_s: float) -> None:
        logger.debug("track %d revived after %.2fs", track.track_id, time_s - track.time_s)
        track.state = TrackState.CONFIRMED
        track.lost_since_s = None
        self.tracks_revived += 1

    def _observe(
        self,
        track: Track,
        xy: np.ndarray,
        confidence: np.ndarray,
        box: np.ndarray,
        time_s: float,
        appearance: np.ndarray | None,
        all_boxes: np.ndarray,
        index: int,
    ) -> None:
        if not track.centre_history:
            track.centre_history.append((track.time_s, (track.box_xyxy[:2] + track.box_xyxy[2:]) / 2))
        track.centre_history.append((time_s, (box[:2] + box[2:]) / 2))
        start = time_s - self.options.velocity_window_s
        track.centre_history = [(t, c) for t, c in track.centre_history if t >= start - 1e-6]
        track.velocity_xy = centre_velocity(track.centre_history)
        track.keypoints_xy = xy.copy()
        track.keypoints_confidence = confidence.copy()
        track.box_xyxy = box.copy()
        track.time_s = time_s
        track.hits += 1
        if track.state is TrackState.TENTATIVE and track.hits >= self.options.min_hits:
            track.state = TrackState.CONFIRMED
        if appearance is not None:
            # Learn appearance only when nobody overlaps this person, so it stays theirs.
            others = np.delete(all_boxes, index, axis=0)
            overlap = box_iou_xyxy(box[None], others).max() if len(others) else 0.0
            if overlap < 0.05:
                track.appearance = appearance if track.appearance is None else 0.8 * track.appearance + 0.2 * appearance


@dataclass
class _FramePeople:
    """One frame's people as the tracker compares them: COCO-17 points (NaN as 0), boxes x0, y0,
    x1, y1, and each person's torso appearance, computed once and only when asked."""

    xy: np.ndarray
    confidence: np.ndarray
    boxes: np.ndarray
    image_bgr: np.ndarray | None
    _appearances: dict[int, np.ndarray | None] = field(default_factory=dict)

    @staticmethod
    def of(poses: Poses, image_bgr: np.ndarray | None) -> _FramePeople:
        points = poses.keypoints_in(COCO17)
        boxes = np.concatenate([poses.bbox_xywh[:, :2], poses.bbox_xywh[:, :2] + poses.bbox_xywh[:, 2:]], axis=1)
        xy = np.nan_to_num(points.xy.astype(np.float64), nan=0.0)
        return _FramePeople(xy, points.confidence.astype(np.float64), boxes, image_bgr)

    def __len__(self) -> int:
        return len(self.xy)

    def appearance(self, i: int) -> np.ndarray | None:
        if self.image_bgr is None:
            return None
        if i not in self._appearances:
            self._appearances[i] = torso_appearance(self.image_bgr, self.xy[i], self.confidence[i])
        return self._appearances[i]
