"""Places and units: town → village/community → grid; responsible units beside them."""
import unicodedata

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Timestamped, id_column

VILLAGE_KINDS = ("village", "community")
# The police station files the weekly report; market supervision, police and civil affairs inspect.
UNIT_KINDS = ("police", "market", "civil_affairs", "school", "health", "justice", "womens_federation",
              "town_office")


def place_name_key(name: str) -> str:
    """The form place names are matched in: a name typed again in full-width digits (第１网格) is the
    same place, not a second one of the same name."""
    return unicodedata.normalize("NFKC", name)


class Town(Timestamped, db.Model):
    """The township the campaign runs in."""

    __tablename__ = "town"
    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(100))


class Village(Timestamped, db.Model):
    """A village (村) or community (社区)."""

    __tablename__ = "village"
    id: Mapped[str] = id_column()
    town_id: Mapped[str] = mapped_column(ForeignKey("town.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="village")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    grids: Mapped[list["Grid"]] = relationship(back_populates="village", order_by="Grid.name")


class Grid(Timestamped, db.Model):
    """A grid (网格) within a village, walked by one or more grid workers."""

    __tablename__ = "grid"
    id: Mapped[str] = id_column()
    village_id: Mapped[str] = mapped_column(ForeignKey("village.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    village: Mapped[Village] = relationship(back_populates="grids")


class Unit(Timestamped, db.Model):
    """A responsible unit (责任单位): police station, market supervision, school, clinic …"""

    __tablename__ = "unit"
    id: Mapped[str] = id_column()
    town_id: Mapped[str] = mapped_column(ForeignKey("town.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
