"""`pvpguide plan` with a label map: the fracture section, the C-arm views, the report pictures and the .mrb nodes."""

import json

import numpy as np
import pytest

from PVPGuideLib.cli import main
from PVPGuideLib.phantom.build import generate_phantom, write_phantom


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("section10")
    paths = write_phantom(generate_phantom(wedge_fraction=0.45), folder / "phantom")
    out = folder / "plan"
    assert main(["plan", "--ct", str(paths["ct"]), "--segmentation", str(paths["labels"]), "--label", "31",
                 "--no-guide", "--no-cement", "--out", str(out), "--quiet"]) == 0
    return out


def test_plan_json_has_the_fracture_section_and_c_arm_views(planned):
    data = json.loads((planned / "plan.json").read_text())
    fracture = data["fracture"]["L1"]
    assert fracture["neighbours"]["above"]["level"] == "T12" and fracture["neighbours"]["below"]["level"] == "L2"
    assert fracture["genant_type"] == "wedge" and fracture["genant_grade"] >= 2  # 45 % of the height lost in front
    assert (planned / fracture["picture"]).is_file()
    c_arm = data["trajectories"][0]["c_arm"]
    for view in ("ap", "lateral"):
        assert (planned / c_arm["pictures"][view]).read_bytes()[:4] == b"\x89PNG"
    assert c_arm["checkpoint"]["verdict"] in ("pass", "fail")
    page = (planned / "report.html").read_text()
    assert "Simulated C-arm, true AP" in page and "Mid-sagittal section" in page


def test_mrb_holds_the_height_lines_and_drr_images(planned):
    from PVPGuideLib.mrml.bundle import load_scene_bundle
    from PVPGuideLib.mrml.markups import points_from_line_node
    from PVPGuideLib.mrml.parameters import get_node_reference, parameter_node
    from PVPGuideLib.mrml.volumes import ct_from_volume_node

    data = json.loads((planned / "plan.json").read_text())
    handle = load_scene_bundle(planned / "plan.mrb")  # kept: the scene lives as long as its handle
    params = parameter_node(handle.scene)
    for name in ("AVH", "MVH", "PVH"):
        line = points_from_line_node(get_node_reference(params, f"{name}_L1"))
        assert np.allclose(line, data["fracture"]["L1"]["segments"][name], atol=1e-3)
        height = np.linalg.norm(line[1] - line[0])
        assert height == pytest.approx(data["fracture"]["L1"]["heights_mm"][name], abs=1e-3)
    t = data["trajectories"][0]
    for view, title in (("ap", "AP"), ("lateral", "lateral")):
        node = get_node_reference(params, f"C-arm_{title}_L1_{t['side']}")
        image = ct_from_volume_node(node)
        geometry = t["c_arm"]["views"][view]
        assert np.allclose(image.ijk_to_ras[:3, 3], geometry["origin"], atol=1e-3)
        assert np.allclose(image.ijk_to_ras[:3, 0], np.multiply(geometry["u_axis"], geometry["pixel_mm"]), atol=1e-4)
        assert image.voxels.shape[0] == 1 and image.voxels.max() > 0
