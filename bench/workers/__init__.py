"""What runs in a measured process of its own: one module per kind of contender."""
