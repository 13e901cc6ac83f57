"""Reading an upload: a multipart field ``file``, or a raw body with a media content type.

The name a client gives is kept for display only (``source`` in answers); files are stored under
names the service makes. The content type only picks how the body is read: what it holds is
checked by decoding it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile

_CHUNK_BYTES = 1 << 20
_MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class Upload:
    display_name: str  # the client's file name (or "upload"), for answers only
    data: bytes


def display_name(given: str | None, default: str = "upload") -> str:
    """The last component of a client's file name, printable, at most 200 characters."""
    name = (given or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:_MAX_NAME_CHARS].strip()
    return name or default


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _check_raw_type(media_type: str, kind: str) -> None:
    if media_type.startswith(f"{kind}/") or media_type == "application/octet-stream":
        return
    got = media_type or "no content type"
    raise HTTPException(
        415, f"send the {kind} as multipart field 'file' or as a raw body with an {kind}/* content type (got {got})"
    )


async def _form_file(request: Request) -> UploadFile:
    form = await request.form(max_files=1, max_fields=32)
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise HTTPException(422, "multipart field 'file' is missing (send the upload as field 'file')")
    return file


async def read_image_upload(request: Request) -> Upload:
    """The image bytes of a ``POST /v1/poses`` (in memory: images are small next to the limit)."""
    media_type = _media_type(request)
    if media_type == "multipart/form-data":
        file = await _form_file(request)
        try:
            return Upload(display_name(file.filename), await file.read())
        finally:
            await file.close()
    _check_raw_type(media_type, "image")
    return Upload(display_name(request.headers.get("x-file-name")), await request.body())


async def save_video_upload(request: Request, path: Path) -> str:
    """Streams a video upload into ``path`` (written under a temporary name, then renamed);
    returns the client's name for it."""
    media_type = _media_type(request)
    temp = path.with_name(f".{path.name}.part")
    try:
        with temp.open("wb") as out:
            if media_type == "multipart/form-data":
                file = await _form_file(request)
                name = display_name(file.filename, "video")
                try:
                    while chunk := await file.read(_CHUNK_BYTES):
                        out.write(chunk)
                finally:
                    await file.close()
            else:
                _check_raw_type(media_type, "video")
                name = display_name(request.headers.get("x-file-name"), "video")
                async for chunk in request.stream():
                    out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return name
