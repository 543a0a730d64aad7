"""Per-sample tables streamed to Parquet chunk by chunk, so memory stays flat at any sample count."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from asara.io.atomic import atomic_path


class SampleWriter:
    """Appends chunks of columns (``name -> array``) to one Parquet file."""

    def __init__(self, path: Path, columns: Sequence[str], metadata: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.columns = list(columns)
        self.metadata = {k.encode(): v.encode() for k, v in (metadata or {}).items()}
        self._writer: pq.ParquetWriter | None = None

    def write(self, chunk: Mapping[str, Any]) -> None:
        table = pa.table({name: np.asarray(chunk[name]) for name in self.columns})
        if self._writer is None:
            schema = table.schema.with_metadata(self.metadata)
            self._writer = pq.ParquetWriter(self.path, schema, compression="zstd")
        self._writer.write_table(table.replace_schema_metadata(self._writer.schema.metadata))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@contextlib.contextmanager
def sample_writer(
    target: Path, columns: Sequence[str], metadata: Mapping[str, str] | None = None
) -> Iterator[SampleWriter]:
    """A :class:`SampleWriter` whose file appears at ``target`` only when writing completed."""
    with atomic_path(target) as temporary:
        writer = SampleWriter(temporary, columns, metadata)
        try:
            yield writer
        finally:
            writer.close()
