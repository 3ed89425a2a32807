"""A TEST DOUBLE of the RDS/Aurora `aws_s3` extension (a managed-service extension), for the tests.

Debian's PostgreSQL 15 with plpython3u implements the documented SQL API of `aws_s3` and
`aws_commons` (extension/aws_s3--1.1.sql says what AWS documents and where the double differs)
over boto3 against the tests' moto S3 server. Nothing here is shipped in the package.

Tests that need it load the fixtures with `pytest_plugins = ["aws_s3_double.fixtures"]`.
"""
