"""The PVPGuide parameter node: typed values stored as JSON strings, and node references by role."""

from __future__ import annotations

import json

import numpy as np

from .errors import MRMLAdapterError

MODULE_NAME = "PVPGuide"


def parameter_node(scene, name: str = MODULE_NAME):
    """The scene's vtkMRMLScriptedModuleNode `name`, created when missing.

    It is a singleton tagged `name` with the ModuleName attribute set, the same node Slicer's
    ScriptedLoadableModuleLogic.getParameterNode() returns for a module called `name`, so the
    Slicer module and the command line read and write one node.
    """
    node = scene.GetSingletonNode(name, "vtkMRMLScriptedModuleNode")
    if node is None:
        node = scene.CreateNodeByClass("vtkMRMLScriptedModuleNode")
        node.UnRegister(None)  # CreateNodeByClass hands over a reference Python already holds
        node.SetSingletonTag(name)
        node.SetName(name)
        node.SetAttribute("ModuleName", name)
        node = scene.AddNode(node)
    return node


def _plain(value, key: str):
    """JSON-ready copy of `value`; numpy scalars and arrays become Python numbers and lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v, key) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise MRMLAdapterError(f"parameter '{key}': dictionary keys must be strings")
        return {k: _plain(v, key) for k, v in value.items()}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise MRMLAdapterError(f"parameter '{key}' has type {type(value).__name__}; use str, int, float, bool, list or dict")


def _encode(value, key: str) -> str:
    plain = _plain(value, key)
    # JSON floats are repr()-exact; sorted keys and fixed separators make the text deterministic.
    # NaN/inf are refused: they are not JSON and no PVPGuide setting or result should be one.
    try:
        return json.dumps(plain, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        raise MRMLAdapterError(f"parameter '{key}' is not a finite number: {value!r}") from exc


def set_parameters(node, values: dict) -> None:
    """Store each value as JSON text under its key (keys: non-empty str).

    Values round-trip exactly through get_parameters() and through a saved scene: floats keep
    every bit, str stays str (encoded as a JSON string), tuples come back as lists.
    """
    encoded = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise MRMLAdapterError(f"parameter names must be non-empty strings, got {key!r}")
        encoded[key] = _encode(value, key)
    modifying = node.StartModify()  # one Modified event for the batch
    try:
        for key in sorted(encoded):
            node.SetParameter(key, encoded[key])
    finally:
        node.EndModify(modifying)


def get_parameters(node) -> dict:
    """{name: value} of every parameter, sorted by name; text that is not JSON comes back as str."""
    result = {}
    for key in sorted(node.GetParameterNames()):
        text = node.GetParameter(key)
        try:
            result[key] = json.loads(text)
        except ValueError:
            result[key] = text  # set by someone else (e.g. by hand in Slicer's Python console)
    return result


def set_node_reference(node, role: str, referenced_node) -> None:
    """Make parameter `node` reference `referenced_node` under `role` (None removes it)."""
    node.SetNodeReferenceID(role, referenced_node.GetID() if referenced_node is not None else None)


def get_node_reference(node, role: str):
    """The node referenced under `role`, or None."""
    return node.GetNodeReference(role)


def node_reference_roles(node) -> list[str]:
    """Roles that currently reference a node, sorted."""
    roles = []
    node.GetNodeReferenceRoles(roles)
    return sorted(role for role in roles if node.GetNodeReference(role) is not None)
