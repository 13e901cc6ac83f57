"""The video pipeline: :class:`VideoPoseEstimator`, its :class:`VideoOptions`, offline smoothing."""

from posekit.video.options import VideoOptions, VideoStats
from posekit.video.pipeline import VideoPoseEstimator
from posekit.video.propagation import in_frame_scores, keypoint_boxes
from posekit.video.smoothing import smooth_sequence

__all__ = ["VideoOptions", "VideoPoseEstimator", "VideoStats", "in_frame_scores", "keypoint_boxes", "smooth_sequence"]
