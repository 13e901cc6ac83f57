"""A headless Chromium driven over the DevTools protocol (``websockets``), for the page tests.

Loopback only: the browser is started with every background network feature off and talks to
the test's own server on 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = "/usr/bin/chromium"


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which("chromium") is not None


class Browser:
    """One page of a headless Chromium; ``call`` sends a DevTools command and waits for its answer."""

    def __init__(self, port: int, extra_flags: tuple[str, ...] = ()) -> None:
        self.profile = tempfile.mkdtemp(prefix="posekit-chromium-")
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            f"--user-data-dir={self.profile}",
            f"--remote-debugging-port={port}",
            "--window-size=1280,1000",
            *extra_flags,
            "about:blank",
        ]
        self.process = subprocess.Popen(
            [CHROMIUM, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self._ids = itertools.count(1)
        self._stack = contextlib.ExitStack()
        self.socket: ClientConnection = self._stack.enter_context(
            connect(self._page_socket(port), max_size=64 * 1024 * 1024)
        )
        self.call("Page.enable")
        self.call("Runtime.enable")

    def _page_socket(self, port: int, timeout_s: float = 30.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=1) as answer:
                    pages = [t for t in json.load(answer) if t.get("type") == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.2)
        raise RuntimeError("Chromium's DevTools endpoint did not come up")

    def call(self, method: str, timeout_s: float = 30.0, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    def evaluate(self, expression: str, timeout_s: float = 30.0) -> Any:
        result = self.call("Runtime.evaluate", timeout_s, expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && !!document.getElementById('view')")

    def wait_for(self, condition: str, timeout_s: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(RuntimeError):
                value = self.evaluate(condition)
                if value:
                    return value
            time.sleep(0.1)
        raise TimeoutError(f"page condition not met in {timeout_s} s: {condition}")

    def set_file(self, selector: str, path: Path) -> None:
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.call("DOM.setFileInputFiles", nodeId=node, files=[str(path)])

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


@contextlib.contextmanager
def browser(port: int, *extra_flags: str) -> Iterator[Browser]:
    page = Browser(port, tuple(extra_flags))
    try:
        yield page
    finally:
        page.close()


def write_y4m(frames_bgr: list[Any], path: Path, fps: int = 30) -> None:
    """YUV4MPEG2 (a text header, then raw I420 frames): Chromium's fake camera plays it in a loop."""
    import cv2

    height, width = frames_bgr[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames_bgr:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
