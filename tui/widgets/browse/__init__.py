"""The left column: what is in the data lake and the warehouse."""
