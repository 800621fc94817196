"""The stores and how a query runs: everything below the protocol.

Owns `store` (the `QueryStore` interface and its results and errors), `oxigraph_store` (the
embedded store over dist/), `remote_store` (another SPARQL endpoint), `query_analysis` (the
plan that decides where a query runs), `runaway` and `executor` (in-process watchdog and
killable query processes), `fairness` (per-client query seconds), `shared_table` (memory
shared by the worker processes), `cpu_placement` (which CPUs each process uses), `row_cap`
(answers cut one row past the cap), `syntax_messages` (parser errors in plain words),
`sealing` (a remote store answers from the project's graphs only) and `vendor_extensions`
(a store's own functions and pragmas refused).

May import only the settings modules at the top of `server` (`config`); never another room.
Query worker processes import this package without Flask, so nothing here imports Flask.
"""
