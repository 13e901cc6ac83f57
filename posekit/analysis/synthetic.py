"""Synthetic people moving along known joint-angle trajectories, for tests and benchmarks.

A stick figure with Winter's segment proportions is posed in 3D from joint angles (flexion in
the body's sagittal plane, abduction in its frontal plane), placed in the world and seen by a
pinhole camera, so the same motion can be filmed from the side, the front or at any yaw, moving
or on the spot. The result is COCO-17 (plus BlazePose-33 heels and toes when asked) in pixels,
with exact ground truth for angles, reps and gait events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from posekit.schemas import BLAZEPOSE33, COCO17

Trajectory = Callable[[np.ndarray], np.ndarray]

# Segment lengths in body heights (after Winter, Biomechanics and Motor Control of Human Movement).
_TRUNK, _NECK_HEAD, _UPPER_ARM, _FOREARM, _THIGH, _SHANK = 0.30, 0.10, 0.186, 0.146, 0.245, 0.246
_HIP_HALF, _SHOULDER_HALF, _FOOT_BACK, _FOOT_FRONT, _ANKLE_HEIGHT = 0.095, 0.13, 0.04, 0.12, 0.039


@dataclass(frozen=True)
class Camera:
    """Pinhole camera looking along world +z from the origin (x right, y down)."""

    focal_px: float = 900.0
    centre: tuple[float, float] = (640.0, 360.0)

    def project(self, xyz: np.ndarray) -> np.ndarray:
        z = np.maximum(xyz[..., 2], 1e-3)
        return np.stack(
            [self.centre[0] + self.focal_px * xyz[..., 0] / z, self.centre[1] + self.focal_px * xyz[..., 1] / z], -1
        )


def _direction(flexion: np.ndarray, abduction: np.ndarray, forward: np.ndarray, outward: np.ndarray) -> np.ndarray:
    """Unit segment directions rotated from straight down by flexion (forward) and abduction (outward)."""
    down = np.array([0.0, 1.0, 0.0])
    f, a = np.radians(flexion)[:, None], np.radians(abduction)[:, None]
    vector = np.sin(f) * np.cos(a) * forward + np.sin(a) * outward + np.cos(f) * np.cos(a) * down
    return vector / np.linalg.norm(vector, axis=1, keepdims=True)


def _zero(t: np.ndarray) -> np.ndarray:
    return np.zeros_like(t)


@dataclass(frozen=True)
class Motion:
    """Joint-angle trajectories (degrees, functions of time) and where the pelvis goes.

    Side-specific entries are keyed ``right_*``/``left_*``; a missing one is 0. Hip and shoulder
    flexion are measured from straight down (not from the trunk); ``trunk_lean`` tilts the trunk
    forward; the elbow bends in the ``arm_plane`` ("sagittal" or "frontal"); ``pelvis`` maps time
    to world metres ``(n, 3)`` of the mid-hip;
    ``heading`` is the walking direction in the world's x-z plane, degrees from +x towards +z.
    """

    angles: Mapping[str, Trajectory]
    pelvis: Callable[[np.ndarray], np.ndarray]
    heading_deg: float = 0.0
    height_m: float = 1.75
    arm_plane: str = "sagittal"

    def angle(self, name: str, t: np.ndarray) -> np.ndarray:
        return np.asarray(self.angles.get(name, _zero)(t), dtype=np.float64) * np.ones_like(t)


def pose_3d(motion: Motion, t: np.ndarray) -> dict[str, np.ndarray]:
    """World metres ``(n, 3)`` of every named point at times ``t``."""
    h = motion.height_m
    heading = np.radians(motion.heading_deg)
    forward = np.array([np.cos(heading), 0.0, np.sin(heading)])
    left_dir = np.cross(forward, np.array([0.0, 1.0, 0.0]))  # the person's left (y is down)
    lean = np.radians(motion.angle("trunk_lean", t))[:, None]
    up = -np.cos(lean) * np.array([0.0, 1.0, 0.0]) + np.sin(lean) * forward
    mid_hip = motion.pelvis(t)
    mid_shoulder = mid_hip + _TRUNK * h * up
    points = {"mid_hip": mid_hip, "nose": mid_shoulder + _NECK_HEAD * h * up + 0.03 * h * forward}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        outward = sign * left_dir
        hip = mid_hip + _HIP_HALF * h * outward
        shoulder = mid_shoulder + _SHOULDER_HALF * h * outward
        thigh = _direction(
            motion.angle(f"{side}_hip_flexion", t), motion.angle(f"{side}_hip_abduction", t), forward, outward
        )
        knee = hip + _THIGH * h * thigh
        shank = _direction(
            motion.angle(f"{side}_hip_flexion", t) - motion.angle(f"{side}_knee_flexion", t),
            motion.angle(f"{side}_hip_abduction", t),
            forward,
            outward,
        )
        ankle = knee + _SHANK * h * shank
        foot = _direction(
            motion.angle(f"{side}_hip_flexion", t)
            - motion.angle(f"{side}_knee_flexion", t)
            + 90
            - motion.angle(f"{side}_ankle_dorsiflexion", t),
            _zero(t),
            forward,
            outward,
        )
        arm = _direction(
            motion.angle(f"{side}_shoulder_flexion", t), motion.angle(f"{side}_shoulder_abduction", t), forward, outward
        )
        elbow = shoulder + _UPPER_ARM * h * arm
        flexion, abduction = motion.angle(f"{side}_shoulder_flexion", t), motion.angle(f"{side}_shoulder_abduction", t)
        if motion.arm_plane == "frontal":
            abduction = abduction + motion.angle(f"{side}_elbow_flexion", t)
        else:
            flexion = flexion + motion.angle(f"{side}_elbow_flexion", t)
        forearm = _direction(flexion, abduction, forward, outward)
        points.update(
            {
                f"{side}_hip": hip,
                f"{side}_shoulder": shoulder,
                f"{side}_knee": knee,
                f"{side}_ankle": ankle,
                f"{side}_elbow": elbow,
                f"{side}_wrist": elbow + _FOREARM * h * forearm,
                f"{side}_heel": ankle - _FOOT_BACK * h * foot + _ANKLE_HEIGHT * h * np.array([0.0, 1.0, 0.0]),
                f"{side}_foot_index": ankle + _FOOT_FRONT * h * foot + _ANKLE_HEIGHT * h * np.array([0.0, 1.0, 0.0]),
                f"{side}_eye": points["nose"] + 0.02 * h * outward - 0.02 * h * forward,
                f"{side}_ear": points["nose"] + 0.06 * h * outward - 0.08 * h * forward,
            }
        )
    return points


def render_track(
    motion: Motion,
    t: np.ndarray,
    camera: Camera = Camera(),
    *,
    noise_px: float = 0.0,
    with_feet: bool = False,
    rng: np.random.Generator | None = None,
) -> dict[str, np.ndarray]:
    """``{"coco17": (n, 17, 3)[, "blazepose33": (n, 33, 3)]}`` pixels and confidence 0.9."""
    rng = rng or np.random.default_rng(0)
    world = pose_3d(motion, t)
    out = {}
    schemas = [COCO17, BLAZEPOSE33] if with_feet else [COCO17]
    for schema in schemas:
        values = np.full((t.size, schema.num_keypoints, 3), np.nan)
        values[..., 2] = 0.0
        for k, name in enumerate(schema.keypoint_names):
            if name in world:
                values[:, k, :2] = (
                    camera.project(world[name]) + rng.normal(0.0, noise_px, (t.size, 2))
                    if noise_px
                    else camera.project(world[name])
                )
                values[:, k, 2] = 0.9
        out[schema.name] = values
    return out


def still(position: tuple[float, float, float]) -> Callable[[np.ndarray], np.ndarray]:
    return lambda t: np.tile(np.asarray(position, np.float64), (t.size, 1))


def walking(
    start: tuple[float, float, float], velocity: tuple[float, float, float]
) -> Callable[[np.ndarray], np.ndarray]:
    start_a, velocity_a = np.asarray(start, np.float64), np.asarray(velocity, np.float64)
    return lambda t: start_a + t[:, None] * velocity_a


def rep_wave(rest: float, peak: float, times: list[tuple[float, float]]) -> Trajectory:
    """``rest`` except during each (start, duration): a raised-cosine excursion to ``peak``."""

    def trajectory(t: np.ndarray) -> np.ndarray:
        out = np.full(t.shape, rest, dtype=np.float64)
        for start, duration in times:
            inside = (t >= start) & (t <= start + duration)
            phase = (t[inside] - start) / duration
            out[inside] = rest + (peak - rest) * 0.5 * (1 - np.cos(2 * np.pi * phase))
        return out

    return trajectory


def walk_motion(
    stride_s: float, speed_m_s: float, heading_deg: float = 0.0, start: tuple[float, float, float] = (-2.0, 0.0, 6.0)
) -> Motion:
    """A walker: hips swing +-22 deg in antiphase, knees bend in swing, arms swing opposite the legs."""

    def hip(phase: float) -> Trajectory:
        return lambda t: 8 + 22 * np.sin(2 * np.pi * t / stride_s + phase)

    def knee(phase: float) -> Trajectory:
        return lambda t: 8 + 50 * np.clip(np.sin(2 * np.pi * t / stride_s + phase - 2.2), 0, None) ** 2

    heading = np.radians(heading_deg)
    velocity = (speed_m_s * np.cos(heading), 0.0, speed_m_s * np.sin(heading))
    angles = {
        "right_hip_flexion": hip(0.0),
        "left_hip_flexion": hip(np.pi),
        "right_knee_flexion": knee(0.0),
        "left_knee_flexion": knee(np.pi),
        "right_shoulder_flexion": hip(np.pi),
        "left_shoulder_flexion": hip(0.0),
        "right_elbow_flexion": lambda t: 15 + 0 * t,
        "left_elbow_flexion": lambda t: 15 + 0 * t,
        "right_hip_abduction": lambda t: 3 + 0 * t,
        "left_hip_abduction": lambda t: 3 + 0 * t,
        "right_shoulder_abduction": lambda t: 8 + 0 * t,
        "left_shoulder_abduction": lambda t: 8 + 0 * t,
    }
    return Motion(angles, walking(start, velocity), heading_deg)


def true_heel_strikes(motion: Motion, t: np.ndarray) -> list[tuple[float, str]]:
    """Times of each heel's furthest reach ahead of the pelvis (dense evaluation, no noise)."""
    dense = np.arange(t[0], t[-1], 0.001)
    world = pose_3d(motion, dense)
    heading = np.radians(motion.heading_deg)
    forward = np.array([np.cos(heading), 0.0, np.sin(heading)])
    found = []
    for side in ("left", "right"):
        ahead = (world[f"{side}_heel"] - world["mid_hip"]) @ forward
        interior = (ahead[1:-1] > ahead[:-2]) & (ahead[1:-1] >= ahead[2:])
        found += [(float(dense[i + 1]), side) for i in np.flatnonzero(interior)]
    return sorted(found)


