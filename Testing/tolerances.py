"""Stated tolerances for floats that cross a file (a saved scene read back)."""

# Slicer's markups JSON writer/reader does not round-trip every double bit-exactly (95 of 900 random
# coordinates came back different, by at most 1.4e-14 mm). A nanometre is far below any clinical
# meaning and still catches a lost digit or a wrong axis.
ROUND_TRIP_MM = 1e-9
