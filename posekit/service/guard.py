"""The service's gate: API key, body size limit, and per-request metrics.

:class:`GuardMiddleware` is plain ASGI (no per-request task or copy of the body): it refuses a
body over the limit with 413 from its ``Content-Length`` before reading it, counts the bytes of a
body sent without one and stops it at the limit, and times every request for ``/metrics``.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posekit.service.metrics import Metrics


class BodyTooLarge(HTTPException):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(413, f"the upload is larger than the limit of {limit_bytes / 2**20:g} MB (--max-upload-mb)")


def key_matches(given: str | None, expected: str | None) -> bool:
    """True when no key is configured, or ``given`` is it (compared in constant time)."""
    if expected is None:
        return True
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


def request_key(request: Request) -> str | None:
    """The key a request carries: ``X-API-Key``, or ``Authorization: Bearer <key>``."""
    header = request.headers.get("x-api-key")
    if header is not None:
        return header
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


class ApiKeyCheck:
    """A FastAPI dependency: 401 unless the request carries the configured key."""

    def __init__(self, api_key: str | None) -> None:
        self.api_key = api_key

    def __call__(self, request: Request) -> None:
        if not key_matches(request_key(request), self.api_key):
            raise HTTPException(
                401,
                "missing or wrong API key (send X-API-Key or Authorization: Bearer)",
                {"WWW-Authenticate": "Bearer"},
            )


class GuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await _send_error(send_counted, BodyTooLarge(self.max_body_bytes))
                return
            await self.app(scope, self._limited(receive), send_counted)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], label, status["code"], time.perf_counter() - started)

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        return receive_limited


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_error(send: Send, error: HTTPException) -> None:
    body = json.dumps({"detail": error.detail}).encode()
    headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers.append((b"connection", b"close"))  # the unread body is not drained
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
