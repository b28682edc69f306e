"""The 3D picture of one trajectory: the vertebra's bone, the skin around A, the needle, A/B/C and the guide plate."""

from __future__ import annotations

import numpy as np

from ..core.mesh import TriangleMesh
from . import colours
from .path_geometry import PathGeometry
from .vtk_render import SceneCamera, SceneLabel, SceneMesh, SceneTube, render_scene

SKIN_PATCH_RADIUS_MM = 35.0  # skin shown around A: enough to see the entry and the guide seat
NEEDLE_OUTSIDE_MM = 25.0  # the needle drawn this far beyond A, outside the body, where the surgeon holds it
VIEW_SIZE = (800, 600)


def skin_patch(skin: TriangleMesh, centre, radius_mm: float = SKIN_PATCH_RADIUS_MM) -> TriangleMesh:
    """The skin's triangles whose centroid lies within radius_mm of centre (the whole body would hide the spine)."""
    centroids = skin.vertices[skin.faces].mean(axis=1)
    keep = np.linalg.norm(centroids - np.asarray(centre, float), axis=1) <= radius_mm
    return TriangleMesh(skin.vertices, skin.faces[keep])


def view_direction(path: PathGeometry) -> np.ndarray:
    """From behind and above (about 30 degrees over the back), turned halfway towards square-on to the needle:
    the needle is seen at most of its length whatever its angles, and the camera never looks along the spine."""
    view = -0.5 * path.anterior + 0.85 * path.superior
    view = view / np.linalg.norm(view)
    view = view - 0.5 * np.dot(view, path.direction) * path.direction
    return view / np.linalg.norm(view)


def view_up(path: PathGeometry, direction: np.ndarray) -> np.ndarray:
    """Superior, unless the camera looks nearly along it; then anterior."""
    return path.superior if abs(np.dot(direction, path.superior)) < 0.95 else path.anterior


def _bounds(point_sets) -> tuple:
    points = np.vstack([np.atleast_2d(p) for p in point_sets if p is not None and len(p)])
    lo, hi = points.min(axis=0), points.max(axis=0)
    return (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])


def trajectory_view(path: PathGeometry, *, needle_diameter_mm: float, bone: TriangleMesh | None = None,
                    skin: TriangleMesh | None = None, guides=(), size=VIEW_SIZE) -> np.ndarray:
    """(rows, columns, 3) uint8 3D picture; every input but the path is optional."""
    meshes, fit = [], [path.start, path.c]
    if bone is not None and not bone.is_empty:
        meshes.append(SceneMesh(bone, colours.BONE, 1.0))
        fit.append(bone.vertices)
    if skin is not None and path.a is not None:
        patch = skin_patch(skin, path.a)
        if not patch.is_empty:
            meshes.append(SceneMesh(patch, colours.SKIN, 0.45))
    for guide in guides:
        if guide is not None and not guide.is_empty:
            meshes.append(SceneMesh(guide, colours.GUIDE, 0.85))
            fit.append(guide.vertices)
    outside = path.start - NEEDLE_OUTSIDE_MM * path.direction
    fit.append(outside)
    tube = SceneTube(outside, path.c, needle_diameter_mm / 2.0, colours.NEEDLE)
    labels = [SceneLabel(p, name, colours.POINT_COLOURS[name]) for name, p in path.points.items()]
    direction = view_direction(path)
    camera = SceneCamera(direction, view_up(path, direction), _bounds(fit))
    return render_scene(camera, meshes=meshes, tubes=[tube], labels=labels, size=size)
