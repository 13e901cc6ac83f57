"""posekit: multi-person pose estimation on the CPU.

Quick start::

    import cv2, posekit
    with posekit.PoseEstimator() as estimator:
        poses = estimator(cv2.imread("people.jpg"))   # BGR uint8, as OpenCV reads it
    poses.keypoints["coco17"].xy        # (n, 17, 2) pixels
    poses.to_coco(image_id=1)           # COCO results entries
"""

from posekit.errors import ImageTooLargeError, InputError, ModelError, PosekitError, UnreadableInputError, UsageError
from posekit.pipeline import EstimatorOptions, PoseEstimator
from posekit.results import Keypoints, Poses
from posekit.schemas import BLAZEPOSE33, BODY25, COCO17, SCHEMAS, KeypointSchema

__version__ = "0.1.0"

__all__ = [
    "BLAZEPOSE33",
    "BODY25",
    "COCO17",
    "SCHEMAS",
    "EstimatorOptions",
    "ImageTooLargeError",
    "InputError",
    "KeypointSchema",
    "Keypoints",
    "ModelError",
    "PoseEstimator",
    "Poses",
    "PosekitError",
    "UnreadableInputError",
    "UsageError",
    "__version__",
]
