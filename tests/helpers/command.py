"""The `twinteller` console script that `make` installs into the venv (pyproject.toml's
[project.scripts]): tests run the tools exactly as an operator does."""

from __future__ import annotations

import sys
from pathlib import Path

TWINTELLER = str(Path(sys.executable).with_name("twinteller"))
