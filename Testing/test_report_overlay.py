"""Pictures drawn and written with VTK, checked by content: pixel colours at places known from the construction."""

import numpy as np
import pytest

from PVPGuideLib.report.overlay import Band, Label, Ring, draw_overlay
from PVPGuideLib.report.png import png_bytes, png_rgb, png_size

GREY = 100
YELLOW, RED, WHITE = (255, 225, 80), (235, 70, 70), (255, 255, 255)


def flat(rows=120, columns=160):
    return np.full((rows, columns, 3), GREY, np.uint8)


def test_png_round_trip_and_size():
    rng = np.random.default_rng(3)
    picture = rng.integers(0, 256, (37, 53, 3)).astype(np.uint8)
    data = png_bytes(picture)
    assert png_size(data) == (53, 37)
    assert np.array_equal(png_rgb(data), picture)  # lossless, row 0 at the top
    assert png_bytes(picture) == data  # the same picture gives the same bytes
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + bytes(30))
    with pytest.raises(ValueError, match="rows, columns, 3"):
        png_bytes(np.zeros((4, 4), np.uint8))


def test_nothing_drawn_leaves_the_picture_unchanged():
    picture = np.random.default_rng(1).integers(0, 256, (50, 70, 3)).astype(np.uint8)
    assert np.array_equal(draw_overlay(picture), picture)


def test_band_blends_its_colour_by_its_opacity_inside_and_leaves_the_outside():
    # a horizontal band along row 60 (y = 60.0 is a pixel edge), 6 pixels wide: rows 57-62 are wholly inside
    out = draw_overlay(flat(), bands=[Band((10.0, 60.0), (150.0, 60.0), 6.0, YELLOW, opacity=0.6)])
    expected = np.rint(0.4 * GREY + 0.6 * np.array(YELLOW))
    for row in (57, 59, 60, 62):
        assert np.abs(out[row, 80].astype(int) - expected).max() <= 1, row
    for row in (55, 65):  # a pixel or more beyond the band's edges (57 and 63)
        assert np.array_equal(out[row, 80], [GREY] * 3), row
    assert np.array_equal(out[60, 5], [GREY] * 3)  # before the band's start (column 10)
    assert np.array_equal(out[60, 155], [GREY] * 3)  # after its end (column 150)


def test_band_edges_are_anti_aliased():
    # a white band 7 pixels wide about y = 60: its edges at y = 56.5 and 63.5 cut pixels 56 and 63, which get a
    # part of the colour; summed down a column, the shares add up to the band's width (to a quarter pixel)
    out = draw_overlay(flat(), bands=[Band((10.0, 60.0), (150.0, 60.0), 7.0, WHITE)])
    share = (out[:, 80, 0].astype(float) - GREY) / (255 - GREY)
    assert np.all(share[57:63] == 1.0)
    for row in (56, 63):
        assert 0.0 < share[row] < 1.0, row
    assert share.sum() == pytest.approx(7.0, abs=0.3)


def test_ring_marks_its_circle_and_leaves_its_centre():
    # radius 10, width 4: the ring covers 8 <= r <= 12 about (50, 50); pixel (column 59, row 49) spans
    # r = 9.0 .. 10.05, wholly inside; the pixels at the centre and beyond r = 13 are untouched
    out = draw_overlay(flat(100, 100), rings=[Ring((50.0, 50.0), 10.0, 4.0, RED)])
    for column, row in ((59, 49), (40, 50), (49, 59), (50, 40)):
        assert np.abs(out[row, column].astype(int) - RED).max() <= 1, (column, row)
    for column, row in ((49, 49), (50, 50), (64, 50), (50, 35), (35, 50)):
        assert np.array_equal(out[row, column], [GREY] * 3), (column, row)


@pytest.mark.parametrize(("align", "valign"), [("left", "top"), ("right", "bottom"), ("centre", "middle")])
def test_text_ink_and_halo_sit_where_the_anchor_and_alignment_say(align, valign):
    anchor = (80.0, 60.0)
    out = draw_overlay(flat(), labels=[Label("C 10 mm", anchor, RED, size=16, align=align, valign=valign)])
    changed = np.any(out != GREY, axis=-1)
    rows, columns = np.nonzero(changed)
    assert rows.size > 50
    ink = np.all(np.abs(out.astype(int) - RED) <= 8, axis=-1)  # pixels wholly covered by the text
    halo = np.all(out <= 8, axis=-1)  # the black outline around it
    assert ink.sum() > 20 and halo.sum() > 20
    # the text's box (plus its one-pixel halo) lies on the anchor's side the alignment names
    column_range = {"left": (anchor[0] - 2, anchor[0] + 90), "right": (anchor[0] - 90, anchor[0] + 2),
                    "centre": (anchor[0] - 45, anchor[0] + 45)}[align]
    row_range = {"top": (anchor[1] - 2, anchor[1] + 22), "bottom": (anchor[1] - 22, anchor[1] + 2),
                 "middle": (anchor[1] - 12, anchor[1] + 12)}[valign]
    assert column_range[0] <= columns.min() and columns.max() <= column_range[1]
    assert row_range[0] <= rows.min() and rows.max() <= row_range[1]
    if align == "centre":
        assert abs(0.5 * (columns.min() + columns.max()) - anchor[0]) <= 2
        assert abs(0.5 * (rows.min() + rows.max()) - anchor[1]) <= 3  # the font's box holds room for descenders


def test_text_is_clipped_at_the_picture_edge():
    out = draw_overlay(flat(30, 30), labels=[Label("A B C", (20.0, 5.0), WHITE)])
    assert out.shape == (30, 30, 3) and np.any(out != GREY)


def test_same_drawing_same_pixels():
    def draw():
        return draw_overlay(flat(), bands=[Band((3.3, 7.1), (140.2, 99.9), 2.4, YELLOW, 0.6)],
                            rings=[Ring((60.2, 40.7), 7.0, 2.0, RED)], labels=[Label("A", (68.0, 33.0), RED)])

    assert np.array_equal(draw(), draw())
