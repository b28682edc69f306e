"""The one error base class for bad input: every module's input errors derive from it.

Callers (the CLI, the Slicer panel) tell "the user's input is wrong" (a PVPGuideError: exit 2, a
message naming the problem and what to do) from "the program has a bug" (anything else).
"""


class PVPGuideError(ValueError):
    """Bad input: a file, an argument or a scan that PVPGuide cannot plan on, with what to do."""
