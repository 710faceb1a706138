"""Each app the tests make (one or more a test) has Werkzeug compile two URL-building functions
for each of its 141 routes, from an AST through Python's compile(): 80 % of create_app, 0.07 s
a test. For a route without defaults, what is compiled follows from the route's parsed parts
alone, and the function reaches its rule only through the argument it is bound to. So the
tests compile each once per session and every app's rule binds the same function to itself;
routing and URL building are unchanged."""

from __future__ import annotations

from werkzeug.routing.rules import Rule


def share_url_builders() -> None:
    compile_builder = Rule._compile_builder
    if getattr(compile_builder, "shared", False):
        return
    made: dict[tuple, object] = {}

    def shared(self: Rule, append_unknown: bool = True):
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        if key not in made:
            made[key] = compile_builder(self, append_unknown)
        return made[key]

    shared.shared = True  # type: ignore[attr-defined]
    Rule._compile_builder = shared  # type: ignore[method-assign]
