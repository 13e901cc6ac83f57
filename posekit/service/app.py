"""The FastAPI app: thin routes over posekit's public API.

Models are loaded once, in the lifespan; every model call runs on the :class:`WorkLimiter`'s
threads. See docs/service.md for the API, its status codes and the page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any

import cv2
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from posekit import __version__
from posekit.draw import draw_poses
from posekit.errors import ImageTooLargeError, InputError, UsageError
from posekit.io.formats import poses_to_record
from posekit.io.images import decode_image
from posekit.schemas import SCHEMAS
from posekit.service.api_models import Health, PoseQuery
from posekit.service.config import ServiceConfig
from posekit.service.guard import ApiKeyCheck, GuardMiddleware
from posekit.service.inference import EstimatorPool, ServiceBusy, StreamPool, WorkLimiter, WorkTimeout
from posekit.service.metrics import Metrics
from posekit.service.uploads import read_image_upload

logger = logging.getLogger(__name__)

STATIC = resources.files("posekit.service") / "static"
_JPEG_QUALITY = 90


@dataclass
class ServiceState:
    """What the routes share; built in the lifespan, one per app."""

    config: ServiceConfig
    metrics: Metrics = field(default_factory=Metrics)
    estimators: EstimatorPool = field(default_factory=EstimatorPool)
    streams: StreamPool | None = None
    limiter: WorkLimiter | None = None
    jobs: Any = None  # posekit.service.jobs.JobManager when posekit.batch is there

    def gauges(self) -> dict[str, Any]:
        limiter = self.limiter
        gauges: dict[str, Any] = {
            "posekit_work_admitted": lambda: {"admitted": limiter.admitted if limiter else 0},
            "posekit_streams_open": lambda: {"open": self.streams.active if self.streams else 0},
        }
        if self.jobs is not None:
            gauges["posekit_jobs"] = self.jobs.counts
        return gauges


def state_of(request: Request) -> ServiceState:
    return request.app.state.posekit  # type: ignore[no-any-return]


def _input_error_status(error: InputError) -> int:
    # Undecodable bytes are the wrong kind of content (415); an image that decodes but is too
    # large, or an empty or truncated one, is unprocessable (422).
    if isinstance(error, ImageTooLargeError):
        return 422
    return 415 if "cannot decode" in error.reason else 422


def _install_error_handlers(app: FastAPI) -> None:
    def one_line(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)

    @app.exception_handler(ServiceBusy)
    async def busy(_: Request, exc: ServiceBusy) -> JSONResponse:
        return one_line(503, str(exc), {"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(WorkTimeout)
    async def timeout(_: Request, exc: WorkTimeout) -> JSONResponse:
        return one_line(504, str(exc))

    @app.exception_handler(UsageError)
    async def usage(_: Request, exc: UsageError) -> JSONResponse:
        return one_line(422, str(exc))

    @app.exception_handler(InputError)
    async def bad_input(_: Request, exc: InputError) -> JSONResponse:
        return one_line(_input_error_status(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "body"))
        return one_line(422, f"{where}: {first.get('msg')}" if where else str(first.get("msg")))


def _pose_work(state: ServiceState, query: PoseQuery, data: bytes, source: str) -> tuple[bytes, int]:
    """Runs on a worker thread: decode, estimate, answer (JSON line or JPEG), people count."""
    options = query.estimator_options(state.config.threads)
    image = decode_image(data, source, max_pixels=options.max_image_pixels)
    with state.estimators.lease(options) as estimator:
        poses = estimator(image)
    if query.render:
        ok, encoded = cv2.imencode(".jpg", draw_poses(image, poses), [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
        if not ok:
            raise InputError(source, "cannot encode the rendered image")
        return encoded.tobytes(), len(poses)
    record = poses_to_record(poses, source=source)
    return json.dumps(record, separators=(",", ":"), allow_nan=False).encode(), len(poses)


def _api_router(state: ServiceState) -> APIRouter:
    router = APIRouter(prefix="/v1", dependencies=[Depends(ApiKeyCheck(state.config.api_key))])

    @router.post(
        "/poses",
        summary="Poses in one image",
        description="The image as multipart field `file`, or a raw body with an image content type. "
        "Answers one JSON-lines record as `posekit predict --format jsonl` writes it, or with "
        "`render=true` the annotated JPEG.",
        responses={200: {"content": {"application/json": {}, "image/jpeg": {}}}},
    )
    async def poses(request: Request, query: Annotated[PoseQuery, Query()]) -> Response:
        query.estimator_options(state.config.threads)  # options check (422) before reading the body
        upload = await read_image_upload(request)
        assert state.limiter is not None
        body, people = await state.limiter.run(lambda: _pose_work(state, query, upload.data, upload.display_name))
        state.metrics.add_frames("image", 1, people)
        return Response(body, media_type="image/jpeg" if query.render else "application/json")

    @router.get("/schemas/{name}", summary="A keypoint layout: names and drawing edges")
    async def schema(name: str) -> dict[str, Any]:
        found = SCHEMAS.get(name)
        if found is None:
            raise HTTPException(404, f"no schema {name!r}; known: {', '.join(sorted(SCHEMAS))}")
        return {"name": found.name, "keypoints": list(found.keypoint_names), "edges": [list(e) for e in found.edges]}

    return router


def _service_routes(app: FastAPI, state: ServiceState) -> None:
    @app.get("/healthz", response_model=Health, summary="Liveness and what is available")
    async def healthz() -> Health:
        from posekit.service.stream import analysis_available

        jobs = state.jobs.counts() if state.jobs is not None else {}
        return Health(
            version=__version__,
            workers=state.config.workers,
            jobs=jobs,
            analysis=analysis_available(),
            batch=state.jobs is not None,
        )

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus text exposition")
    async def metrics() -> PlainTextResponse:
        text = state.metrics.exposition(state.gauges())
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        return _static_file("index.html")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return _static_file("docs.html")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        return _static_file(name)


_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}


def _static_file(name: str) -> Response:
    # Only the page's own files, by exact name: a client's string never walks the file system.
    known = {entry.name: entry for entry in STATIC.iterdir() if entry.is_file()}
    entry = known.get(name)
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if entry is None or suffix not in _STATIC_TYPES:
        raise HTTPException(404, f"no page file {name!r}")
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return Response(entry.read_bytes(), media_type=_STATIC_TYPES[suffix], headers=headers)


def create_app(config: ServiceConfig) -> FastAPI:
    """The service for ``config``; models load when the app starts (its lifespan)."""
    state = ServiceState(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        state.limiter = WorkLimiter(config.workers, config.queue, config.request_timeout_s)
        state.streams = StreamPool(config.max_streams)
        if config.preload:  # the default request's models, one set per worker
            state.estimators.preload(PoseQuery().estimator_options(config.threads), config.workers)
        state.jobs = _start_jobs(state)
        try:
            yield
        finally:
            if state.jobs is not None:
                state.jobs.close()
            state.limiter.close()
            state.streams.close()
            state.estimators.close()

    app = FastAPI(
        title="posekit",
        version=__version__,
        summary="Multi-person pose estimation on the CPU, as a service.",
        docs_url=None,  # the stock page loads its scripts from a CDN: /docs is a local page instead
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.posekit = state
    _install_error_handlers(app)
    app.include_router(_api_router(state))
    _service_routes(app, state)
    _include_optional_routes(app, state)
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["*"], allow_headers=["*"]
        )
    app.add_middleware(GuardMiddleware, max_body_bytes=config.max_upload_bytes, metrics=state.metrics)
    return app


def _include_optional_routes(app: FastAPI, state: ServiceState) -> None:
    from posekit.service import jobs_api, stream

    app.include_router(stream.router(state))
    app.include_router(jobs_api.router(state))


def _start_jobs(state: ServiceState) -> Any:
    from posekit.service import jobs_api

    return jobs_api.start_manager(state)
