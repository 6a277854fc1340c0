"""The service layer: handlers over a unit of work, batch processing, publishing, and the
operator use cases (`operations/`)."""