def jumping_jack_motion(
    times: list[tuple[float, float]], position: tuple[float, float, float] = (1.0, 0.0, 5.0)
) -> Motion:
    """Facing the camera (heading -90: towards it), arms and legs out and back for each (start, duration)."""
    arms, legs = rep_wave(12.0, 165.0, times), rep_wave(3.0, 18.0, times)
    angles: dict[str, Trajectory] = {}
    for side in ("left", "right"):
        angles.update(
            {
                f"{side}_shoulder_abduction": arms,
                f"{side}_hip_abduction": legs,
                f"{side}_elbow_flexion": lambda t: 10 + 0 * t,
            }
        )
    return Motion(angles, still(position), heading_deg=-90.0, arm_plane="frontal")


def jsonl_lines(
    tracks: Mapping[int, Mapping[str, np.ndarray]],
    t: np.ndarray,
    source: str = "synthetic",
    size: tuple[int, int] = (720, 1280),
) -> list[str]:
    """Track JSONL lines (as ``posekit track`` writes) for ``{track_id: {schema: (n, k, 3)}}``; a
    NaN point becomes ``[null, null, 0.0]`` and a person whose points are all NaN is left out."""
    import json

    lines = []
    for row, time_s in enumerate(t):
        people = []
        for track_id, schemas in tracks.items():
            keypoints = {}
            for name, values in schemas.items():
                v = values[row]
                if np.isfinite(v[:, 0]).any():
                    keypoints[name] = [
                        [None, None, 0.0]
                        if not np.isfinite(p[0])
                        else [round(float(p[0]), 2), round(float(p[1]), 2), round(float(p[2]), 3)]
                        for p in v
                    ]
            if "coco17" in keypoints:
                xy = schemas["coco17"][row, :, :2]
                low, high = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
                bbox = [
                    round(float(low[0]), 1),
                    round(float(low[1]), 1),
                    round(float(high[0] - low[0]), 1),
                    round(float(high[1] - low[1]), 1),
                ]
                people.append({"track_id": int(track_id), "score": 0.8, "bbox": bbox, "keypoints": keypoints})
        record = {
            "source": source,
            "frame_index": row,
            "timestamp_s": round(float(time_s), 6),
            "image_size": list(size),
            "people": people,
        }
        lines.append(json.dumps(record, separators=(",", ":")))
    return lines
