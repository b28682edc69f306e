"""Static checks of the Slicer module, which needs Qt and so cannot be imported here: .ui, bindings, tests, CMake."""

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from PVPGuideLib.mrml import planning_fields, planning_logic
from PVPGuideLib.testing import scenarios

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "PVPGuide" / "PVPGuide.py"
UI = ROOT / "PVPGuide" / "Resources" / "UI" / "PVPGuide.ui"
SOURCE = MODULE.read_text()
TREE = ast.parse(SOURCE)
# Buttons of capabilities that arrive with later issues: present, disabled, and wired to nothing.
LATER_BUTTONS = {}
# Buttons of capabilities that have landed: {button: (its handler, the logic method it runs)}.
AVAILABLE_BUTTONS = {"proposePointsButton": ("onProposePoints", "proposePoints"),
                     "predictCementButton": ("onPredictCement", "predictCement"),
                     "designGuideButton": ("onDesignGuide", "designGuide"),
                     "saveGuideButton": ("onSaveGuide", "designGuide"),
                     "writeReportButton": ("onWriteReport", "writeReport"),
                     "findGridButton": ("onFindGrid", "findGrid"),
                     "checkNeedleButton": ("onCheckNeedle", "checkNeedle")}
# Quick actions: {button: (its handler, the logic method it runs)}, errors shown with tryWithErrorDisplay.
QUICK_BUTTONS = {"useGridPointsButton": ("onUseGridPoints", "gridFromPoints"),
                 "showCArmButton": ("onShowCArm", "showCArmViews")}
# Widgets the module fills or reads itself (not bound): each must be used by the widget class.
SHOWN_WIDGETS = ("gridPositionLabel", "fractureTable", "needleCheckTable")
# New selectors and boxes, bound to their parameter: {widget: parameter}.
BOUND_WIDGETS = {"gridPointsSelector": "gridPoints", "gridSpacingSpinBox": "gridSpacingMm",
                 "intraopSelector": "intraopVolume"}
# Widget classes parameterNodeWrapper can bind, and the field types they accept (slicer/parameterNodeWrapper).
BINDABLE = {"qMRMLNodeComboBox": "node", "QComboBox": "choice", "QDoubleSpinBox": float, "QSpinBox": int,
            "QCheckBox": bool, "QPushButton": bool, "QLineEdit": str}


def ui_widgets() -> dict:
    """{widget name: (class, {property name: text})} of every widget in the .ui."""
    widgets = {}
    for widget in ET.parse(UI).iter("widget"):
        props = {}
        for prop in widget.findall("property"):
            value = next(iter(prop), None)
            props[prop.get("name")] = None if value is None else (value.text or "")
        widgets[widget.get("name")] = (widget.get("class"), props)
    return widgets


def module_class(name: str) -> ast.ClassDef:
    return next(node for node in TREE.body if isinstance(node, ast.ClassDef) and node.name == name)


def parameter_fields() -> dict:
    """{field name: annotation source} of the @parameterNodeWrapper class."""
    cls = module_class("PVPGuideParameterNode")
    assert any(ast.unparse(d) == "parameterNodeWrapper" for d in cls.decorator_list)
    return {n.target.id: ast.unparse(n.annotation) for n in cls.body if isinstance(n, ast.AnnAssign)}


def test_ui_parses_as_a_slicer_module_panel():
    root = ET.parse(UI).getroot()
    assert root.tag == "ui" and root.find("class").text == "PVPGuide"
    top = root.find("widget")
    assert top.get("class") == "qMRMLWidget"
    sections = [w.find("property/string").text for w in top.iter("widget") if w.get("class") == "ctkCollapsibleButton"]
    assert sections == ["Inputs", "Points", "Measurements", "Cement", "Guide", "Skin grid", "Fracture and needle check",
                        "Export / Save"]


