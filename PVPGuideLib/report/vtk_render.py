"""Offscreen VTK rendering of a small scene (meshes, tubes, labelled points) into an RGB picture."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import numpy as np

from ..core.mesh import TriangleMesh
from . import colours

SUPERSAMPLING = 2  # rendered at twice the size and averaged down: smooth edges without relying on MSAA support


@dataclass(frozen=True, eq=False)
class SceneMesh:
    mesh: TriangleMesh
    colour: tuple
    opacity: float = 1.0


@dataclass(frozen=True, eq=False)
class SceneTube:
    start: np.ndarray
    end: np.ndarray
    radius_mm: float
    colour: tuple


@dataclass(frozen=True, eq=False)
class SceneLabel:
    position: np.ndarray
    text: str
    colour: tuple
    sphere_radius_mm: float = 1.6


@dataclass(frozen=True, eq=False)
class SceneCamera:
    """Looks at the centre of `fit_bounds` from `direction` (unit, from the scene towards the camera)."""

    direction: np.ndarray
    view_up: np.ndarray
    fit_bounds: tuple  # (xmin, xmax, ymin, ymax, zmin, zmax) RAS mm that must be in view
    zoom: float = 1.25


def _polydata(mesh: TriangleMesh):
    from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData

    points = vtkPoints()
    points.SetData(numpy_to_vtk(np.ascontiguousarray(mesh.vertices), deep=True))
    cells = vtkCellArray()
    offsets = np.arange(0, 3 * len(mesh.faces) + 1, 3, dtype=np.int64)
    cells.SetData(numpy_to_vtkIdTypeArray(offsets, deep=True),
                  numpy_to_vtkIdTypeArray(np.ascontiguousarray(mesh.faces.ravel()), deep=True))
    poly = vtkPolyData()
    poly.SetPoints(points)
    poly.SetPolys(cells)
    return poly


def _mesh_actor(item: SceneMesh):
    from vtkmodules.vtkFiltersCore import vtkPolyDataNormals
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

    normals = vtkPolyDataNormals()
    normals.SetInputData(_polydata(item.mesh))
    normals.SetFeatureAngle(60.0)
    mapper = vtkPolyDataMapper()
    mapper.SetInputConnection(normals.GetOutputPort())
    mapper.ScalarVisibilityOff()
    actor = vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.SetColor(*colours.unit_rgb(item.colour))
    prop.SetOpacity(item.opacity)
    prop.SetAmbient(0.25)
    prop.SetSpecular(0.2)
    prop.SetSpecularPower(20)
    return actor


def _tube_actor(item: SceneTube):
    from vtkmodules.vtkFiltersCore import vtkTubeFilter
    from vtkmodules.vtkFiltersSources import vtkLineSource
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

    line = vtkLineSource()
    line.SetPoint1(*map(float, item.start))
    line.SetPoint2(*map(float, item.end))
    tube = vtkTubeFilter()
    tube.SetInputConnection(line.GetOutputPort())
    tube.SetRadius(item.radius_mm)
    tube.SetNumberOfSides(24)
    tube.CappingOn()
    mapper = vtkPolyDataMapper()
    mapper.SetInputConnection(tube.GetOutputPort())
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*colours.unit_rgb(item.colour))
    actor.GetProperty().SetAmbient(0.35)  # the needle must stay bright whatever side the light hits
    actor.GetProperty().SetSpecular(0.6)
    actor.GetProperty().SetSpecularPower(40)
    return actor


def _label_actors(item: SceneLabel, font_size: int):
    from vtkmodules.vtkFiltersSources import vtkSphereSource
    from vtkmodules.vtkRenderingCore import vtkActor, vtkBillboardTextActor3D, vtkPolyDataMapper

    sphere = vtkSphereSource()
    sphere.SetCenter(*map(float, item.position))
    sphere.SetRadius(item.sphere_radius_mm)
    sphere.SetThetaResolution(24)
    sphere.SetPhiResolution(16)
    mapper = vtkPolyDataMapper()
    mapper.SetInputConnection(sphere.GetOutputPort())
    ball = vtkActor()
    ball.SetMapper(mapper)
    ball.GetProperty().SetColor(*colours.unit_rgb(item.colour))
    text = vtkBillboardTextActor3D()
    text.SetInput(item.text)
    text.SetPosition(*map(float, item.position))
    text.SetDisplayOffset(int(font_size * 0.5), int(font_size * 0.3))
    style = text.GetTextProperty()
    style.SetFontSize(font_size)
    style.SetColor(*colours.unit_rgb(item.colour))
    style.BoldOn()
    style.ShadowOn()
    return ball, text


class RenderingUnavailableError(RuntimeError):
    """No way to render offscreen here (no display and a VTK without EGL or OSMesa)."""


def _has_display() -> bool:
    return not sys.platform.startswith("linux") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _offscreen_window(default_class):
    """The render window for offscreen pictures; a clear error instead of an X abort when nothing can render.

    With a display (always so inside 3D Slicer, whose VTK has no EGL) the default window renders into an
    offscreen buffer. Without one: EGL when VTK has it, OSMesa when that is VTK's default window; an X
    window would abort the process on its first Render(), so it is refused here.
    """
    if _has_display():
        return default_class()
    try:
        from vtkmodules.vtkRenderingOpenGL2 import vtkEGLRenderWindow
    except ImportError:  # a VTK built without EGL (VTK < 9.4 wheels, 3D Slicer's own VTK)
        vtkEGLRenderWindow = None
    if vtkEGLRenderWindow is not None:
        problem = _egl_problem()
        if not problem:
            return vtkEGLRenderWindow()
        raise RenderingUnavailableError(
            f"cannot render pictures: there is no display (DISPLAY is not set) and EGL rendering with this VTK "
            f"({_vtk_version()}) fails here ({problem}); run under a display or xvfb-run")
    window = default_class()
    if window.GetClassName() == "vtkXOpenGLRenderWindow":
        raise RenderingUnavailableError(
            "cannot render pictures: there is no display (DISPLAY is not set) and this VTK "
            f"({_vtk_version()}) has neither EGL nor OSMesa; run under a display or xvfb-run, "
            "or use a VTK wheel with EGL (vtk>=9.4 on Linux)")
    return window


_EGL_PROBE = """
import vtkmodules.vtkRenderingOpenGL2
from vtkmodules.vtkRenderingCore import vtkRenderer
from vtkmodules.vtkRenderingOpenGL2 import vtkEGLRenderWindow
window = vtkEGLRenderWindow()
window.SetOffScreenRendering(1)
window.SetSize(8, 8)
window.AddRenderer(vtkRenderer())
window.Render()
window.Finalize()
"""
_egl_checked: list = []  # [problem text or ""], once per process


def _egl_problem() -> str:
    """"" when an EGL window renders here, else why not; tried in a child process, since a broken EGL
    (e.g. VTK 9.4 wheels without a GPU) crashes the process instead of raising."""
    if not _egl_checked:
        import subprocess

        try:
            run = subprocess.run([sys.executable, "-c", _EGL_PROBE], capture_output=True, text=True, timeout=60)
            problem = "" if run.returncode == 0 else f"a test render exited with code {run.returncode}"
        except (OSError, subprocess.TimeoutExpired) as error:
            problem = f"a test render could not run: {error}"
        _egl_checked.append(problem)
    return _egl_checked[0]


def _vtk_version() -> str:
    from vtkmodules.vtkCommonCore import vtkVersion

    return vtkVersion.GetVTKVersion()


def render_scene(camera: SceneCamera, *, meshes=(), tubes=(), labels=(), size=(800, 600),
                 background=colours.BACKGROUND_3D) -> np.ndarray:
    """(rows, columns, 3) uint8 picture of the scene, rendered offscreen (EGL/OSMesa; no display needed)."""
    import vtkmodules.vtkRenderingFreeType  # noqa: F401  (text rendering)
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (the render window implementation)
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow, vtkWindowToImageFilter

    width, height = (int(s) * SUPERSAMPLING for s in size)
    window = _offscreen_window(vtkRenderWindow)
    window.SetOffScreenRendering(1)
    window.SetMultiSamples(0)
    window.SetAlphaBitPlanes(1)
    window.SetSize(width, height)
    renderer = vtkRenderer()
    renderer.SetBackground(*colours.unit_rgb(background))
    renderer.SetUseDepthPeeling(1)  # correct see-through skin and guide
    renderer.SetMaximumNumberOfPeels(8)
    window.AddRenderer(renderer)
    # Labels and their balls live in a top layer sharing the camera: C inside the bone stays visible.
    overlay = vtkRenderer()
    overlay.SetLayer(1)
    overlay.InteractiveOff()
    overlay.SetActiveCamera(renderer.GetActiveCamera())
    window.SetNumberOfLayers(2)
    window.AddRenderer(overlay)
    for item in meshes:
        if not item.mesh.is_empty:
            renderer.AddActor(_mesh_actor(item))
    for item in tubes:
        renderer.AddActor(_tube_actor(item))
    for item in labels:
        for actor in _label_actors(item, font_size=18 * SUPERSAMPLING):
            overlay.AddActor(actor)

    view = renderer.GetActiveCamera()
    bounds = [float(b) for b in camera.fit_bounds]
    centre = np.array([(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2, (bounds[4] + bounds[5]) / 2])
    view.SetFocalPoint(*centre)
    view.SetPosition(*(centre + 100.0 * np.asarray(camera.direction, float)))
    view.SetViewUp(*map(float, camera.view_up))
    view.SetViewAngle(30.0)
    renderer.ResetCamera(bounds)  # keeps the direction, moves the camera back until the bounds fit
    view.Zoom(camera.zoom)
    renderer.ResetCameraClippingRange()
    overlay.ResetCameraClippingRange()
    window.Render()

    grab = vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.SetInputBufferTypeToRGB()
    grab.ReadFrontBufferOff()
    grab.Update()
    image = grab.GetOutput()
    columns, rows, _ = image.GetDimensions()
    rgb = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(rows, columns, -1)[::-1, :, :3]
    window.Finalize()
    s = SUPERSAMPLING
    rgb = rgb.reshape(rows // s, s, columns // s, s, 3).astype(np.float64).mean(axis=(1, 3))
    return np.rint(rgb).astype(np.uint8)
