"""``/v1/jobs`` routes: submit a video, follow it, fetch its outputs, delete it."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import cv2
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from posekit import ReadOptions, open_source
from posekit.errors import InputError
from posekit.io.writers import atomic_write_bytes
from posekit.service.api_models import JobCreated, JobFile, JobQuery, JobStatus
from posekit.service.guard import ApiKeyCheck
from posekit.service.inference import ServiceBusy
from posekit.service.uploads import save_video_upload

if TYPE_CHECKING:
    from posekit.service.app import ServiceState
    from posekit.service.jobs import JobManager

logger = logging.getLogger(__name__)

# secrets.token_urlsafe(18): 24 URL-safe characters. Anything else is not a job id.
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{24}$")


def start_manager(state: ServiceState) -> JobManager | None:
    try:
        from posekit.service.jobs import JobManager
    except ImportError as exc:
        logger.warning("video jobs are off: %s", exc)
        return None
    config = state.config
    return JobManager(
        config.data_dir,
        workers=config.job_workers,
        max_jobs=config.max_jobs,
        timeout_s=config.job_timeout_s,
        threads=config.threads,
        metrics=state.metrics,
    )


def _check_video(path: Path, name: str) -> None:
    """Decodes the first frame: the content decides, not the name or the content type."""
    try:
        with open_source(str(path), ReadOptions(max_frames=1)) as source:
            frames = sum(1 for _ in source)
    except InputError as exc:
        raise HTTPException(415, f"{name}: not a video posekit can read ({exc.reason})") from exc
    if frames == 0:
        raise HTTPException(415, f"{name}: not a video, or corrupt (no frame decodes)")


def _files(job_id: str, result: Any) -> list[JobFile]:
    return [
        JobFile(name=f["path"], bytes=f["bytes"], sha256=f["sha256"], url=f"/v1/jobs/{job_id}/files/{f['path']}")
        for f in (result.files if result is not None else [])
    ]


class _Jobs:
    """The job manager behind the routes, or a 503 when video jobs are off; job ids checked before lookup."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def manager(self) -> JobManager:
        if self.state.jobs is None:
            raise HTTPException(503, "video jobs are off: posekit.batch is not installed", {"Retry-After": "3600"})
        return self.state.jobs  # type: ignore[no-any-return]

    def entry_of(self, job_id: str) -> Any:
        entry = self.manager().get(job_id) if _JOB_ID.match(job_id) else None
        if entry is None:
            raise HTTPException(404, "no such job")
        return entry


def router(state: ServiceState) -> APIRouter:
    api = APIRouter(prefix="/v1/jobs", dependencies=[Depends(ApiKeyCheck(state.config.api_key))], tags=["jobs"])
    jobs = _Jobs(state)
    _add_submit_routes(api, state, jobs)
    _add_output_routes(api, state, jobs)
    return api


def _add_submit_routes(api: APIRouter, state: ServiceState, jobs: _Jobs) -> None:
    @api.post("", response_model=JobCreated, status_code=202, summary="Start a video job (track or analyze)")
    async def create(request: Request, query: Annotated[JobQuery, Query()]) -> JobCreated:
        manager = jobs.manager()
        query.video_options(state.config.threads)  # the options check (422) before the upload is read
        manager.check_options(query.task, query.item_options())
        if manager.active_count() >= manager.max_jobs:
            raise ServiceBusy(f"{manager.max_jobs} jobs are pending or running; try again later", 30)
        job_id = manager.new_id()
        path = manager.upload_path(job_id)
        try:
            name = await save_video_upload(request, path)
            assert state.limiter is not None
            await state.limiter.run(lambda: _check_video(path, name))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        manager.submit(job_id, query.task, query.item_options(), name)
        return JobCreated(job_id=job_id)

    @api.delete("/{job_id}", status_code=204, summary="Delete a job (stopping it) and its files")
    async def delete(job_id: str) -> Response:
        jobs.entry_of(job_id)
        jobs.manager().delete(job_id)
        return Response(status_code=204)


