"""Database: typed models, the engine and the unit of work."""

from . import models, people, planning, telemetry, uptake  # noqa: F401  (registers the tables on Base.metadata)
from .base import Base, UTCDateTime  # noqa: F401
from .session import (  # noqa: F401
    ConcurrentUpdate,
    after_commit,
    as_conflict,
    commit,
    make_engine,
    make_session_factory,
    rollback,
    rows_changed,
    unit_of_work,
)
