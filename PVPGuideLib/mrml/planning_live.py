"""A follows B and C live: A re-found on C->B extended to the skin at every move, from a cached skin index."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from ..core.mesh import TriangleMesh
from ..planning.skin import SkinEntry, SkinEntryStatus, SkinSurface, find_skin_entry
from .models import _poly_data


class SkinRayIndex:
    """A skin surface with a VTK cell locator built once, so a ray from B finds A in milliseconds."""

    # find_skin_entry tests every triangle of the skin (about 0.1 s on a 512 x 512 CT); here the locator
    # first picks the triangles whose cells the ray passes, then find_skin_entry runs on those only: the
    # same rule and arithmetic, so the same A.

    def __init__(self, skin: SkinSurface):
        from vtkmodules.vtkCommonDataModel import vtkStaticCellLocator

        self.skin = skin
        self._poly = _poly_data(skin.mesh)
        self._locator = vtkStaticCellLocator()
        self._locator.SetDataSet(self._poly)
        self._locator.BuildLocator()
        lo, hi = skin.ct.bounds_ras()
        # the same reach as find_skin_entry: far enough to leave any CT from any point inside it
        self._reach = 2.0 * float(np.linalg.norm(hi - lo)) + float(np.max(skin.ct.spacing)) * 4

    def candidate_faces(self, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Indices of the triangles near the ray from B away from C (a superset of those it crosses)."""
        from vtkmodules.vtkCommonCore import vtkIdList

        direction = b - c
        end = b + self._reach * direction / np.linalg.norm(direction)
        cells = vtkIdList()
        self._locator.FindCellsAlongLine(b.tolist(), end.tolist(), 1e-6, cells)
        return np.array([cells.GetId(i) for i in range(cells.GetNumberOfIds())], dtype=np.int64)

    def entry(self, b, c) -> SkinEntry:
        """find_skin_entry(skin, b, c), on the triangles along the ray only."""
        b, c = np.asarray(b, float), np.asarray(c, float)
        if not np.all(np.isfinite(b)) or not np.all(np.isfinite(c)) or np.allclose(b, c):
            return find_skin_entry(self.skin, b, c)  # its own clear refusal
        near = self.skin.mesh.faces[self.candidate_faces(b, c)]
        subset = TriangleMesh(self.skin.mesh.vertices, near.reshape(-1, 3))
        return find_skin_entry(dataclasses.replace(self.skin, mesh=subset), b, c)


def follow_b_and_c(logic, moved: str) -> dict:
    """After B or C moved: unless A is locked, put A where C->B extended meets the skin; then measure.

    `logic` is the scene's PlanningLogic. Returns the measurements (plan.json's trajectory keys). When
    the ray finds no skin (B outside the body, skin beyond the field of view) A stays and the status says why.
    """
    settings = logic.settings()
    notes = []
    if moved in ("B", "C") and not settings["pointALocked"] and not settings["pointsLocked"]:
        b, c = logic.point("B", required=False), logic.point("C", required=False)
        if b is not None and c is not None:
            ct = logic.state.ct_geometry()
            if bool(ct.contains(b)[0]) and bool(ct.contains(c)[0]) and not np.allclose(b, c):
                entry = skin_index(logic, settings["skinThresholdHu"]).entry(b, c)
                if entry.status is SkinEntryStatus.FOUND:
                    logic.set_point("A", entry.point)
                    logic.parameter_node().SetParameter("skinEntryPoint", json.dumps([float(x) for x in entry.point]))
                else:
                    notes.append(f"A not moved: {entry.message}")
    data = logic.measure()
    if notes:
        params = logic.parameter_node()
        params.SetParameter("status", "; ".join(notes + [params.GetParameter("status")]))
    return data


def skin_index(logic, threshold_hu: float) -> SkinRayIndex:
    """The scene's skin index, built once per CT and threshold (the skin itself is PlanningLogic's cache)."""
    from ..core.progress import Steps

    skin = logic.state.skin(threshold_hu, Steps(["reading the CT", "extracting the skin surface"], None))
    if logic.state.skin_index is None or logic.state.skin_index.skin is not skin:
        logic.state.skin_index = SkinRayIndex(skin)
    return logic.state.skin_index

