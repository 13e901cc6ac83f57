"""What one ``posekit serve`` process is configured with (set once, from the command line)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from posekit.errors import UsageError


@dataclass(frozen=True)
class ServiceConfig:
    """Everything that configures the HTTP service.

    * ``data_dir``: jobs, their uploads and their results live here (and survive a restart).
    * ``workers``: model runs at once (image requests and stream frames share them); each run
      uses ``threads`` CPU threads. ``queue``: requests that may wait for a worker; beyond
      ``workers + queue`` a request is answered 503 with ``Retry-After``.
    * ``job_workers``: video jobs run at once; ``max_jobs``: jobs pending or running before a new
      one is refused (503).
    * ``max_streams``: WebSocket streams at once (each holds its own tracker and models).
    * ``max_upload_bytes``: larger bodies are refused (413) before they are read.
    * ``request_timeout_s`` / ``job_timeout_s``: a request or a job taking longer fails (504 / failed).
    * ``api_key``: when set, every ``/v1`` call needs it (``X-API-Key`` or ``Authorization:
      Bearer``; ``?api_key=`` on the WebSocket). ``cors_origins``: origins allowed by CORS (none: no
      CORS headers at all).
    """

    data_dir: Path
    workers: int = 1
    threads: int = 2
    queue: int = 32
    job_workers: int = 1
    max_jobs: int = 16
    max_streams: int = 4
    max_upload_bytes: int = 100 * 1024 * 1024
    request_timeout_s: float = 60.0
    job_timeout_s: float = 3600.0
    api_key: str | None = None
    cors_origins: tuple[str, ...] = ()
    preload: bool = True

    def __post_init__(self) -> None:
        for name in ("workers", "threads", "job_workers", "max_jobs", "max_streams", "max_upload_bytes"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.queue < 0:
            raise UsageError(f"queue must be >= 0, got {self.queue}")
        if self.request_timeout_s <= 0 or self.job_timeout_s <= 0:
            raise UsageError("request_timeout_s and job_timeout_s must be positive")
        if self.api_key is not None and not self.api_key:
            raise UsageError("api_key must not be empty (leave it out for no key)")
