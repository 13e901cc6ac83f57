"""The API's options and answers as Pydantic models.

Each options model holds the same names as the command line's flags (without dashes) and turns
into posekit's own options through the same functions the CLI uses
(:func:`posekit.cli.options.options_from_args`, :func:`posekit.cli.track.video_options_from_args`),
so a request and a command with the same options run the same models.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from posekit import EstimatorOptions, VideoOptions
from posekit.cli.options import add_estimator_arguments, options_from_args
from posekit.cli.track import add_model_and_tracking_arguments, video_options_from_args

_IMAGE = EstimatorOptions()
_VIDEO = VideoOptions()

Detector = Literal["movenet", "blazepose"]
KeypointModel = Literal["thunder", "lightning", "auto", "none"]
LandmarkModel = Literal["auto", "lite", "full", "heavy", "none"]
HandModel = Literal["lite", "full"]


def _cli_defaults(add_arguments: Callable[[argparse.ArgumentParser], None]) -> dict[str, Any]:
    """The defaults of the command's own flags, so a flag the API does not expose keeps the CLI's."""
    parser = argparse.ArgumentParser(add_help=False)
    add_arguments(parser)
    return vars(parser.parse_args([]))


_IMAGE_ARGS = _cli_defaults(add_estimator_arguments)
_VIDEO_ARGS = {**_cli_defaults(add_model_and_tracking_arguments), "smooth": _VIDEO.smoothing}


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def as_args(self, threads: int, base: dict[str, Any], exclude: set[str] | None = None) -> argparse.Namespace:
        return argparse.Namespace(**{**base, **self.model_dump(exclude=exclude), "threads": threads})


class PoseQuery(_Options):
    """``POST /v1/poses`` options: ``posekit predict``'s model flags, plus ``render``."""

    detector: Detector = Field(default=_IMAGE.detector, description="person detector (movenet: up to 6 people)")
    keypoints: KeypointModel = Field(default=_IMAGE.keypoint_model, description="per-person COCO-17 model")
    model: LandmarkModel = Field(default="auto", description="BlazePose model for the 33 landmarks; none skips them")
    min_score: float = Field(
        default=_IMAGE.min_person_score, ge=0.0, le=1.0, description="drop people scoring below this"
    )
    whole_body: bool = Field(default=False, description="also hands (2x21) and face (68) for every person")
    hand_model: HandModel = Field(default=_IMAGE.hand_model)
    face_mesh: bool = Field(default=False, description="with whole_body, all 468 face points")
    hand_search: bool = Field(default=_IMAGE.hand_search, description="with whole_body, palm-detector second try")
    render: bool = Field(default=False, description="answer the annotated JPEG instead of JSON")

    def estimator_options(self, threads: int) -> EstimatorOptions:
        # The answer is a JSON-lines record, which carries BlazePose's 33 when they ran.
        return options_from_args(self.as_args(threads, _IMAGE_ARGS), output_needs_landmarks=True)


class StreamQuery(_Options):
    """``WS /v1/stream`` options: the video path's model flags (Lightning by default: live speed)."""

    detector: Detector = "movenet"
    keypoints: KeypointModel = "lightning"
    model: LandmarkModel = "none"
    min_score: float = Field(default=_VIDEO.min_track_score, ge=0.0, le=1.0)
    whole_body: bool = False
    hand_model: HandModel = "lite"
    face_mesh: bool = False
    hand_search: bool = False
    analysis: bool = Field(default=True, description="angles and rep counts per person (needs posekit.analysis)")
    exercise: str | None = Field(default="auto", max_length=64, description="exercise to count, or auto")

    def video_options(self, threads: int) -> VideoOptions:
        return video_options_from_args(self.as_args(threads, _VIDEO_ARGS, {"analysis", "exercise"}))


class JobQuery(_Options):
    """``POST /v1/jobs`` options: ``posekit track``'s flags (and, for analyze, the analysis's).

    Only the options given are sent to the job; the rest take the command line's defaults.
    """

    task: Literal["track", "analyze"] = Field(
        default="track", description="track: JSON lines; analyze: also the analysis"
    )
    detector: Detector = "movenet"
    keypoints: KeypointModel = _VIDEO.estimator.keypoint_model  # type: ignore[assignment]
    model: LandmarkModel = "auto"
    min_score: float = Field(default=_VIDEO.min_track_score, ge=0.0, le=1.0)
    whole_body: bool = False
    hand_model: HandModel = _VIDEO.estimator.hand_model  # type: ignore[assignment]
    face_mesh: bool = False
    hand_search: bool = _VIDEO.estimator.hand_search
    smooth: Literal["online", "offline", "none"] = _VIDEO.smoothing  # type: ignore[assignment]
    redetect: float = Field(default=_VIDEO.redetect_interval_s, ge=0.0, le=60.0)
    no_propagate: bool = False
    no_look_behind: bool = False
    max_lost: float = Field(default=_VIDEO.tracker.max_lost_s, ge=0.0, le=600.0)
    start: float = Field(default=0.0, ge=0.0)
    end: float | None = Field(default=None, gt=0.0)
    max_frames: int | None = Field(default=None, ge=1)
    stride: int = Field(default=1, ge=1, le=1000)
    exercise: str | None = Field(
        default=None, max_length=64, description="analyze: exercise to count (default: guessed)"
    )
    angles: str | None = Field(default=None, max_length=500, description="analyze: comma-separated angle names")
    render: bool = Field(default=False, description="also an mp4 with the skeletons drawn")

    def video_options(self, threads: int) -> VideoOptions:
        """Checks the options as ``posekit track`` would (raises UsageError)."""
        track_only = {"task", "start", "end", "max_frames", "stride", "exercise", "angles", "render"}
        return video_options_from_args(self.as_args(threads, _VIDEO_ARGS, track_only))

    def item_options(self) -> dict[str, Any]:
        """The options given, as the batch engine's work item carries them."""
        return self.model_dump(exclude_unset=True, exclude={"task"})


JobStateName = Literal["pending", "running", "done", "failed"]


class JobCreated(BaseModel):
    job_id: str


class JobFile(BaseModel):
    name: str
    bytes: int
    sha256: str
    url: str


class JobStatus(BaseModel):
    job_id: str
    task: str
    state: JobStateName
    frames_done: int = 0
    frames_total: int | None = None
    error: str | None = None
    upload_name: str | None = Field(default=None, description="the uploaded file's name, as given (display only)")
    files: list[JobFile] = []
    result_url: str | None = None


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    workers: int
    jobs: dict[str, int]
    analysis: bool
    batch: bool
