"""Everything Excel-facing: ``workbook`` (files), ``excel`` (what Excel calls), ``report`` (review workbooks), ``cli``.

It may import ``engine``; inside, imports run one way: cli -> report, excel -> workbook, and ``version`` for all.
"""
