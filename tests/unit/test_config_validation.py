"""The config is checked when it loads: S3 names, ISO date strings, a future ingestion_date, unsafe bounds and
export prefixes, named by file and key (the command's exit 2 on such a config: tests/test_config_exit.py)."""

from __future__ import annotations

from datetime import date

import pytest

from etl_core.config import load_config
from etl_core.errors import ConfigError
from support import shipped_config

TODAY = date(2022, 9, 6)


def refused(path: str) -> str:
    with pytest.raises(ConfigError) as error:
        load_config(path, today=TODAY)
    return str(error.value)


SOURCE_BUCKET = 'bucket = "d2b-internal-assessment-bucket"'
EXPORT_BUCKET = 'bucket = ""                       # "": the source bucket'


@pytest.mark.parametrize(
    "name, reason",
    [
        ("a..b", "has two adjacent periods"),
        ("192.168.1.1", "is formatted as an IP address"),
        ("ab", "has 2 characters; a bucket name has 3 to 63"),
        ("x" * 64, "has 64 characters"),
        ("My-Bucket", "may use only lowercase letters, digits, '.' and '-'"),
        ("-lake", "must begin and end with a letter or a digit"),
        ("lake.", "must begin and end with a letter or a digit"),
        ("lake_1", "may use only lowercase letters"),
        ("xn--lake", "starts with 'xn--', which S3 reserves"),
        ("sthree-lake", "starts with 'sthree-'"),
        ("lake-s3alias", "ends with '-s3alias', which S3 reserves"),
        ("lake--ol-s3", "ends with '--ol-s3'"),
    ],
)
@pytest.mark.parametrize("section", ["source", "export"])
def test_bucket_names_follow_s3_rules_in_both_sections(tmp_path, section, name, reason):
    old = SOURCE_BUCKET if section == "source" else EXPORT_BUCKET
    path = shipped_config(tmp_path, (old, f'bucket = "{name}"'))
    message = refused(path)
    assert message.startswith(f"{path}: [{section}.bucket] {name!r} is not a valid S3 bucket name: it ")
    assert reason in message


@pytest.mark.parametrize("name", ["abc", "d2b-internal-assessment-bucket", "my.exports.2022", "a" * 63, "1-2-3"])
def test_valid_bucket_names_are_accepted(tmp_path, name):
    config = load_config(shipped_config(tmp_path, (EXPORT_BUCKET, f'bucket = "{name}"')), today=TODAY)
    assert config.export.bucket == name


@pytest.mark.parametrize("key", ["as_of_date", "ingestion_date"])
@pytest.mark.parametrize(
    "literal, kind",
    [("2022-09-05", "date"), ("2022-09-05T10:30:00", "datetime"), ("2022-09-05 10:30:00+02:00", "datetime")],
)
def test_toml_date_and_datetime_literals_are_refused_with_the_reason(tmp_path, key, literal, kind):
    old = {"as_of_date": 'as_of_date = "2022-09-05"', "ingestion_date": 'ingestion_date = "today"'}[key]
    path = shipped_config(tmp_path, (old, f"{key} = {literal}"))
    assert refused(path).startswith(f"{path}: [pipeline.{key}] is a TOML {kind} literal ({literal[:10]}")
    assert f'write the day as a quoted ISO date string, like {key} = "2022-09-05"' in refused(path)


@pytest.mark.parametrize(
    "text",
    ["20220905", "2022-9-5", "2022-W36-1", "2022-249", "05/09/2022", "2022-02-30", "2022-09-05T00:00", "yesterday", ""],
)
def test_date_keys_are_exactly_iso_strings(tmp_path, text):
    path = shipped_config(tmp_path, ('as_of_date = "2022-09-05"', f'as_of_date = "{text}"'))
    message = refused(path)
    assert message.startswith(f"{path}: [pipeline.as_of_date] ")
    assert "is not an ISO date (YYYY-MM-DD, a real day)" in message or "must not be empty" in message


def test_an_ingestion_date_more_than_a_day_ahead_needs_the_explicit_setting(tmp_path):
    future = shipped_config(tmp_path, ('ingestion_date = "today"', 'ingestion_date = "2999-01-01"'))
    assert refused(future) == (
        f"{future}: [pipeline.ingestion_date] 2999-01-01 is more than a day in the future (today is 2022-09-06); "
        "fix it, or set allow_future_ingestion_date = true in [pipeline] if that is intended"
    )
    tomorrow = shipped_config(tmp_path, ('ingestion_date = "today"', 'ingestion_date = "2022-09-07"'))
    assert load_config(tomorrow, today=TODAY).pipeline.ingestion_date == date(2022, 9, 7)  # a time zone ahead
    allowed = shipped_config(
        tmp_path,
        ('ingestion_date = "today"', 'ingestion_date = "2999-01-01"'),
        ("allow_future_ingestion_date = false", "allow_future_ingestion_date = true"),
    )
    config = load_config(allowed, today=TODAY)
    assert config.pipeline.ingestion_date == date(2999, 1, 1) and config.warnings == ()
    wrong_type = shipped_config(
        tmp_path, ("allow_future_ingestion_date = false", 'allow_future_ingestion_date = "yes"')
    )
    assert "[pipeline.allow_future_ingestion_date] must be true or false" in refused(wrong_type)


