-- Export a query's result to one S3 object with the RDS/Aurora aws_s3 extension, exactly as
-- documented: aws_s3.query_export_to_s3(query, aws_commons.create_s3_uri(bucket, file_path,
-- region), options := ...). The database runs COPY (query) TO ... WITH (options) and writes the
-- object itself (its s3Export IAM role); outputs beyond about 6 GB continue in <key>_part2, ...
SELECT rows_uploaded, files_uploaded, bytes_uploaded
FROM aws_s3.query_export_to_s3(
    %(query)s,
    aws_commons.create_s3_uri(%(bucket)s, %(key)s, %(region)s),
    options := %(options)s
)
