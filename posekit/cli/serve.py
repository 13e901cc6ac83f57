"""``posekit serve``: the HTTP API, the live WebSocket stream and the page at / (local only by default)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

_MB = 1024 * 1024


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="serve the API and the page over HTTP")
    parser.description = __doc__
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument(
        "--workers", type=int, default=1, help="model runs at once, for images and streams (default: %(default)s)"
    )
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per model run (default: %(default)s)")
    parser.add_argument("--queue", type=int, default=32, help="requests that may wait; beyond it 503")
    parser.add_argument("--job-workers", type=int, default=1, help="video jobs run at once (default: %(default)s)")
    parser.add_argument("--max-jobs", type=int, default=16, help="jobs pending or running; beyond it 503")
    parser.add_argument("--max-streams", type=int, default=4, help="WebSocket streams open at once")
    parser.add_argument(
        "--max-upload-mb", type=float, default=100.0, help="largest upload; beyond it 413 (default: 100)"
    )
    parser.add_argument("--request-timeout", type=float, default=60.0, help="seconds per request before 504")
    parser.add_argument("--job-timeout", type=float, default=3600.0, help="seconds per job before it is failed")
    parser.add_argument(
        "--api-key",
        default=None,
        help="require this key: header X-API-Key or Authorization: Bearer; ?api_key= on the stream",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow this origin by CORS (repeatable)",
    )
    parser.add_argument("--data", type=Path, default=Path("posekit-data"), help="jobs and results folder")


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from posekit.service import ServiceConfig, create_app
    except ImportError as exc:
        print(f"posekit: serve needs the server extra (pip install 'posekit[server]'): {exc}", file=sys.stderr)
        return 2
    from posekit.errors import UsageError

    try:
        config = ServiceConfig(
            data_dir=args.data,
            workers=args.workers,
            threads=args.threads,
            queue=args.queue,
            job_workers=args.job_workers,
            max_jobs=args.max_jobs,
            max_streams=args.max_streams,
            max_upload_bytes=int(args.max_upload_mb * _MB),
            request_timeout_s=args.request_timeout,
            job_timeout_s=args.job_timeout,
            api_key=args.api_key,
            cors_origins=tuple(args.cors_origin),
        )
        args.data.mkdir(parents=True, exist_ok=True)
    except UsageError as exc:
        print(f"posekit: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"posekit: cannot use --data {args.data}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"posekit: binding {args.host}: reachable from other machines", file=sys.stderr)
    print(
        f"posekit: serving http://{args.host}:{args.port}/ (API reference at /docs), data in {args.data}",
        file=sys.stderr,
    )
    logging.getLogger("posekit.service").setLevel(logging.INFO)
    uvicorn.run(
        create_app(config),
        host=args.host,
        port=args.port,
        log_level="warning",
        ws_max_size=config.max_upload_bytes,
        timeout_graceful_shutdown=5,
    )
    return 0
