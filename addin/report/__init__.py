"""Review workbooks and PDFs: the deal and portfolio reports, claims checked against a deal, comparisons, LibreOffice.

May import ``workbook``, ``engine`` and ``addin.version``; never ``excel`` or ``cli``.
"""
