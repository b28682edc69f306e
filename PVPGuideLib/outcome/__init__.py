"""After surgery (SPEC section 10): height recovery, Cobb change and the cement, against the plan."""

from .cement import score_postop_cement
from .recovery import height_recovery

__all__ = ["height_recovery", "score_postop_cement"]
