"""The user's price table: cost per million prompt and completion tokens, by model.

``DIR/prices.toml`` (or any file passed with ``--prices``)::

    [models."gpt-4.1-mini"]
    prompt_per_million = 0.40
    completion_per_million = 1.60
    batch_multiplier = 0.5      # providers discount batch work by about half

asara ships no prices (they change); a model without an entry has no cost (null), and the template
backend costs nothing.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from asara.errors import InputError
from asara.scenarios.loader import validate_document

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
Price = Annotated[float, Field(ge=0)]


class ModelPrice(BaseModel):
    model_config = _STRICT
    prompt_per_million: Price
    completion_per_million: Price
    batch_multiplier: Annotated[float, Field(ge=0, le=1)] = 1.0


class PriceTable(BaseModel):
    model_config = _STRICT
    currency: str = "USD"
    models: dict[str, ModelPrice] = Field(default_factory=dict)

    def cost(self, model: str, source: str, prompt_tokens: int, completion_tokens: int) -> float:
        """The cost of one response; NaN-free: a model without a price gives ``math.nan`` only to be
        turned into a null by the caller (see :func:`cost_or_none`)."""
        if source == "template":
            return 0.0
        price = self.models.get(model)
        if price is None:
            return math.nan
        multiplier = price.batch_multiplier if source.endswith("-batch") else 1.0
        return (
            multiplier
            * (prompt_tokens * price.prompt_per_million + completion_tokens * price.completion_per_million)
            / 1e6
        )


def load_prices(path: Path | None) -> PriceTable:
    if path is None or not path.exists():
        return PriceTable()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"cannot read the price table {path}: {error}", field="prices") from None
    return validate_document(PriceTable, document)
