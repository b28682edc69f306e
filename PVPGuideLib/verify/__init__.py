"""The intra-operative needle check (SPEC section 10): vertebra registration, needle detection, accuracy."""

from .check import NeedleCheck, check_needle
from .errors import VerifyError
from .needle import Needle, find_single_needle
from .register import Registration, register_vertebra

__all__ = ["Needle", "NeedleCheck", "Registration", "VerifyError", "check_needle", "find_single_needle",
           "register_vertebra"]