def test_every_ui_widget_the_module_uses_exists():
    used = set(re.findall(r"self\.ui\.(\w+)", SOURCE))
    assert used, "the widget uses no .ui widget at all?"
    assert used - set(ui_widgets()) == set()


def test_every_mrml_widget_gets_the_scene():
    connected = {c.find("receiver").text for c in ET.parse(UI).iter("connection")
                 if c.find("slot").text == "setMRMLScene(vtkMRMLScene*)"}
    mrml = {name for name, (cls, _) in ui_widgets().items()
            if cls.startswith(("qMRML", "qSlicer")) and name != "PVPGuide"}
    assert mrml and mrml <= connected


def test_parameter_node_fields_are_the_planning_logic_parameters():
    fields = parameter_fields()
    assert sorted(fields) == sorted(planning_fields.PARAMETER_NAMES)
    for role, class_name in planning_logic.NODE_ROLES.items():
        assert fields[role] == class_name
    for name, setting in planning_logic.FIELDS.items():
        assert re.match(rf"(Annotated\[)?{setting.type.__name__}\b", fields[name]), (name, fields[name])
        if setting.choices:
            assert f"_choice('{name}')" in fields[name]
        if setting.limits:
            assert f"_range('{name}')" in fields[name]


def test_every_slicer_parameter_name_is_a_bindable_field():
    fields = parameter_fields()
    bound = {name: (cls, props["SlicerParameterName"]) for name, (cls, props) in ui_widgets().items()
             if "SlicerParameterName" in props}
    assert len(bound) >= 12
    for widget, (cls, parameter) in bound.items():
        assert parameter in fields, f"{widget} is bound to unknown parameter {parameter!r}"
        kind = BINDABLE.get(cls)
        assert kind is not None, f"{widget}: parameterNodeWrapper cannot bind a {cls}"
        if kind == "node":
            assert parameter in planning_logic.NODE_ROLES
        elif kind == "choice":
            assert planning_logic.FIELDS[parameter].choices, f"{widget}: a QComboBox needs a Choice field"
        else:
            assert planning_logic.FIELDS[parameter].type is kind, f"{widget} ({cls}) cannot show {parameter}"
        if cls == "QPushButton":
            assert ui_widgets()[widget][1].get("checkable") == "true"
        if cls == "QDoubleSpinBox" or cls == "ctkSliderWidget":
            assert planning_logic.FIELDS[parameter].limits, f"{widget}: give {parameter} limits"


def test_every_button_is_either_pending_or_enabled_and_wired():
    widgets = ui_widgets()
    buttons = [name for name, (cls, _) in widgets.items() if cls == "QPushButton"]
    assert set(AVAILABLE_BUTTONS) | set(LATER_BUTTONS) <= set(buttons)  # the loop below sees every listed button
    for name in buttons:
        _, props = widgets[name]
        if name in LATER_BUTTONS:
            issue = LATER_BUTTONS[name]
            assert props.get("enabled") == "false", f"{name} must stay disabled until {issue} lands"
            assert issue in props.get("toolTip", ""), f"{name}'s tooltip must say it arrives with {issue}"
            assert name not in SOURCE, f"{name} must not be wired or enabled by the module"
        else:
            assert props.get("enabled") != "false", f"{name} is disabled but not listed as pending"
            assert "not available" not in props.get("text", "") and "issue" not in props.get("toolTip", ""), name
            assert f"self.ui.{name}" in SOURCE, f"{name} is in the panel but the module never uses it"


def test_buttons_of_landed_issues_are_wired_to_their_logic_with_progress_and_error_display():
    widgets = ui_widgets()
    widget = _methods(module_class("PVPGuideWidget"))
    setup = ast.unparse(widget["setup"])
    for name, (handler, logic_method) in AVAILABLE_BUTTONS.items():
        cls, props = widgets[name]
        assert props.get("enabled") != "false" and "not available" not in props.get("text", ""), name
        assert "issue" not in props.get("toolTip", ""), f"{name}'s tooltip still says it is pending"
        assert f'self.ui.{name}.connect(\'clicked(bool)\', self.{handler})' in setup, f"{name} is not connected"
        body = ast.unparse(widget[handler])
        assert "_runWithProgress" in body and f"self.logic.{logic_method}(" in body, handler


