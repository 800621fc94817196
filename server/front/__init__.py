"""The HTTP front: the process granian runs and the first code a request meets.

Owns `serving` (the granian entry point, its worker processes and the bridge that replays
stored answers before anything else runs) and `sparql_direct` (a plain `GET /sparql?query=…`
answered without Flask, with the blueprint's own checks and headers).

May import every other room: the app factory (`server.create_app`), `server.protocol`,
`server.pages`, `server.stores` and the settings modules at the top of `server`. Nothing
imports it except the command line (`graph.cli`) and the tests.
"""
