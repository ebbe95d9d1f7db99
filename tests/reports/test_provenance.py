"""tool_info names the exact installed versions of everything that can change a result."""

from importlib import metadata

import triage
from triage.scan.provenance import DEPENDENCIES, NOT_INSTALLED, package_version, tool_info


def test_tool_info_names_versions():
    info = tool_info()
    assert info["name"] == "triage" and info["version"] == triage.__version__
    # Every installed runtime requirement is named (so a new dependency is never forgotten),
    # and at least the known list.
    requires = metadata.requires("triage") or []
    runtime = {
        r.split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in requires if "extra ==" not in r
    }
    assert set(DEPENDENCIES) | runtime == set(info["dependencies"])
    assert {"fpdf2", "cryptography"} <= set(info["dependencies"])
    assert info["dependencies"]["jinja2"] == metadata.version("jinja2")
    assert info["python"].count(".") == 2 and info["platform"]


def test_absent_package_is_reported_not_raised():
    assert package_version("no-such-distribution-for-triage") == NOT_INSTALLED
