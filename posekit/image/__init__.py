"""The image pipeline: :class:`PoseEstimator` and its :class:`EstimatorOptions`."""

from posekit.image.estimator import PoseEstimator, RuntimeFactory
from posekit.image.options import EstimatorOptions

__all__ = ["EstimatorOptions", "PoseEstimator", "RuntimeFactory"]
