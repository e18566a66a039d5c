"""Python re-implementations of SER's modules, one file per module.

Each file declares its exports (functions and parameters) in one `EXPORTS`
table, as SER's modules do; see `exports.py`.
"""
