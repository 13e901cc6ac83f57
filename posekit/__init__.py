"""posekit: multi-person pose estimation on the CPU.

Quick start::

    import cv2, posekit
    with posekit.PoseEstimator() as estimator:
        poses = estimator(cv2.imread("people.jpg"))   # BGR uint8, as OpenCV reads it
    poses.keypoints["coco17"].xy        # (n, 17, 2) pixels
    posekit.io.formats.poses_to_coco(poses, image_id=1)   # COCO results entries
"""

from posekit.errors import ImageTooLargeError, InputError, ModelError, PosekitError, UnreadableInputError, UsageError
from posekit.image import EstimatorOptions, PoseEstimator
from posekit.io.video import Frame, ReadOptions, open_source
from posekit.results import Keypoints, Poses
from posekit.schemas import BLAZEPOSE33, BODY25, COCO17, SCHEMAS, KeypointSchema
from posekit.track.tracker import PoseTracker, TrackerOptions
from posekit.video import VideoOptions, VideoPoseEstimator, smooth_sequence

__version__ = "0.1.0"

__all__ = [
    "BLAZEPOSE33",
    "BODY25",
    "COCO17",
    "SCHEMAS",
    "EstimatorOptions",
    "Frame",
    "ImageTooLargeError",
    "InputError",
    "KeypointSchema",
    "Keypoints",
    "ModelError",
    "PoseEstimator",
    "PoseTracker",
    "Poses",
    "PosekitError",
    "ReadOptions",
    "TrackerOptions",
    "UnreadableInputError",
    "UsageError",
    "VideoOptions",
    "VideoPoseEstimator",
    "open_source",
    "smooth_sequence",
    "__version__",
]
