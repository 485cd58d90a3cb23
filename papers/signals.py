"""What the catalogue tells the apps that build on it, without importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after commit with ``arxiv_ids``: papers new to the catalogue.
papers_added = Signal()
# Sent after commit with ``model_id``: a new embedding version is active; readers' models are stale.
embedding_refitted = Signal()
