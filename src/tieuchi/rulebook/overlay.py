"""An overlay as data (rules/overlays/<id>.yaml): a local standard that changes parameters of a national regime.

Provinces may set a higher local standard than the national one (Hà Nội, TP.HCM and Quảng Ninh do): a higher income
line, another definition of a dependant. An overlay names its base regime and gives, for each parameter it changes,
dated values of the same shape as a parameter file's `values`. Imports nothing but pydantic, the standard library and
the rule vocabulary; `tieuchi.rulebook.overlays.load_overlay` checks each value against the base parameter's unit
and shape and applies it.

    overlay: example_higher_rural_line     id (= the file name)
    label: {vi: …, en: …}
    base: vn_2022_2026                     a regime id; the overlay applies within the base's validity window
    citation: {instrument: …, note: …}     where the local standard comes from
    instruments: {id: Instrument, …}       the local instruments it cites, when not in rules/instruments.yaml
    notes: …
    parameters:                            parameter id -> dated values, replacing the base's from their dates
      income_line:
        - {from: 2022-01-01, value: {rural: 1800000, urban: 2000000}, citation: {instrument: …}}
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from tieuchi.rulebook.vocabulary import Citation, DatedValue, Instrument, Labels, Strict


class OverlayValue(DatedValue):
    """One dated value of an overlay: a parameter file's dated value whose `value` is checked by
    `overlays.load_overlay` against the base parameter (unit, keys, codes), so that a wrong value is named in words
    rather than as a failed union of types."""

    value: Any


class Overlay(BaseModel):
    model_config = Strict
    id: str = Field(alias="overlay")
    label: Labels
    base: str
    citation: Citation
    notes: str | None = None
    instruments: dict[str, Instrument] = {}
    parameters: dict[str, Annotated[list[OverlayValue], Field(min_length=1)]] = Field(min_length=1)

    _source: str | None = PrivateAttr(default=None)  # the file it was read from
    _digest: str = PrivateAttr(default="")  # content hash of the file

    @model_validator(mode="after")
    def _sorted(self):
        for pid, values in self.parameters.items():
            starts = [v.start for v in values]
            if starts != sorted(starts) or len(set(starts)) != len(starts):
                raise ValueError(f"parameter '{pid}': values must be listed by increasing, distinct 'from' dates")
        return self

    @property
    def source(self) -> str | None:
        return self._source

    @property
    def digest(self) -> str:
        return self._digest
