"""portless benchmarks: ``python -m bench`` runs them all and prints one Markdown table.

Each benchmark is a module with one job that turns ``Options`` into table rows; the
measurements themselves run in fresh subprocesses so that one cannot warm, slow or
inflate (peak RSS) another.
"""
