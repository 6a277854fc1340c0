"""What each event type does, per source, over the batch's registry view (no I/O)."""
