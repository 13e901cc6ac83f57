"""What configures the image pipeline: :class:`EstimatorOptions` and the model names it takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from posekit.errors import UsageError

LandmarkModel = Literal["lite", "full", "heavy", "auto", "none"]
KeypointModel = Literal["thunder", "lightning", "auto", "none"]
DetectorName = Literal["movenet", "blazepose"]
HandModel = Literal["lite", "full"]


@dataclass(frozen=True)
class EstimatorOptions:
    """Everything that configures a :class:`PoseEstimator`.

    * ``detector``: ``movenet`` (MoveNet MultiPose, up to 6 people per image) or ``blazepose``
      (BlazePose's detector: mostly one person, for single-person footage).
    * ``keypoint_model``: per-person COCO-17 model, ``thunder`` (accurate), ``lightning``
      (several times faster, less accurate), ``auto`` (Lightning for people whose crop fits its
      192 px input, Thunder for larger ones: accuracy for the few near people, speed for crowds of
      far ones; a person alone gets Thunder at a 192 px input, faster and nearly as accurate
      alone; the video default) or ``none`` (keep the detector's own keypoints). See
      docs/benchmarks.md#images and #keypoint-model-by-size.
    * ``landmark_model``: BlazePose size for the 33 landmarks and world coordinates,
      ``lite`` | ``full`` | ``heavy``, ``none`` to skip them (COCO-17 only), or ``auto`` (the
      default): ``full``, and ``heavy`` with ``whole_body``, whose hand and face ROIs come from
      BlazePose's points (heavy places them better, at more time per person: see
      docs/benchmarks.md#whole-body); video (:class:`~posekit.video.VideoOptions`) takes full.
      See :attr:`resolved_landmark_model`.
    * ``landmark_refine``: run BlazePose twice, the second time on the ROI its own alignment
      points give (as MediaPipe does across frames).
    * ``min_person_score``: people scoring below this are dropped; a person's score is the
      expected OKS of their pose (:mod:`posekit.image.scoring`). ``max_people``: at most this
      many people per image, the best scored (no other limit: crowds are tiled, see
      ``min_tile_px``).
    * ``min_tile_px``: images whose shorter side is at least this are searched at several
      scales: the whole image, then overlapping square tiles of the short side, half of it, and
      so on down to this size (0: whole image only); a crowd of small people is found in full.
    * ``pose_nms_oks``: two poses this similar (OKS) are one person.
    * ``reread_hidden``: when the keypoint model's reading of a detected person is dropped as a
      duplicate of someone kept (it read the person in front), read that box again with the kept
      people painted over (:func:`~posekit.image.occlusion.reread_hidden_people`); one more
      model call per such box.
      In video for tracked and followed lost people whose ROI read someone else, kept only
      when the new reading matches their predicted pose (without that test, re-reading tracked
      people handed people to the wrong track); not for new detections (it made tracks of
      half-people).
    * ``num_threads``: CPU threads per model. ``max_image_pixels``: larger images are refused.
    * ``whole_body``: also hands (``hand_left21``, ``hand_right21``, with ``hand_model`` lite or
      full) and face (``face68``; ``face468`` too with ``face_mesh``) for every person, placed
      from BlazePose's landmarks (needs a landmark model). ``hand_search``: when the hand model
      is unsure in the ROI the body gives, search around it with the palm detector (one
      palm-detector pass per unsure hand; docs/benchmarks.md#whole-body).
    """

    detector: DetectorName = "movenet"
    keypoint_model: KeypointModel = "thunder"
    landmark_model: LandmarkModel = "auto"
    landmark_refine: bool = False
    min_person_score: float = 0.25
    detector_min_score: float = 0.1
    min_tile_px: int = 512
    max_people: int = 1000
    pose_nms_oks: float = 0.5
    reread_hidden: bool = True
    num_threads: int = 2
    max_image_pixels: int = 50_000_000
    whole_body: bool = False
    hand_model: HandModel = "full"
    face_mesh: bool = False
    hand_search: bool = True

    def __post_init__(self) -> None:
        choices = {
            "detector": ("movenet", "blazepose"),
            "keypoint_model": ("thunder", "lightning", "auto", "none"),
            "landmark_model": ("lite", "full", "heavy", "auto", "none"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise UsageError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        if self.max_people < 1:
            raise UsageError(f"max_people must be at least 1, got {self.max_people}")
        if self.hand_model not in ("lite", "full"):
            raise UsageError(f"hand_model must be lite or full; got {self.hand_model!r}")
        if self.whole_body and self.landmark_model == "none":
            raise UsageError("whole_body places hands and face from BlazePose: pick landmark_model lite, full or heavy")
        if self.detector == "blazepose" and self.landmark_model == "none":
            raise UsageError("detector='blazepose' needs a landmark model; pick landmark_model lite, full or heavy")

    @property
    def resolved_landmark_model(self) -> LandmarkModel:
        """The BlazePose model that runs: ``auto`` is ``heavy`` with ``whole_body``, else ``full``."""
        if self.landmark_model == "auto":
            return "heavy" if self.whole_body else "full"
        return self.landmark_model