def test_module_follows_the_template_order_and_stays_small():
    classes = [node.name for node in TREE.body if isinstance(node, ast.ClassDef)]
    assert classes == ["PVPGuide", "PVPGuideParameterNode", "PVPGuideWidget", "PVPGuideLogic", "PVPGuideTest"]
    assert len(SOURCE.splitlines()) < 1000
    assert 'slicer.app.connect("startupCompleted()", registerSampleData)' in SOURCE
    assert "registerCustomSampleDataSource" in SOURCE and "customDownloader=loadPhantomSample" in SOURCE
    for name in ("title", "categories", "contributors", "helpText", "acknowledgementText"):
        assert f"self.parent.{name} =" in SOURCE
    link = re.search(r'USER_GUIDE_URL = "([^"]+)"', SOURCE).group(1)
    assert link.endswith("docs/user-guide.md") and (ROOT / "docs" / "user-guide.md").is_file()


def _methods(cls: ast.ClassDef) -> dict:
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


def test_widget_calls_only_existing_logic_and_logic_only_existing_planning_methods():
    logic_methods = set(_methods(module_class("PVPGuideLogic")))
    widget_calls = set(re.findall(r"self\.logic\.(\w+)", SOURCE))
    assert widget_calls - logic_methods - {"planning"} == set()
    planning_calls = set(re.findall(r"\.planning\.(\w+)", SOURCE))
    assert planning_calls and all(hasattr(planning_logic.PlanningLogic, name) for name in planning_calls)


def test_widget_wraps_actions_and_cleans_up():
    widget = _methods(module_class("PVPGuideWidget"))
    assert "removeObservers" in ast.unparse(widget["cleanup"])
    assert "connectGui" in ast.unparse(widget["setParameterNode"])
    assert "disconnectGui" in ast.unparse(widget["exit"])
    for name in ("onMeasure", "onLockPoints", "onNeedleViewToggled", "onExportPlan", "onSaveScene", "_runWithProgress",
                 "onUseGridPoints", "onShowCArm"):
        assert "tryWithErrorDisplay" in ast.unparse(widget[name]), f"{name} must show errors with tryWithErrorDisplay"
    run_with_progress = ast.unparse(widget["_runWithProgress"])
    assert "createProgressDialog" in run_with_progress and "waitCursor=True" in run_with_progress
    long_steps = ("onProposePoints", "onFindSkinEntry", "onPredictCement", "onDesignGuide", "onSaveGuide",
                  "onWriteReport", "onFindGrid", "onCheckNeedle")
    for name in long_steps:
        assert "self._runWithProgress(" in ast.unparse(widget[name]), f"{name} must show a progress dialog"


def test_self_test_has_one_method_per_scenario():
    tests = {name: node for name, node in _methods(module_class("PVPGuideTest")).items() if name.startswith("test_")}
    called = {}
    for name, node in tests.items():
        calls = re.findall(r"scenarios\.(\w+)\(", ast.unparse(node))
        assert len(calls) == 1, f"{name} should run exactly one scenario, runs {calls}"
        called[calls[0]] = name
    public = {name for name in ("place_points_and_measure", "find_skin_entry", "propose_points", "predict_cement",
                                "design_guide", "write_report", "save_and_reopen", "bad_input")}
    assert set(called) == public and all(callable(getattr(scenarios, name)) for name in public)
    run_test = ast.unparse(_methods(module_class("PVPGuideTest"))["runTest"])
    assert all(f"self.{name}" in run_test for name in tests)


