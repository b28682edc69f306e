"""Reading a written report back: every number tied to plan.json, every embedded picture."""

import base64
import re
from html.parser import HTMLParser

from PVPGuideLib.report.formatting import format_value, resolve
from PVPGuideLib.report.png import png_size


class ReportParser(HTMLParser):
    """Collects number spans (data-key, data-format, text) and images (src, width, height)."""

    def __init__(self):
        super().__init__()
        self.values, self.images, self.tags = [], [], []
        self._open = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.images.append(attrs)
        if "data-key" in attrs:
            self._open = {"key": attrs["data-key"], "format": attrs["data-format"], "text": ""}

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if tag == "span" and self._open is not None:
            self.values.append(self._open)
            self._open = None


def parse_report(text: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(text)
    return parser


def mismatched_values(values, data) -> list:
    """(key, shown, expected) for every shown number that is not plan.json's value with the documented rounding."""
    wrong = []
    for v in values:
        try:
            value = resolve(data, v["key"])
        except (KeyError, IndexError, TypeError):
            value = None
        expected = format_value(v["format"], value)
        if v["text"].strip() != expected:
            wrong.append((v["key"], v["text"], expected))
    return wrong


def embedded_png(src: str) -> bytes:
    match = re.fullmatch(r"data:image/png;base64,([A-Za-z0-9+/=]+)", src)
    assert match, f"not an embedded PNG: {src[:60]}"
    data = base64.b64decode(match.group(1))
    png_size(data)  # raises for anything but a PNG
    return data
