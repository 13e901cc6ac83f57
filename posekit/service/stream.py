"""``WS /v1/stream``: frames in, tracked people (and the live analysis) out, one tracker per connection.

Protocol (see docs/service.md): the server sends ``{"type": "hello", ...}`` once; the client sends
each frame as a binary message (JPEG or PNG bytes), optionally preceded by a text message
``{"timestamp_s": t}`` (else the arrival time since the connection opened is used); the server
answers each frame with ``{"type": "frame", "frame_index", "timestamp_s", "image_size", "people",
"analysis"?}`` (people as in track JSON lines) or ``{"type": "error", "detail"}``, and the stream
goes on. A client keeps one or two frames in flight: answers come in order.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from posekit import VideoPoseEstimator
from posekit.errors import InputError, UsageError
from posekit.io.formats import poses_to_record
from posekit.io.images import decode_image
from posekit.service.api_models import StreamQuery
from posekit.service.guard import key_matches
from posekit.service.inference import ServiceBusy, WorkTimeout

if TYPE_CHECKING:
    from posekit.service.app import ServiceState

logger = logging.getLogger(__name__)

CLOSE_POLICY = 1008  # bad key or options
CLOSE_TRY_LATER = 1013


def analysis_available() -> bool:
    try:
        from posekit.analysis import LiveAnalyzer  # type: ignore[attr-defined,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def _finite(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become None, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class StreamSession:
    """One connection's tracker, analyzer and frame count; :meth:`frame` runs on a worker thread."""

    def __init__(self, video: VideoPoseEstimator, analyzer: Any, max_frame_bytes: int) -> None:
        self.video = video
        self.analyzer = analyzer
        self.max_frame_bytes = max_frame_bytes
        self.frames = 0
        self.opened_s = time.monotonic()
        self.last_timestamp_s: float | None = None
        self.timed_out = False

    def timestamp(self, given: float | None) -> float:
        timestamp_s = given if given is not None else time.monotonic() - self.opened_s
        if self.last_timestamp_s is not None and timestamp_s <= self.last_timestamp_s:
            raise UsageError(f"frame timestamps must increase (got {timestamp_s:g} after {self.last_timestamp_s:g})")
        return timestamp_s

    def frame(self, data: bytes, timestamp_s: float) -> dict[str, Any]:
        name = f"frame {self.frames}"
        if len(data) > self.max_frame_bytes:
            raise InputError(name, f"frame is larger than the limit of {self.max_frame_bytes / 2**20:g} MB")
        image = decode_image(data, name)
        poses = self.video(image, timestamp_s)
        self.last_timestamp_s = timestamp_s
        record: dict[str, Any] = {"type": "frame"}
        record.update(poses_to_record(poses, frame_index=self.frames, timestamp_s=timestamp_s))
        if self.analyzer is not None:
            record["analysis"] = _finite(self.analyzer.update(poses, timestamp_s))
        self.frames += 1
        return record


def _make_analyzer(query: StreamQuery) -> Any:
    if not query.analysis or not analysis_available():
        return None
    from posekit.analysis import LiveAnalyzer  # type: ignore[attr-defined,unused-ignore]

    return LiveAnalyzer(exercise=query.exercise)


async def _refuse(websocket: WebSocket, status: int, detail: str, close_code: int) -> None:
    """Refuses before accepting: an HTTP answer where the server supports it, else a close code."""
    try:
        await websocket.send_denial_response(JSONResponse({"detail": detail}, status_code=status))
    except RuntimeError:
        await websocket.close(close_code, detail[:120])


def _parse_timestamp(text: str) -> float | None:
    try:
        message = json.loads(text)
        value = message["timestamp_s"] if isinstance(message, dict) else None
        if value is None:
            return None
        timestamp_s = float(value)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError('a text message must be {"timestamp_s": <seconds>}') from exc
    if not math.isfinite(timestamp_s):
        raise UsageError("timestamp_s must be a finite number")
    return timestamp_s


async def _serve(websocket: WebSocket, state: ServiceState, session: StreamSession) -> None:
    assert state.limiter is not None
    given_timestamp: float | None = None
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        try:
            if message.get("text") is not None:
                given_timestamp = _parse_timestamp(message["text"])
                continue
            data = message.get("bytes") or b""
            timestamp_s = session.timestamp(given_timestamp)
            given_timestamp = None
            answer = await state.limiter.run(functools.partial(session.frame, data, timestamp_s), admit=False)
        except WorkTimeout as exc:
            # The frame still runs on its worker thread: this tracker cannot take another one.
            session.timed_out = True
            await websocket.send_text(json.dumps({"type": "error", "frame_index": session.frames, "detail": str(exc)}))
            await websocket.close(CLOSE_TRY_LATER, "frame time limit exceeded")
            return
        except (InputError, UsageError) as exc:
            await websocket.send_text(json.dumps({"type": "error", "frame_index": session.frames, "detail": str(exc)}))
            continue
        state.metrics.add_frames("stream", 1, len(answer["people"]))
        await websocket.send_text(json.dumps(answer, separators=(",", ":"), allow_nan=False))


def router(state: ServiceState) -> APIRouter:
    api = APIRouter()

    @api.websocket("/v1/stream")
    async def stream(websocket: WebSocket) -> None:
        params = dict(websocket.query_params)
        given_key = params.pop("api_key", None) or websocket.headers.get("x-api-key")
        if not key_matches(given_key, state.config.api_key):
            await _refuse(websocket, 401, "missing or wrong API key (?api_key=)", CLOSE_POLICY)
            return
        try:
            query = StreamQuery.model_validate(params)
            options = query.video_options(state.config.threads)
            analyzer = _make_analyzer(query)  # an unknown exercise is refused here
        except (ValidationError, UsageError) as exc:
            detail = str(exc).splitlines()[0] if isinstance(exc, UsageError) else _first_error(exc)
            await _refuse(websocket, 422, detail, CLOSE_POLICY)
            return
        assert state.streams is not None
        try:
            video = state.streams.acquire(options)
        except ServiceBusy as exc:
            await _refuse(websocket, 503, str(exc), CLOSE_TRY_LATER)
            return
        session = None
        try:
            session = StreamSession(video, analyzer, state.config.max_upload_bytes)
            await websocket.accept()
            hello = {"type": "hello", "analysis": session.analyzer is not None, "options": query.model_dump()}
            if query.analysis and session.analyzer is None:
                hello["note"] = "live analysis unavailable: posekit.analysis is not installed"
            await websocket.send_text(json.dumps(hello))
            await _serve(websocket, state, session)
        except WebSocketDisconnect:
            pass
        finally:
            state.streams.release(video, reuse=session is not None and not session.timed_out)

    return api


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