@pytest.mark.parametrize(
    "region, endpoint, reason",
    [
        ("eu/central-1", "embedded", "may use only lowercase letters, digits and '-'"),
        ("eu central 1", "http://127.0.0.1:9000", "may use only lowercase letters"),
        ("EU-CENTRAL-1", "", "may use only lowercase letters"),
        ("local", "", "is not an AWS region name like eu-central-1"),
        ("eu-central", "", "is not an AWS region name"),
    ],
)
def test_region_names_are_checked(tmp_path, region, endpoint, reason):
    path = shipped_config(
        tmp_path,
        ('region = "eu-central-1"', f'region = "{region}"'),
        ('endpoint_url = "embedded"', f'endpoint_url = "{endpoint}"'),
    )
    message = refused(path)
    assert message.startswith(f"{path}: [source.region] {region!r} ") and reason in message


@pytest.mark.parametrize(
    "region, endpoint", [("eu-central-1", ""), ("us-gov-west-1", ""), ("garage", "http://s3:9000")]
)
def test_valid_regions_are_accepted(tmp_path, region, endpoint):
    path = shipped_config(
        tmp_path,
        ('region = "eu-central-1"', f'region = "{region}"'),
        ('endpoint_url = "embedded"', f'endpoint_url = "{endpoint}"'),
    )
    assert load_config(path, today=TODAY).source.region == region


EXPORT_PREFIX = 'prefix = "analytics_export/{user_id}/"'


@pytest.mark.parametrize(
    "template, written, problem",
    [
        ("analytics_export/{user_id}/../u1/", "analytics_export/demo1234/../u1/", "a '..' folder is normalised away"),
        ("analytics_export/./{user_id}/", "analytics_export/./demo1234/", "a '.' folder is normalised away"),
        ("analytics_export//{user_id}/", "analytics_export//demo1234/", "an empty folder (//) is normalised away"),
        ("analytics_export/{user_id}//", "analytics_export/demo1234//", "an empty folder (//)"),
        ("analytics_export\\\\{user_id}/", "analytics_export\\demo1234/", "a backslash is a folder separator"),
        ("analytics_export/shared{{user_id}}/", "analytics_export/shared{user_id}/", "must be a folder of its own"),
        ("analytics_export/shared{user_id}/", "analytics_export/shareddemo1234/", "must be a folder of its own"),
    ],
)
def test_an_export_prefix_that_could_leave_the_operators_folder_is_refused(tmp_path, template, written, problem):
    path = shipped_config(tmp_path, (EXPORT_PREFIX, f'prefix = "{template}"'))
    message = refused(path)
    toml_template = template.replace("\\\\", "\\")  # TOML's escape
    assert message.startswith(f"{path}: [export.prefix] {toml_template!r} would write under {written!r}: "), message
    assert problem in message


@pytest.mark.parametrize(
    "template, written",
    [
        ("analytics_export/{user_id}/", "analytics_export/demo1234/"),
        ("/{user_id}", "demo1234/"),
        ("exports/{user_id}/daily/", "exports/demo1234/daily/"),
        ("exports.v2/{user_id}/", "exports.v2/demo1234/"),
    ],
)
def test_plain_export_prefixes_with_the_user_id_as_a_folder_are_accepted(tmp_path, template, written):
    assert load_config(
        shipped_config(tmp_path, (EXPORT_PREFIX, f'prefix = "{template}"')), today=TODAY
    ).export.prefix == (written)


@pytest.mark.parametrize("value", ["0.0004", "0.005"])
def test_a_query_timeout_the_server_would_round_to_zero_is_refused(tmp_path, value):
    path = shipped_config(tmp_path, ("query_timeout_s = 30", f"query_timeout_s = {value}"))
    assert refused(path).startswith(f"{path}: [console.query_timeout_s] {value} is too short to be a bound: ")
    accepted = shipped_config(tmp_path, ("query_timeout_s = 30", "query_timeout_s = 0.01"))
    assert load_config(accepted, today=TODAY).console.query_timeout_s == 0.01


PREFIX = 'prefix = "orders_data/"'
BEST = 'best_product_by = "review_count"'


@pytest.mark.parametrize(
    "old, new, reason",
    [
        (PREFIX, 'prefix = "orders_data/{day}/"', "[source.prefix] 'orders_data/{day}/': the only placeholder"),
        (BEST, BEST + '\ndeadline = "25:00"', "[pipeline.deadline] '25:00' is not a time of day \"HH:MM\""),
        (BEST, BEST + '\ndeadline = "7:30"', "[pipeline.deadline] '7:30' is not a time of day"),
        (PREFIX, PREFIX + '\non_unchanged = "ignore"', "[source.on_unchanged] 'ignore' is not one of warn, fail"),
        (PREFIX, PREFIX + "\nmax_age_hours = -1", "[source.max_age_hours] must be a number of hours"),
        (PREFIX, PREFIX + '\narchive_prefix = "archive/{month}/"', "[source.archive_prefix] 'archive/{month}/'"),
    ],
)
def test_the_day_keys_are_checked(tmp_path, old, new, reason):
    assert reason in refused(shipped_config(tmp_path, (old, new)))


def test_a_dated_prefix_and_as_of_date_ingestion_date_are_accepted(tmp_path):
    config = load_config(
        shipped_config(
            tmp_path,
            (PREFIX, 'prefix = "orders_data/dt={date}"'),
            ('as_of_date = "2022-09-05"', 'as_of_date = "ingestion_date"'),
            ('ingestion_date = "today"', 'ingestion_date = "2022-09-01"'),
            (BEST, BEST + '\ndeadline = "07:30"'),
        ),
        today=TODAY,
    )
    assert config.source.prefix == "orders_data/dt={date}/"
    assert config.pipeline.as_of_date == date(2022, 9, 1) and config.pipeline.as_of_follows_ingestion
    assert config.pipeline.deadline == "07:30"
