"""People who sign in to the staff web application, their sign-in attempts (lock-out holds
across workers because it lives here) and the forms they already submitted (a double submit
of the same rendered form is answered once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.db.base import Base
from inventory.db.models import Site


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    region: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    # bumped when the password, role or scope changes: every open session of the person ends
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    site: Mapped[Site | None] = relationship()


class SignInAttempt(Base):
    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    succeeded: Mapped[bool] = mapped_column(Boolean)


class FormSubmission(Base):
    """A form that changed something, by the key it was rendered with, and where it led."""

    __tablename__ = "form_submissions"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_form_submissions_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
