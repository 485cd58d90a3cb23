"""What happens to subscribers that other parts react to, without being imported here."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after commit with ``subscriber_id``: their feedback or preferences changed; retrain their model.
reader_changed = Signal()
