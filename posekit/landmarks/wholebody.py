"""Hands and face for a person whose body landmarks are known (MediaPipe Holistic's approach).

Each hand's ROI comes from the body's wrist, pinky and index points, tightened by the re-crop
model; the face's ROI from the body's eyes, ears, nose and mouth. The hand from the body's left
wrist is the left hand: left and right follow the body, so they agree with it by construction
(the hand model's own handedness is kept as a check, ``right_hand_score``). A part whose body
points are in the image is always reported, its points' confidence being the part model's
presence score: a hand the model is unsure of (small, blurred, in a glove) still gets its best
reading, flagged by a low confidence, which is what COCO-style evaluation and most users want.
A part whose body points lie outside the image is missing.

In video, a part seen on the previous frame is looked for in the ROI its own points gave
(``previous``), which skips the re-crop model and follows fast hands better.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from posekit.detect.parts import PartDetector
from posekit.geometry import RotatedRect
from posekit.landmarks.blazepose import BlazePoseLandmarks
from posekit.landmarks.face import FaceLandmarks, FaceMeshLandmarker, face_roi_from_points
from posekit.landmarks.hand import HandLandmarker, HandLandmarks, HandRecrop, hand_roi_from_body
from posekit.results import Keypoints
from posekit.schemas import FACE68, FACE468, HAND_LEFT21, HAND_RIGHT21, BlazePoseLandmark, KeypointSchema

# Body points a hand or the face is placed from, and how visible they must be to try.
_HAND_POINTS = {
    "left": (BlazePoseLandmark.LEFT_WRIST, BlazePoseLandmark.LEFT_PINKY, BlazePoseLandmark.LEFT_INDEX),
    "right": (BlazePoseLandmark.RIGHT_WRIST, BlazePoseLandmark.RIGHT_PINKY, BlazePoseLandmark.RIGHT_INDEX),
}
_FACE_POINTS = [
    BlazePoseLandmark.NOSE,
    BlazePoseLandmark.LEFT_EYE,
    BlazePoseLandmark.RIGHT_EYE,
    BlazePoseLandmark.LEFT_EAR,
    BlazePoseLandmark.RIGHT_EAR,
    BlazePoseLandmark.MOUTH_LEFT,
    BlazePoseLandmark.MOUTH_RIGHT,
]
MIN_BODY_PRESENCE = 0.5


@dataclass(frozen=True)
class PersonParts:
    """One person's hands and face (None where not found)."""

    hand_left: HandLandmarks | None
    hand_right: HandLandmarks | None
    face: FaceLandmarks | None


@dataclass(frozen=True)
class PreviousParts:
    """ROIs a tracked person's parts gave on the previous frame (None: start from the body)."""

    hand_left: RotatedRect | None = None
    hand_right: RotatedRect | None = None
    face: RotatedRect | None = None