def test_guide_packages_are_installed_only_by_the_widget_after_asking():
    # Slicer's Python lacks manifold3d: the widget offers pip_install behind a confirmation; the logic never installs.
    widget = _methods(module_class("PVPGuideWidget"))
    installer = ast.unparse(widget["_guidePackagesInstalled"])
    assert installer.index("confirmOkCancelDisplay") < installer.index("slicer.util.pip_install(")
    calls = [n for n in ast.walk(TREE) if isinstance(n, ast.Call) and ast.unparse(n.func).endswith("pip_install")]
    assert [ast.unparse(n) for n in calls] == ["slicer.util.pip_install(packages)"]  # the one in the installer
    for handler in ("onDesignGuide", "onSaveGuide"):
        assert "self._guidePackagesInstalled()" in ast.unparse(widget[handler])
    installs = re.compile(r"^\s*(slicer\.util\.)?pip_install\(|^\s*import pip\b|\[.*[\"']pip[\"'], [\"']install", re.M)
    assert [p.name for p in (ROOT / "PVPGuideLib").rglob("*.py") if installs.search(p.read_text())] == []


@pytest.mark.parametrize("folder", ["PVPGuide"])
def test_every_module_file_is_listed_in_cmake(folder):
    cmake = (ROOT / folder / "CMakeLists.txt").read_text().replace("${MODULE_NAME}", "PVPGuide")
    shipped = [p.relative_to(ROOT / folder).as_posix() for p in (ROOT / folder).rglob("*")
               if p.is_file() and p.name != "CMakeLists.txt" and "__pycache__" not in p.parts]
    assert shipped and [f for f in shipped if f not in cmake] == []


def test_quick_buttons_are_wired_to_their_logic_with_error_display():
    widgets = ui_widgets()
    widget = _methods(module_class("PVPGuideWidget"))
    setup = ast.unparse(widget["setup"])
    for name, (handler, logic_method) in QUICK_BUTTONS.items():
        assert widgets[name][0] == "QPushButton" and widgets[name][1].get("enabled") != "false", name
        assert f"self.ui.{name}.connect('clicked(bool)', self.{handler})" in setup, f"{name} is not connected"
        body = ast.unparse(widget[handler])
        assert "tryWithErrorDisplay" in body and f"self.logic.{logic_method}(" in body, handler


def test_new_section_widgets_are_bound_or_shown():
    widgets = ui_widgets()
    for name, parameter in BOUND_WIDGETS.items():
        assert widgets[name][1].get("SlicerParameterName") == parameter, f"{name} is not bound to {parameter}"
    update = ast.unparse(_methods(module_class("PVPGuideWidget"))["updateGUIFromParameterNode"])
    for name in SHOWN_WIDGETS:
        assert name in widgets and f"self.ui.{name}" in update, f"{name} is never filled"
    setup = ast.unparse(_methods(module_class("PVPGuideWidget"))["setup"])
    for table in ("fractureTable", "needleCheckTable"):
        assert f"self.ui.{table}.setHorizontalHeaderLabels" in setup


def test_logic_calls_only_existing_panel_functions():
    # _panel() is a SimpleNamespace of library modules and functions: every name the module takes from it exists.
    from PVPGuideLib.mrml import panel_grid, panel_section10

    modules = {"panel_grid": panel_grid, "panel_section10": panel_section10}
    used = set(re.findall(r"(?:_panel\(\)|panel)\.(panel_grid|panel_section10)\.(\w+)", SOURCE))
    used |= {("panel_section10", name) for name in re.findall(r"section10\.(\w+)\(", SOURCE)}
    assert {module for module, _ in used} == set(modules)
    assert [f"{m}.{n}" for m, n in sorted(used) if not callable(getattr(modules[m], n, None))] == []
    panel = ast.unparse(next(n for n in TREE.body if isinstance(n, ast.FunctionDef) and n.name == "_panel"))
    assert "panel_grid=panel_grid" in panel and "panel_section10=panel_section10" in panel
