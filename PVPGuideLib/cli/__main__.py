"""`python -m PVPGuideLib.cli`: the pvpguide command."""

from __future__ import annotations

import sys

from . import console_main

sys.exit(console_main())
