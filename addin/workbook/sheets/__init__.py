"""Sheets of the deal workbook that stand on their own: Calc (the schedule in native formulas), Checks, Risk, and
the print setup every sheet gets. ``addin.workbook.template`` puts them together.

May import the ``addin.workbook`` modules below the template (styles, cells, fmt), ``engine`` and
``addin.version``; never ``addin.workbook.template``, ``excel``, ``report`` or ``cli``.
"""
