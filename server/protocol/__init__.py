"""The SPARQL 1.1 Protocol: the `sparql` blueprint and what it needs to speak the spec.

Owns `sparql` (query requests, answers, refusals), `negotiation` (Accept → result format),
`service_description` (SPARQL 1.1 Service Description) and `cache` (stored answers keyed by
request and ETag, shared with the front's replay) and `public_address` (the build's root
rewritten into the address a request reached, after each request), `health` (`/healthz`
apart from `/readyz`) and `metrics` (`/metrics`, and `MeteredStore` around the store).

May import `server.stores` and the settings modules at the top of `server` (`config`,
`errors`, `accesslog`, `structured_log`, `problem_details`, `public_base`); never `server.front`,
`server.pages` or the app factory.
"""
