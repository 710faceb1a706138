"""Cold-chain vaccine inventory and distribution service."""

from __future__ import annotations

from flask import Flask

from inventory.clock import Clock
from inventory.config import from_environment
from inventory.json_answers import OrjsonProvider


def create_app(config: dict | None = None) -> Flask:
    """Build the web application. Starts no scheduler, no MQTT client, runs no migrations."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder="web/static",
        template_folder="web/templates",
    )
    app.config.from_mapping(from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    app.config.setdefault("CLOCK", Clock())
    app.json = OrjsonProvider(app)

    from devices import commands
    from inventory import cli, metrics, scheduler, web, web_db
    from inventory.api import api, errors
    from inventory.web import public

    web_db.init_app(app)
    errors.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(api)
    app.register_blueprint(public.bp)
    web.init_app(app)
    web.csrf.exempt(api)  # bearer tokens, not cookies: the API has no forms to protect
    cli.init_app(app)
    app.cli.add_command(scheduler.command)
    app.cli.add_command(commands.broker_config)
    return app
