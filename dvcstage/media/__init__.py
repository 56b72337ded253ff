"""One module per media kind; each validates its input and encodes it, without I/O."""
