"""Build the one compiled extension, supervm._core, over the C++17 kernels in csrc/.

Run through the package build (`pip install -e .` or `make setup`), not by hand.
Set SUPERVM_NATIVE=1 to compile with -march=native (opt-in: the wheel must run anywhere).
`make setup` sets SUPERVM_SKIP_CORE=1 for the editable install and then builds the core
once with `build_ext --inplace`, so the kernels are compiled once, not twice.
"""

import os
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).parent
CSRC = ROOT / "csrc"

compile_args = ["-std=c++17", "-O3", "-pthread", "-DNDEBUG", "-fno-math-errno",
                "-Wall", "-Wno-unused-function"]
if os.environ.get("SUPERVM_NATIVE") == "1":
    compile_args.append("-march=native")

sources = ["src/supervm/_core.pyx"] + sorted(
    str(p.relative_to(ROOT)) for p in CSRC.rglob("*.cpp")
)

core = Extension(
    "supervm._core",
    sources=sources,
    include_dirs=[str(CSRC)],
    language="c++",
    extra_compile_args=compile_args,
    extra_link_args=["-pthread"],
    # Kernels include .inc bodies as well as headers: a change to either rebuilds.
    depends=sorted(str(p.relative_to(ROOT)) for ext in ("*.hpp", "*.inc")
                   for p in CSRC.rglob(ext)),
)

skip_core = os.environ.get("SUPERVM_SKIP_CORE") == "1"
setup(ext_modules=[] if skip_core else cythonize([core], compiler_directives={"language_level": 3}))
