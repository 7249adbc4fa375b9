"""Load a UDF module under xlwings' classic (Windows COM) UDF decorators, on any OS.

``xlwings.udfs`` imports pywin32's COM modules at top level, but its
decorators and its VBA wrapper generator never call them, so small stand-ins
are enough to run that real code here.
"""

from __future__ import annotations

import importlib
import io
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def classic_xlwings() -> Iterator[Any]:
    """Yield ``xlwings.udfs`` with ``xlwings.func/arg/ret`` set to its classic decorators."""
    stubs = {
        "pythoncom": types.SimpleNamespace(CoInitialize=lambda: None),
        "pywintypes": types.SimpleNamespace(),
        "win32com": types.ModuleType("win32com"),
        "win32com.client": types.SimpleNamespace(Dispatch=lambda *a, **k: None),
    }
    saved = {k: sys.modules.get(k) for k in (*stubs, "xlwings.udfs")}
    sys.modules.update(stubs)  # type: ignore[arg-type]
    sys.modules.pop("xlwings.udfs", None)
    import xlwings

    originals = (xlwings.func, xlwings.arg, xlwings.ret)
    udfs = importlib.import_module("xlwings.udfs")
    xlwings.func, xlwings.arg, xlwings.ret = udfs.xlfunc, udfs.xlarg, udfs.xlret
    try:
        yield udfs
    finally:
        xlwings.func, xlwings.arg, xlwings.ret = originals
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def load_classic(module_name: str) -> tuple[Any, str]:
    """Import ``module_name`` under the classic decorators; return it and its generated VBA wrappers."""
    with classic_xlwings() as udfs:
        sys.modules.pop(module_name, None)
        module = importlib.import_module(module_name)
        out = io.StringIO()
        udfs.generate_vba_wrapper(module_name, module, out, types.SimpleNamespace(Name="computedeal.xlam"))
    sys.modules.pop(module_name, None)  # later imports get the runtime-neutral decorators again
    return module, out.getvalue()
