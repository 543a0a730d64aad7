"""Files: atomic JSON, streamed Parquet, run metadata."""
