"""The PVPGuide phantom as a Sample Data source: a pvpguide:// URL that generates the CT here, never downloads."""

from __future__ import annotations

import email.message
import io
import tempfile
import urllib.error
import urllib.request
import urllib.response
from pathlib import Path

PHANTOM_SAMPLE_NAME = "PVPGuidePhantom"
PHANTOM_FILE_NAME = "PVPGuidePhantom.nrrd"
# Slicer's SampleDataLogic fetches a source's URIs with urllib (urlretrieve) also from Python
# (SampleData.downloadSample), where the panel's custom loader is not used: this scheme answers it.
PHANTOM_URI = f"pvpguide://phantom/{PHANTOM_FILE_NAME}"


def phantom_nrrd_bytes(seed: int = 0) -> bytes:
    """The bundled phantom's CT (generate_phantom(seed=seed)) as the bytes of a .nrrd file."""
    from ..io.ct_io import write_volume
    from ..phantom.build import generate_phantom

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / PHANTOM_FILE_NAME
        write_volume(generate_phantom(seed=seed).ct, path)
        return path.read_bytes()


class PhantomURLHandler(urllib.request.BaseHandler):
    """urllib handler of pvpguide://phantom/PVPGuidePhantom.nrrd: the phantom CT, generated on this computer."""

    def pvpguide_open(self, request):
        url = request.full_url
        if url != PHANTOM_URI:
            raise urllib.error.URLError(f"unknown PVPGuide sample {url!r}; the only one is {PHANTOM_URI}")
        data = phantom_nrrd_bytes()
        headers = email.message.Message()
        headers["Content-Type"] = "application/octet-stream"
        headers["Content-Length"] = str(len(data))
        return urllib.response.addinfourl(io.BytesIO(data), headers, url, 200)


def install_phantom_url_handler() -> None:
    """Let urllib's global opener (the one urlretrieve uses) answer pvpguide:// URLs; other schemes unchanged."""
    opener = getattr(urllib.request, "_opener", None)  # one installed by someone else is kept, extended
    if opener is None:
        urllib.request.install_opener(urllib.request.build_opener(PhantomURLHandler()))
    elif not any(isinstance(h, PhantomURLHandler) for h in opener.handlers):
        opener.add_handler(PhantomURLHandler())
