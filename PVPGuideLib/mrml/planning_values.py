"""Settings as parameter-node text: validated encoding, tolerant decoding, and node references by role."""

from __future__ import annotations

import math

import numpy as np

from .planning_fields import Setting


def encode(setting: Setting, value) -> str:
    """Validate `value` for `setting` and return parameterNodeWrapper's text for it."""
    name, kind = setting.name, setting.type
    if kind is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}")
        return "True" if value else "False"
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be text, got {value!r}")
    elif (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating))
          or not math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    elif kind is int:
        if float(value) != int(value):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    if setting.choices and value not in setting.choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, setting.choices))}; got {value!r}")
    if setting.limits and not setting.limits[0] <= value <= setting.limits[1]:
        raise ValueError(f"{name} must lie between {setting.limits[0]:g} and {setting.limits[1]:g}; got {value!r}")
    return str(value)  # str(float) round-trips exactly


def decode(setting: Setting, text: str):
    """The value of `setting` stored as `text`; the default when the text is not one (edited by hand)."""
    if setting.type is bool:
        return text == "True"
    try:
        return setting.type(text)
    except ValueError:
        return setting.default  # e.g. edited by hand in the Python console


def set_reference(params, role: str, node) -> None:
    """Reference `node` (or none) under `role`, as parameterNodeWrapper stores a node field."""
    params.SetParameter(role, "")  # parameterNodeWrapper's marker that the node field is set
    params.SetNodeReferenceID(role, node.GetID() if node is not None else None)
