"""The type stubs name every public symbol of the native module and nothing it lacks."""

import ast
from pathlib import Path

import mixlab._native as native


def test_stubs_cover_the_native_module():
    tree = ast.parse((Path(__file__).parent.parent / "python" / "mixlab" / "_native.pyi").read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    public = {n for n in dir(native) if not n.startswith("_")}
    assert stubbed == public
    for cls in ("Mixer", "Plan"):
        node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
        names = {f.name for f in node.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("__")}
        assert names == {n for n in dir(getattr(native, cls)) if not n.startswith("_")}
