"""What Excel calls: the CDM_ functions, the ribbon's Refresh, headless recalculation, building the add-in.

May import ``workbook``, ``engine`` and ``addin.version``; never ``report`` or ``cli``.
"""
