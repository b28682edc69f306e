"""Human-readable lines for cement scores (command line, module panel, report)."""

from __future__ import annotations

from .scores import PSBCV_VV_THRESHOLD_PERCENT, CementScores


def cement_summary_lines(scores: CementScores) -> list[str]:
    flag = "ABOVE" if scores.psbcv_vv_over_threshold else "below"
    lines = [
        f"cement (BCV) {scores.bcv_ml:.2f} ml in a body (VV) of {scores.vv_ml:.2f} ml: fill {scores.fill_percent:.1f} %",
        f"puncture side ({scores.side}) cement PSBCV {scores.psbcv_ml:.2f} ml = {scores.psbcv_vv_percent:.2f} % of VV "
        f"({flag} the {PSBCV_VV_THRESHOLD_PERCENT} % leakage-risk threshold)",
        f"contralateral fraction {scores.contralateral_fraction:.0%}; "
        f"{'crosses' if scores.crosses_midline else 'does not cross'} the midline",
        f"distribution score {scores.distribution_score}/8 (AP {scores.ap.score}/4, lateral {scores.lateral.score}/4)",
        f"endplate contact: {scores.endplate_contact}; pattern: {scores.pattern.pattern}",
    ]
    if scores.zones.c_zone is not None:
        lines.append(f"C lies in zone {scores.zones.c_zone}")
    if scores.leakage is not None:
        where = ", ".join(f"{name} {value:.2f} ml" for name, value in scores.leakage.by_location.items() if value > 0)
        lines.append(f"leakage {scores.leakage.volume_ml:.2f} ml" + (f" ({where})" if where else ""))
    return lines
