"""Height loss and the Genant semi-quantitative grade and type (SPEC section 10)."""

from __future__ import annotations

# Genant: grade 0 below 20 % loss, 1 (mild) 20-25 %, 2 (moderate) 25-40 %, 3 (severe) above 40 %.
GRADE_LIMITS_PERCENT = (20.0, 25.0, 40.0)
GRADE_NAMES = {0: "normal", 1: "mild", 2: "moderate", 3: "severe"}
# A neighbour whose anterior or middle height is below this fraction of its own posterior height is itself
# fractured (the grade-1 limit of Genant's ratios) and does not give normal heights.
NEIGHBOUR_MIN_RATIO = 0.8
# Crush: the posterior height is lowered nearly as much as the lowest one (at least this share of the largest
# loss). A deep biconcave dent also lowers the posterior third somewhat, but far less than the middle.
CRUSH_POSTERIOR_SHARE = 0.75


def height_loss_percent(normal_mm: float, measured_mm: float) -> float:
    """100 (normal - measured) / normal."""
    return 100.0 * (normal_mm - measured_mm) / normal_mm


def genant_grade(largest_loss_percent: float) -> int:
    """0-3 from the largest height loss; the upper limit of each band belongs to it (25 % is mild, 40 % moderate)."""
    low, mild, moderate = GRADE_LIMITS_PERCENT
    if largest_loss_percent < low:
        return 0
    if largest_loss_percent <= mild:
        return 1
    if largest_loss_percent <= moderate:
        return 2
    return 3


def genant_type(losses_percent: dict) -> str:
    """'wedge' (anterior lowest), 'biconcave' (middle lowest) or 'crush' (posterior lowered too: its loss reaches
    the grade-1 limit and CRUSH_POSTERIOR_SHARE of the largest loss); 'none' for grade 0."""
    largest = max(losses_percent.values())
    if genant_grade(largest) == 0:
        return "none"
    posterior = losses_percent["posterior"]
    if posterior >= GRADE_LIMITS_PERCENT[0] and posterior >= CRUSH_POSTERIOR_SHARE * largest:
        return "crush"
    return "wedge" if losses_percent["anterior"] >= losses_percent["middle"] else "biconcave"


def looks_fractured(anterior_mm: float, middle_mm: float, posterior_mm: float) -> bool:
    """A neighbour's own shape says it is fractured: its anterior or middle height below 80 % of its posterior."""
    return min(anterior_mm, middle_mm) < NEIGHBOUR_MIN_RATIO * posterior_mm
