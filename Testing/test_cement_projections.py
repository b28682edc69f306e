"""Projection pictures and the plan's cement section."""

import json

import numpy as np
import pytest
from cement_cases import Vertebra

from PVPGuideLib.cement import analyse_body, plan_cement, projection_png_bytes, projection_rgb, score_cement
from PVPGuideLib.cement.projections import BODY, BODY_SCORING, CEMENT, DEFAULT_SCALE, GRID, OUTLINE


@pytest.fixture(scope="module")
def scores():
    v = Vertebra()
    body = analyse_body(v.ct, v.body, v.frame)
    # the lower half of the right-anterior-superior octant: half of AP superior_right and of lateral
    # superior_anterior, which both score
    return score_cement(body, v.inside_box((0, 0, 0), (20, 15, 6)), side="left")


def colour_count(picture, colour):
    return int(np.all(picture == np.array(colour, np.uint8), axis=-1).sum())


def test_picture_layout(scores):
    ap = projection_rgb(scores.ap)
    rows, columns, _ = ap.shape
    scale = DEFAULT_SCALE
    assert (rows, columns) == (scores.ap.body.shape[1] * scale, scores.ap.body.shape[0] * scale)
    for colour in (BODY, BODY_SCORING, CEMENT, OUTLINE, GRID):
        assert colour_count(ap, colour) > 0
    # the cement (patient's right, superior) sits in the picture's upper left: radiograph convention
    cement_rows, cement_columns = np.nonzero(np.all(ap == np.array(CEMENT, np.uint8), axis=-1))
    assert cement_rows.mean() < rows / 2 and cement_columns.mean() < columns / 2
    lateral = projection_rgb(scores.lateral)
    cement_rows, cement_columns = np.nonzero(np.all(lateral == np.array(CEMENT, np.uint8), axis=-1))
    assert cement_columns.mean() < lateral.shape[1] / 2  # anterior on the left


def test_png_bytes_are_deterministic(scores):
    first, second = projection_png_bytes(scores.ap), projection_png_bytes(scores.ap)
    assert first.startswith(b"\x89PNG\r\n\x1a\n") and first == second
    assert projection_png_bytes(scores.lateral) != first


def test_plan_section_is_json_ready_and_uses_the_score_keys():
    v = Vertebra()
    planned = plan_cement(v.ct, v.body, side="left", c=v.to_ras((9.5, 8.5, 0.5)), b=v.to_ras((-14, -20, 0)),
                          frame=v.frame, volume_ml=4.5)
    section = json.loads(json.dumps(planned.section, allow_nan=False))
    assert section["planned_volume_ml"] == 4.5
    assert section["bcv_ml"] == pytest.approx(4.5, rel=0.02)
    assert section["psbcv_vv_percent"] < section["conventional_path"]["psbcv_vv_percent"]
    assert set(section["nine_zones"]["fractions"]) == {f"{r}_{c}" for r in ("anterior", "middle", "posterior")
                                                        for c in ("left", "central", "right")}
    assert planned.prediction.mask.sum() == pytest.approx(4500, abs=1)
    derived = plan_cement(v.ct, v.body, side="left", c=v.to_ras((9.5, 8.5, 0.5)), posterior_mask=v.posterior,
                          volume_ml=3.0, compare=False)
    assert "conventional_path" not in derived.section and derived.section["leakage"] is None
