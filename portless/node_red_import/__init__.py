"""Node-RED flow exports into portless flow files: ``portless import-node-red``.

``read_export`` reads and checks an export (hostile input refused with the file and node
id), ``convert`` maps it to flow files (one per tab, subflows, shared connections) with a
report of what was converted, approximated and refused, and ``write_conversion`` writes
the files all or nothing. Each Node-RED type's mapping is one small function in a table
(``table.MAPPINGS``), grouped by palette group in the modules beside this one. Import
from those modules: this package imports nothing, so the command line does not pay for
the converter on every start.
"""