def _add_output_routes(api: APIRouter, state: ServiceState, jobs: _Jobs) -> None:
    @api.get("/{job_id}", response_model=JobStatus, summary="A job's state and progress")
    async def status(job_id: str) -> JobStatus:
        entry = jobs.entry_of(job_id)
        done = entry.state == "done"
        return JobStatus(
            job_id=job_id,
            task=entry.item.task,
            state=entry.state,
            frames_done=entry.frames_done,
            frames_total=entry.frames_total,
            error=entry.error,
            upload_name=jobs.manager().upload_name(job_id),
            files=_files(job_id, entry.result) if done else [],
            result_url=f"/v1/jobs/{job_id}/result" if done else None,
        )

    @api.get("/{job_id}/result", summary="A finished job's outputs", response_model=None)
    async def result(job_id: str, format: Literal["auto", "jsonl", "zip"] = "auto") -> Response:  # noqa: A002
        return _result_response(jobs.manager(), job_id, _finished(jobs.entry_of(job_id)), format)

    @api.get("/{job_id}/files/{name:path}", summary="One output file of a finished job", response_model=None)
    async def file(job_id: str, name: str) -> FileResponse:
        entry = _finished(jobs.entry_of(job_id))
        # Only a path the job itself recorded: the client's string is looked up, never joined.
        recorded = {f["path"] for f in entry.result.files}
        if name not in recorded:
            raise HTTPException(404, "no such file in this job's outputs")
        return FileResponse(jobs.manager().result_dir(job_id) / name, filename=Path(name).name)

    @api.get("/{job_id}/preview", summary="Downscaled JPEG frames of a finished job's video, for the page")
    async def preview(
        job_id: str,
        stride: Annotated[int, Query(ge=1, le=10_000)] = 1,
        max_frames: Annotated[int, Query(ge=1, le=MAX_PREVIEW_FRAMES)] = MAX_PREVIEW_FRAMES,
        max_side: Annotated[int, Query(ge=64, le=1280)] = 480,
    ) -> JSONResponse:
        # For browsers that cannot decode the upload's codec: the page draws these frames instead.
        _finished(jobs.entry_of(job_id))
        path = jobs.manager().upload_path(job_id)
        assert state.limiter is not None
        frames = await state.limiter.run(lambda: _preview_frames(path, stride, max_frames, max_side))
        return JSONResponse({"job_id": job_id, "frames": frames})


MAX_PREVIEW_FRAMES = 300
_PREVIEW_QUALITY = 75


def _preview_frames(path: Path, stride: int, max_frames: int, max_side: int) -> list[dict[str, Any]]:
    frames = []
    with open_source(str(path), ReadOptions(stride=stride, max_frames=max_frames)) as source:
        for frame in source:
            image = frame.image_bgr
            scale = min(1.0, max_side / max(image.shape[:2]))
            if scale < 1.0:
                size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, _PREVIEW_QUALITY])
            if ok:
                jpeg = base64.b64encode(encoded.tobytes()).decode()
                frames.append({"frame_index": frame.index, "timestamp_s": frame.timestamp_s, "jpeg": jpeg})
    return frames


def _result_response(jobs: JobManager, job_id: str, entry: Any, format: str) -> Response:  # noqa: A002
    """The outputs as the client asked: a zip, the track JSON lines, or the analysis summary with links."""
    folder = jobs.result_dir(job_id)
    if format == "zip":
        return FileResponse(_zip(jobs, job_id, entry), media_type="application/zip", filename=f"{job_id}.zip")
    paths = [f["path"] for f in entry.result.files]
    jsonl = next((p for p in paths if p.endswith(".jsonl")), None)
    if format == "jsonl" or (entry.item.task == "track" and jsonl is not None):
        if jsonl is None:
            raise HTTPException(404, "this job wrote no JSON lines")
        return FileResponse(folder / jsonl, media_type="application/x-ndjson", filename=Path(jsonl).name)
    summary_path = next((p for p in paths if Path(p).name == "summary.json"), None)
    report = next((p for p in paths if Path(p).name == "report.html"), None)
    body = {
        "job_id": job_id,
        "task": entry.item.task,
        "summary": json.loads((folder / summary_path).read_text()) if summary_path else None,
        "report_url": f"/v1/jobs/{job_id}/files/{report}" if report else None,
        "files": [f.model_dump() for f in _files(job_id, entry.result)],
    }
    return JSONResponse(body)


def _finished(entry: Any) -> Any:
    if entry.state == "failed":
        raise HTTPException(409, f"the job failed: {entry.error}")
    if entry.state != "done" or entry.result is None:
        total = entry.frames_total if entry.frames_total is not None else "?"
        raise HTTPException(409, f"the job is {entry.state} ({entry.frames_done} of {total} frames); no result yet")
    return entry


def _zip(jobs: JobManager, job_id: str, entry: Any) -> Path:
    """Every output file in one zip, built once and swapped in whole."""
    path = jobs.results / f"{job_id}.zip"
    if not path.is_file():
        buffer = io.BytesIO()
        folder = jobs.result_dir(job_id)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for record in entry.result.files:
                archive.write(folder / record["path"], record["path"])
        atomic_write_bytes(path, buffer.getvalue())
    return path
