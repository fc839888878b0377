"""Our models -> ActivityStreams documents, one module per outgoing shape."""
