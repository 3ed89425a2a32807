-- Import one S3 object into a table with the RDS/Aurora aws_s3 extension, exactly as documented:
-- aws_s3.table_import_from_s3(table_name, column_list, options, aws_commons.create_s3_uri(bucket,
-- file_path, region)). The database reads the object itself (its s3Import IAM role) and runs a
-- server-side COPY with `options` in the caller's transaction; the result is a text report.
-- The table name is "schema.table" and the column list "a,b,c", both of validated identifiers.
SELECT aws_s3.table_import_from_s3(
    %(table_name)s,
    %(column_list)s,
    %(options)s,
    aws_commons.create_s3_uri(%(bucket)s, %(key)s, %(region)s)
)
