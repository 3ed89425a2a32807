"""The CSV dialect of the warehouse's COPY, in one place for both transfer modes.

Client mode streams through `COPY ... FROM STDIN` / `COPY (...) TO STDOUT`; the aws_s3 mode hands
the same options to the warehouse's own COPY, so both read and write the same bytes.
"""

from __future__ import annotations

# What export writes: `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv, HEADER true)`.
CSV_EXPORT_OPTIONS = "FORMAT csv, HEADER true"

# What staging reads: comma separated, double quotes, empty field = NULL, UTF-8. Client mode
# strips the header line itself (after checking it) and sends only the data lines.
CSV_IMPORT_OPTIONS = "FORMAT csv, ENCODING 'UTF8'"

# The server reads the whole object, header included: COPY skips that first line (the console has
# checked it with a ranged read and passes the columns in the file's order). COPY then counts
# the header as line 1, so its line numbers are the file's.
CSV_IMPORT_OPTIONS_WITH_HEADER = f"{CSV_IMPORT_OPTIONS}, HEADER true"
