"""Which software produced a case: recorded at scan time so a report names the exact versions.

A court may ask which decoder computed a perceptual hash; the answer is the versions recorded
here, not whatever is installed when the report is read.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata
from typing import Any

import triage

#: Distributions whose versions can change a result (decoding, hashing, evidence reading) or the report.
DEPENDENCIES: tuple[str, ...] = (
    "click", "pillow", "pillow-heif", "imagehash", "pdqhash", "numpy", "pytsk3", "libewf-python",
    "opencv-python-headless", "jinja2", "rich", "tqdm", "fpdf2", "cryptography",
)  # fmt: skip
NOT_INSTALLED = "not installed"


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def dependency_names() -> tuple[str, ...]:
    """The runtime requirements triage was installed with (so a new dependency is recorded
    without anyone remembering to list it), falling back to :data:`DEPENDENCIES`."""
    try:
        requires = metadata.requires("triage") or []
    except metadata.PackageNotFoundError:
        return DEPENDENCIES
    names = {re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0].lower() for r in requires if "extra ==" not in r}
    return tuple(sorted(names | set(DEPENDENCIES)))


def tool_info() -> dict[str, Any]:
    """Name, version, dependency versions, Python version and platform of this triage."""
    return {
        "name": "triage",
        "version": triage.__version__,
        "dependencies": {name: package_version(name) for name in dependency_names()},
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