class WholeBodyLandmarker:
    """Hands and face of one person. ``faces`` (optional) searches the region around the body's
    face points (3x their box, as MediaPipe Holistic does) and places the face mesh; without a
    detection the mesh runs where the body points are. ``palms`` (optional) is the second try
    for a hand the hand model is unsure of: it searches 1.5x the body's hand ROI, the hand model
    runs again on what it finds, and the more confident reading is kept."""

    def __init__(
        self,
        hands: HandLandmarker,
        recrop: HandRecrop,
        face: FaceMeshLandmarker,
        palms: PartDetector | None = None,
        faces: PartDetector | None = None,
        min_presence: float = 0.5,
    ) -> None:
        self._hands = hands
        self._recrop = recrop
        self._face = face
        self._palms = palms
        self._faces = faces
        self.min_presence = min_presence

    def hands_without_body(self, image_rgb: np.ndarray) -> list[HandLandmarks]:
        """Hands the palm detector finds in the whole image (for hand-only images, where there is
        no body to place them from); only those the hand model is sure of."""
        if self._palms is None:
            return []
        readings = [self._hands(image_rgb, roi) for roi in self._palms(image_rgb).rois]
        return [hand for hand in readings if hand.presence >= self.min_presence]

    def __call__(
        self, image_rgb: np.ndarray, body: BlazePoseLandmarks, previous: PreviousParts | None = None
    ) -> PersonParts:
        previous = previous or PreviousParts()
        hands = {
            side: self._hand(image_rgb, body, side, getattr(previous, f"hand_{side}")) for side in ("left", "right")
        }
        return PersonParts(hands["left"], hands["right"], self._face_of(image_rgb, body, previous.face))

    def _hand(
        self, image_rgb: np.ndarray, body: BlazePoseLandmarks, side: str, previous_roi: RotatedRect | None
    ) -> HandLandmarks | None:
        if previous_roi is not None:
            hand = self._hands(image_rgb, previous_roi)
            if hand.presence >= self.min_presence:
                return hand
        wrist, pinky, index = _HAND_POINTS[side]
        if body.presence[[wrist, pinky, index]].min() < MIN_BODY_PRESENCE:
            return None  # the hand is outside the image
        from_body = hand_roi_from_body(body.xy[wrist], body.xy[pinky], body.xy[index])
        hand = self._hands(image_rgb, self._recrop(image_rgb, from_body))
        # The palm search only for a hand the body sees (a hidden hand has nothing to find).
        if hand.presence < self.min_presence and self._palms is not None and body.visibility[wrist] >= 0.5:
            palms = self._palms(image_rgb, from_body.scaled(1.5))
            if len(palms):
                second = self._hands(image_rgb, palms.rois[0])
                hand = second if second.presence > hand.presence else hand
        return hand

    def _face_of(
        self, image_rgb: np.ndarray, body: BlazePoseLandmarks, previous_roi: RotatedRect | None
    ) -> FaceLandmarks | None:
        if previous_roi is not None:
            face = self._face(image_rgb, previous_roi)
            if face.presence >= self.min_presence:
                return face
        eyes = [BlazePoseLandmark.LEFT_EYE, BlazePoseLandmark.RIGHT_EYE]
        if body.presence[_FACE_POINTS].min() < MIN_BODY_PRESENCE or body.visibility[eyes].min() < 0.5:
            return None  # face outside the image, or turned away
        roi = face_roi_from_points(
            body.xy[_FACE_POINTS], body.xy[BlazePoseLandmark.RIGHT_EYE], body.xy[BlazePoseLandmark.LEFT_EYE]
        )
        if self._faces is not None:
            # Holistic's order: the face detector searches around the body's face points first
            # (they can sit a face-height off on small, turned or covered faces); the mesh placed
            # directly reads these faces worse (docs/benchmarks.md#whole-body).
            found = self._faces(image_rgb, roi.scaled(1.5))
            if len(found):
                return self._face.refined(image_rgb, found.rois[0])
        return self._face.refined(image_rgb, roi)


def landmarks_to_keypoints(items: Sequence[HandLandmarks | FaceLandmarks | None], schema: KeypointSchema) -> Keypoints:
    """One row per item of a part model's readings; None rows are missing (NaN, confidence 0).
    Each point's confidence is its reading's presence score (the models give none per point)."""
    xy = np.full((len(items), schema.num_keypoints, 2), np.nan, np.float32)
    confidence = np.zeros((len(items), schema.num_keypoints), np.float32)
    for i, item in enumerate(items):
        if item is not None:
            xy[i], confidence[i] = item.xy, item.presence
    return Keypoints(schema, xy, confidence)


def parts_to_keypoints(parts: Sequence[PersonParts], *, face_mesh: bool = False) -> dict[str, Keypoints]:
    """``hand_left21``, ``hand_right21``, ``face68`` (and ``face468`` with ``face_mesh``) for the
    people; a part not found is missing (NaN, confidence 0)."""
    out = {
        "hand_left21": landmarks_to_keypoints([p.hand_left for p in parts], HAND_LEFT21),
        "hand_right21": landmarks_to_keypoints([p.hand_right for p in parts], HAND_RIGHT21),
    }
    mesh = landmarks_to_keypoints([p.face for p in parts], FACE468)
    out["face68"] = mesh.to(FACE68)
    if face_mesh:
        out["face468"] = mesh
    return out
