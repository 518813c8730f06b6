"""Only for the optional compiled log-scan loop; everything else is in pyproject.toml.

smewizard/logs/_scan.c is optional: without a C compiler (or Python headers) the install goes on
and the pure-Python loop scans. SMEWIZARD_PURE_PYTHON=1 at build time skips it (pure wheel)."""

import os

from setuptools import Extension, setup

ext_modules = []
if not os.environ.get("SMEWIZARD_PURE_PYTHON"):
    ext_modules.append(Extension(
        "smewizard.logs._scan",
        sources=["smewizard/logs/_scan.c"],
        optional=True,
        py_limited_api=True,
        define_macros=[("Py_LIMITED_API", "0x030B0000")],
    ))

setup(ext_modules=ext_modules, options={"bdist_wheel": {"py_limited_api": "cp311"}} if ext_modules else {})
