"""PVPGuide/PVPGuide.py follows Slicer 5.6/5.8's Python 3.9 rules, including for annotations evaluated at run time."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "PVPGuide" / "PVPGuide.py"
SOURCE = MODULE.read_text(encoding="utf-8")
TREE = ast.parse(SOURCE)


def _python39() -> str | None:
    """A Python 3.9 interpreter to compile the module with: this one, pyenv's 3.9.18, or none."""
    if sys.version_info[:2] == (3, 9):
        return sys.executable
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidate = root / "versions" / "3.9.18" / "bin" / "python"
    return str(candidate) if candidate.is_file() else None


def _annotations(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign):
            yield node.annotation
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    yield arg.annotation
            if node.returns is not None:
                yield node.returns


def test_module_parses_with_the_python_39_grammar():
    ast.parse(SOURCE, feature_version=(3, 9))  # no match statements, parenthesised context managers, ...


def test_no_pep604_union_is_evaluated_at_run_time():
    # Without `from __future__ import annotations` every annotation is evaluated when the def/class runs;
    # with it, parameterNodeWrapper still evaluates the wrapped class's fields (typing.get_type_hints).
    future = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and
                 any(a.name == "annotations" for a in n.names) for n in TREE.body)
    wrapped = [n for n in TREE.body if isinstance(n, ast.ClassDef)
               and any(ast.unparse(d) == "parameterNodeWrapper" for d in n.decorator_list)]
    assert wrapped, "the @parameterNodeWrapper class is missing"
    evaluated = [a for cls in wrapped for a in _annotations(cls)] if future else list(_annotations(TREE))
    unions = [ast.unparse(a) for a in evaluated
              if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr) for n in ast.walk(a))]
    assert unions == [], f"X | Y annotations fail on Python 3.9 (Slicer 5.6/5.8); use typing.Optional/Union: {unions}"
    # isinstance(x, A | B) fails too
    calls = [ast.unparse(n) for n in ast.walk(TREE) if isinstance(n, ast.Call) and ast.unparse(n.func) == "isinstance"
             and isinstance(n.args[1], ast.BinOp)]
    assert calls == []


def test_no_python_310_calls():
    zips = [ast.unparse(n) for n in ast.walk(TREE) if isinstance(n, ast.Call) and ast.unparse(n.func) == "zip"
            and any(k.arg == "strict" for k in n.keywords)]
    assert zips == [], "zip(strict=...) is Python 3.10+; use PVPGuideLib.core.compat.strict_zip"


def test_module_compiles_under_python_39():
    python = _python39()
    if python is None:
        pytest.skip("no Python 3.9 here (pyenv install 3.9.18); the grammar check above still ran")
    run = subprocess.run([python, "-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
                          str(MODULE)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
