"""Multi-camera 3D: calibration (one :class:`Camera` type, one reader per file format),
association of each view's people, robust batch triangulation, 3D tracking and filtering,
quality measures and exports. See docs/multiview.md.
"""

from posekit.multiview.calibration_io import read_calibration, write_toml
from posekit.multiview.camera import Camera, CameraRig
from posekit.multiview.reconstruct import Reconstruction, ReconstructOptions, Track3D, reconstruct

__all__ = [
    "Camera",
    "CameraRig",
    "ReconstructOptions",
    "Reconstruction",
    "Track3D",
    "read_calibration",
    "reconstruct",
    "write_toml",
]
