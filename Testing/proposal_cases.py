"""Phantoms and vertebra analyses shared by the automatic-planning tests (built once per test session)."""

from functools import cache

import numpy as np

from PVPGuideLib.core.geometry import VertebraFrame, needle_angles
from PVPGuideLib.phantom.build import generate_phantom
from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_ct, vertebra_from_labels

L1 = 31
# Poses and conditions of issue 4's acceptance: upright, 25 degrees about every axis (one at a time and all
# together), a 30 % wedge fracture (upright and turned), low bone density, an LPS-stored oblique grid.
SCENARIOS = {
    "upright": {},
    "about_R_25": {"rotation_deg": (25.0, 0.0, 0.0)},
    "about_A_25": {"rotation_deg": (0.0, -25.0, 0.0)},
    "about_S_25": {"rotation_deg": (0.0, 0.0, 25.0)},
    "all_axes_25": {"rotation_deg": (25.0, -25.0, 25.0)},
    "wedge_30": {"wedge_fraction": 0.3},
    "wedge_30_turned": {"wedge_fraction": 0.3, "rotation_deg": (15.0, 25.0, -20.0)},
    "low_density": {"bone_density": "low", "rotation_deg": (10.0, -10.0, 20.0)},
    "lps_oblique_grid": {"direction": np.diag([-1.0, -1.0, 1.0]), "rotation_deg": (-25.0, 20.0, -15.0)},
}


@cache
def phantom(name: str):
    return generate_phantom(**SCENARIOS[name])


@cache
def analysis(name: str, source: str = "labels"):
    """L1 of a scenario analysed from its labels, labels + body split ('parts'), or the CT alone ('ct')."""
    p = phantom(name)
    if source == "labels":
        masks = vertebra_from_labels(p.ct, p.labels, L1)
    elif source == "parts":
        masks = vertebra_from_labels(p.ct, p.labels, L1, parts=p.parts)
    else:
        # A user's click inside the body, a few mm off its centre.
        seed = np.asarray(p.truth["levels"]["L1"]["body_centre"]) + [3.0, -2.0, 2.0]
        masks = vertebra_from_ct(p.ct, seed=seed, level="L1")
    return analyse_vertebra(masks)


def truth_frame(level_truth: dict) -> VertebraFrame:
    f = level_truth["frame"]
    return VertebraFrame.from_axes(origin=f["origin"], right=f["right"], anterior=f["anterior"], superior=f["superior"])


def truth_angles(level_truth: dict, side: str):
    """SPEC section 4 angles of the truth path B->C in the truth frame."""
    plan = level_truth["plans"][side]
    return needle_angles(np.subtract(plan["C"], plan["B"]), side, truth_frame(level_truth))


def assert_spec_points(analysis, level_truth: dict, tolerance_mm: float = 1.5) -> None:
    """The SPEC construction's B and C on both sides within tolerance_mm of the phantom's constructed points."""
    from PVPGuideLib.planning.proposal import propose_points

    for side in ("left", "right"):
        points = propose_points(analysis, side, adjust=False)
        plan = level_truth["plans"][side]
        assert np.linalg.norm(points.b - plan["B"]) <= tolerance_mm, side
        assert np.linalg.norm(points.c - plan["C"]) <= tolerance_mm, side


def voxel_ras(ct) -> np.ndarray:
    """(K, J, I, 3) RAS centres of every voxel of a CT, for drawing shapes into its label maps."""
    kk, jj, ii = np.meshgrid(*[np.arange(n) for n in ct.voxels.shape], indexing="ij")
    return ct.ijk_to_ras_points(np.stack([ii.ravel(), jj.ravel(), kk.ravel()], axis=1)).reshape(*ct.voxels.shape, 3)


def body_part_labelled_as_t12(phantom_case) -> tuple[np.ndarray, np.ndarray]:
    """The phantom's labels with a 12 x 10 x 8 mm block of L1's body, in its posterolateral quadrant, labelled T12
    (32), as TotalSegmentator did on the DICOM slab; and the block."""
    labels = phantom_case.labels.voxels.copy()
    centre = np.asarray(phantom_case.truth["levels"]["L1"]["body_centre"], float)
    ras = voxel_ras(phantom_case.ct)
    block = ((np.abs(ras[..., 0] - centre[0] - 10.0) <= 6.0) & (np.abs(ras[..., 1] - centre[1] + 6.0) <= 5.0)
             & (np.abs(ras[..., 2] - centre[2]) <= 4.0) & (labels == L1))
    labels[block] = 32
    return labels, block
