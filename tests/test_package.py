"""The package's public names stay functions, whatever was imported first."""

from __future__ import annotations

import subprocess
import sys


def test_public_functions_survive_submodule_imports():
    # A fresh interpreter, so that no earlier import decides the outcome.
    code = (
        "import localitygeo.validate, localitygeo.aggregate, localitygeo.compare, "
        "localitygeo.realign\n"
        "import localitygeo as lg\n"
        "from localitygeo import aggregate, validate\n"
        "import types\n"
        "names = ['validate', 'aggregate', 'compare', 'realign', 'best_fit', 'read_layer']\n"
        "assert all(callable(getattr(lg, n)) for n in names), names\n"
        "assert callable(aggregate) and callable(validate)\n"
        "assert isinstance(lg.inequality, types.ModuleType)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_every_public_name_resolves():
    import localitygeo as lg

    for name in lg.__all__:
        assert getattr(lg, name) is not None, name
