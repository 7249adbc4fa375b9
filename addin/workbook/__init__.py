"""Reading and writing workbooks and deal files: templates and their styles, cells, safety checks, atomic writes.

May import ``engine`` and ``addin.version``; never ``excel``, ``report`` or ``cli``.
"""
