"""posekit as an HTTP service: images, video jobs, a live WebSocket stream and a page.

``posekit serve`` runs it; in code::

    from posekit.service import ServiceConfig, create_app
    app = create_app(ServiceConfig(data_dir=Path("serve-data")))   # an ASGI app (FastAPI)

Needs the ``server`` extra (FastAPI, uvicorn, python-multipart). See docs/service.md.
"""

from posekit.service.app import create_app
from posekit.service.config import ServiceConfig

__all__ = ["ServiceConfig", "create_app"]
