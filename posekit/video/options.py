"""What configures the video pipeline: :class:`VideoOptions`, and what it counts: :class:`VideoStats`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from posekit.errors import UsageError
from posekit.image.options import EstimatorOptions
from posekit.track.smoothing import OneEuroOptions, RtsOptions
from posekit.track.tracker import TrackerOptions

Smoothing = Literal["online", "offline", "none"]


def _video_estimator_defaults() -> EstimatorOptions:
    # Lightning for far people, Thunder for near ones, no BlazePose: real time with several people
    # on 2 cores; see docs/benchmarks.md#video-speed.
    # No palm search for unsure hands: in video, a hand found once is followed by its own ROI.
    return EstimatorOptions(keypoint_model="auto", landmark_model="none", hand_search=False)


@dataclass(frozen=True)
class VideoOptions:
    """Everything that configures a :class:`VideoPoseEstimator`.

    * ``estimator``: the models (see :class:`~posekit.image.EstimatorOptions`); the video
      default is MoveNet Lightning per person (Thunder for people larger than its input) and
      no BlazePose, for speed.
    * ``propagate``: follow each person's ROI from the last frame (False: detect every frame).
    * ``redetect_interval_s``: seconds between detector passes looking for new people (0: only
      when a track is lost or nobody is tracked); in seconds, so the detector's share of the
      time does not grow with the frame rate. Each pass looks at one region in turn: the
      whole image, then tiles of at least ``min_tile_px`` (half the longer side) for small people.
    * ``scene_cut_threshold``: mean absolute difference of downscaled grey frames (0..255)
      above which the frame counts as a cut: ROIs are not propagated across it.
    * ``min_track_score``: a propagated person whose mean keypoint confidence falls below this
      has left (or the ROI slid off them); ``new_track_score``: what a newly detected person
      needs to be reported.
    * ``roi_smoothing``: share of last frame's crop (moved by the track's velocity) blended into
      a propagated crop; 0 uses this frame's keypoints alone (0.3 chosen on the synthetic
      sequences of ``bench/bench_video.py``: docs/benchmarks.md#tracking).
    * ``follow_lost_s``: how long a lost person's ROI keeps moving with their last velocity (one
      keypoint-model call per frame each), so someone who walked behind another person is
      found again the frame they reappear; 0: lost people wait for the detector.
    * ``look_behind``: on frames the detector runs, run it once more where it looked with the
      people found painted over, so someone mostly hidden behind another (walking in step with
      them, or in a group) is found: one more detector pass per region that holds someone.
    * ``smoothing``: ``online`` (One Euro, here), ``offline`` (call :func:`smooth_sequence` on
      the whole result) or ``none``.
    """

    estimator: EstimatorOptions = field(default_factory=_video_estimator_defaults)
    propagate: bool = True
    redetect_interval_s: float = 0.5
    min_tile_px: int = 256
    scene_cut_threshold: float = 40.0
    min_track_score: float = 0.25
    new_track_score: float = 0.4
    new_person_iou: float = 0.3
    roi_smoothing: float = 0.3
    follow_lost_s: float = 0.5
    look_behind: bool = True
    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    smoothing: Smoothing = "online"
    one_euro: OneEuroOptions = field(default_factory=OneEuroOptions)
    rts: RtsOptions = field(default_factory=RtsOptions)

    def __post_init__(self) -> None:
        if self.smoothing not in ("online", "offline", "none"):
            raise UsageError(f"smoothing must be online, offline or none; got {self.smoothing!r}")
        if self.redetect_interval_s < 0:
            raise UsageError(f"redetect_interval_s must be >= 0, got {self.redetect_interval_s}")
        if self.follow_lost_s < 0:
            raise UsageError(f"follow_lost_s must be >= 0, got {self.follow_lost_s}")
        if self.estimator.detector == "movenet" and self.estimator.keypoint_model == "none" and self.propagate:
            raise UsageError("ROI propagation needs a per-person model: keypoint_model thunder, lightning or auto")
        if self.estimator.landmark_model == "auto":
            # Per frame, BlazePose heavy (the image default with whole_body) costs several times
            # full's time per person (docs/benchmarks.md#model-times): video takes full unless asked.
            object.__setattr__(self, "estimator", replace(self.estimator, landmark_model="full"))


@dataclass
class VideoStats:
    frames: int = 0
    detector_frames: int = 0  # frames on which the detector ran
    detector_runs: int = 0  # detector passes (a frame can scan several regions)
    people: int = 0
    scene_cuts: int = 0
