"""PrusaSlicer's print estimate in plan.json (guide/slicer.py): the same plate gives the same figures, although
PrusaSlicer's own estimates of one STL differ between runs by seconds and hundredths of a millimetre."""

from PVPGuideLib.guide.slicer import SliceReport, format_duration


def _report(time_s, filament_mm, cm3, grams):
    return SliceReport(True, "cranial end down", time_s, filament_mm, cm3, grams, "")


def test_run_to_run_differences_of_prusaslicer_do_not_reach_plan_json():
    # Two slicings of one STL measured here: 5991.70 and 5991.71 mm of filament, print times 3 s apart.
    first = _report(9784.0, 5991.70, 14.41, 17.87).to_json()
    second = _report(9787.0, 5991.71, 14.41, 17.87).to_json()
    assert first == second
    assert first["print_time_s"] == 9780.0 and first["print_time"] == "2 h 43 min"
    assert first["filament_mm"] == 5992.0 and first["filament_cm3"] == 14.4 and first["filament_g"] == 17.9


def test_not_sliced_stays_empty():
    section = SliceReport(False, "cranial end down", None, None, None, None, "not sliced").to_json()
    assert section["print_time_s"] is None and section["filament_mm"] is None
    assert format_duration(None) == "not sliced"
