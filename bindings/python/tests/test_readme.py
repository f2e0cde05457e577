"""The README's PyTorch loop runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_python_loop_runs(capsys):
    pytest.importorskip("torch")
    if not README.exists():
        pytest.skip(f"no README at {README}")
    text = README.read_text()
    section = text[text.index("## From Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, str(README), "exec"), {})
    ece = float(capsys.readouterr().out.strip())
    assert 0.0 <= ece <= 1.0
