"""Pictures of a 3D result: each camera's video with the 3D people projected back, and a
rotating-free 3D plot video (matplotlib). They read results; they compute nothing new."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from posekit.multiview.camera import Camera, CameraRig
from posekit.multiview.reconstruct import Reconstruction
from posekit.multiview.skeleton import SKELETON

logger = logging.getLogger(__name__)


def _colour(track_id: int) -> tuple[int, int, int]:
    hue = (track_id * 47) % 180
    bgr = cv2.cvtColor(np.array([[[hue, 220, 255]]], dtype=np.uint8), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def draw_projected(image: np.ndarray, camera: Camera, reconstruction: Reconstruction, frame: int) -> np.ndarray:
    """``image`` with every 3D person of ``frame`` projected through ``camera`` (a copy)."""
    out = image.copy()
    thickness = max(2, image.shape[1] // 300)
    for track in reconstruction.tracks:
        if frame >= len(track.present) or not track.present[frame]:
            continue
        pixels = camera.project(track.xyz[frame])
        colour = _colour(track.track_id)
        for a, b in SKELETON.edges:
            if np.isfinite(pixels[[a, b]]).all():
                cv2.line(
                    out,
                    tuple(np.round(pixels[a]).astype(int)),
                    tuple(np.round(pixels[b]).astype(int)),
                    colour,
                    thickness,
                    cv2.LINE_AA,
                )
        for point in pixels[np.isfinite(pixels).all(axis=1)]:
            cv2.circle(out, tuple(np.round(point).astype(int)), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)
        finite = pixels[np.isfinite(pixels).all(axis=1)]
        if len(finite):
            top = finite[np.argmin(finite[:, 1])]
            cv2.putText(
                out, f"{track.track_id}", (int(top[0]), int(top[1]) - 15), cv2.FONT_HERSHEY_SIMPLEX, 1.2, colour, 3
            )
    return out


def render_projected(camera: Camera, reconstruction: Reconstruction, video: Path, out_path: Path) -> Path | None:
    import posekit

    try:
        source = posekit.open_source(str(video), posekit.ReadOptions(max_frames=reconstruction.frame_count))
    except posekit.InputError as exc:
        logger.warning("no projected video for %s: %s", camera.name, exc)
        return None
    temp = out_path.with_name(f".{out_path.stem}.tmp.mp4")
    writer = None
    with source:
        for frame in source:
            image = draw_projected(frame.image_bgr, camera, reconstruction, frame.index)
            if writer is None:
                writer = cv2.VideoWriter(
                    str(temp), cv2.VideoWriter.fourcc(*"mp4v"), reconstruction.fps, image.shape[1::-1]
                )
            writer.write(image)
    if writer is None:
        return None
    writer.release()
    temp.replace(out_path)
    return out_path


def plot_frame(reconstruction: Reconstruction, frame: int, limits: np.ndarray, size_px: int = 640) -> np.ndarray:
    """One BGR image of the 3D skeletons of ``frame`` (matplotlib, Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(size_px / 100, size_px / 100), dpi=100)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot(projection="3d")
    for track in reconstruction.tracks:
        if not track.present[frame]:
            continue
        xyz = track.xyz[frame]
        colour = np.array(_colour(track.track_id)[::-1]) / 255.0
        for a, b in SKELETON.edges:
            if np.isfinite(xyz[[a, b]]).all():
                axes.plot(*xyz[[a, b]].T, color=colour, linewidth=2)
        axes.scatter(*xyz[np.isfinite(xyz).all(axis=1)].T, color=colour, s=6)
    axes.set_xlim(*limits[0])
    axes.set_ylim(*limits[1])
    axes.set_zlim(*limits[2])
    axes.set_box_aspect(tuple(limits[:, 1] - limits[:, 0]))
    axes.set_xlabel("x (m)")
    axes.set_ylabel("y (m)")
    axes.set_zlabel("z (m)")
    axes.set_title(f"frame {frame}  t = {frame / reconstruction.fps:.2f} s")
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR)


def plot_limits(reconstruction: Reconstruction) -> np.ndarray:
    points = (
        np.concatenate([t.xyz.reshape(-1, 3) for t in reconstruction.tracks])
        if reconstruction.tracks
        else np.zeros((1, 3))
    )
    points = points[np.isfinite(points).all(axis=1)]
    if not len(points):
        points = np.zeros((1, 3))
    low, high = np.percentile(points, 1, axis=0) - 0.3, np.percentile(points, 99, axis=0) + 0.3
    return np.stack([low, high], axis=1)


def render_plot(reconstruction: Reconstruction, out_path: Path) -> Path:
    limits = plot_limits(reconstruction)
    temp = out_path.with_name(f".{out_path.stem}.tmp.mp4")
    writer = None
    for frame in range(reconstruction.frame_count):
        image = plot_frame(reconstruction, frame, limits)
        if writer is None:
            writer = cv2.VideoWriter(str(temp), cv2.VideoWriter.fourcc(*"mp4v"), reconstruction.fps, image.shape[1::-1])
        writer.write(image)
    if writer is not None:
        writer.release()
        temp.replace(out_path)
    return out_path


def render_all(rig: CameraRig, reconstruction: Reconstruction, videos: list[Path], out_dir: Path) -> list[Path]:
    """``<camera>_3d.mp4`` for each camera given a video, and ``skeleton3d.mp4``."""
    written = []
    for camera, video in zip(rig, videos, strict=False):
        if video.suffix == ".jsonl":
            continue
        path = render_projected(camera, reconstruction, video, out_dir / f"{camera.name}_3d.mp4")
        if path is not None:
            written.append(path)
    if reconstruction.frame_count:
        written.append(render_plot(reconstruction, out_dir / "skeleton3d.mp4"))
    return written
