"""The linked-data pages: HTML for people, with their templates and static files.

Owns `views` (the `pages` blueprint: home, resource, class, ontology, search, query UI,
downloads), `resources` (what a page shows of a resource), `charts`, `search` and `i18n`
(the pages' languages, with their gettext catalogs in `translations/`), `dataset_description`
(the `void` blueprint: the VoID description and the dumps), `http_caching` (validators of the
pages and dumps) and `jsonld_context`, plus `templates/` and `static/`.

May import `server.stores` and the settings modules at the top of `server` (`config`,
`errors`, `accesslog`, `structured_log`, `problem_details`, `public_base`); never `server.front`,
`server.protocol` or the app factory.
"""
