"""The README's install instructions say what pip really does with torch (issue 16, item 16)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _install_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Install and run, test") : text.index("## Command line")]


def test_the_cpu_only_torch_install_is_given_and_no_false_promise_is_made():
    section = _install_section()
    commands = re.findall(r"```sh\n(.*?)```", section, re.S)
    cpu_line = [c for c in commands if "download.pytorch.org/whl/cpu" in c]
    assert cpu_line and "torch==" in cpu_line[0] and '-e ".[test]"' in cpu_line[0]
    assert any('pip install -e ".[test]"' in c for c in commands), "the plain install stays"
    # Naming a version does not choose the CPU build: on Linux the torch wheels on PyPI are CUDA builds.
    assert "so pip does not fetch" not in section
    assert "CUDA build" in section and "Linux" in section
