"""The phantom Sample Data URL: urllib fetches the generated phantom CT, as Slicer's SampleData does from Python."""

from __future__ import annotations

import urllib.error
import urllib.request

import numpy as np
import pytest

from PVPGuideLib.io.ct_io import read_ct
from PVPGuideLib.mrml.planning_sample import PHANTOM_URI, PhantomURLHandler
from PVPGuideLib.phantom.build import generate_phantom


def test_the_phantom_url_gives_the_phantom_ct(tmp_path):
    opener = urllib.request.build_opener(PhantomURLHandler())  # not the global opener: tests leave it alone
    path = tmp_path / "PVPGuidePhantom.nrrd"
    with opener.open(PHANTOM_URI) as response:
        path.write_bytes(response.read())
    ct = read_ct(path)
    expected = generate_phantom(seed=0).ct
    np.testing.assert_array_equal(ct.voxels, expected.voxels)
    np.testing.assert_allclose(ct.ijk_to_ras, expected.ijk_to_ras, rtol=0, atol=1e-6)  # through the file's header


def test_other_pvpguide_urls_are_refused():
    opener = urllib.request.build_opener(PhantomURLHandler())
    with pytest.raises(urllib.error.URLError, match="unknown PVPGuide sample"):
        opener.open("pvpguide://phantom/other.nrrd")
