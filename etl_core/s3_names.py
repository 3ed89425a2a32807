"""S3's naming rules for buckets and regions, checked when the config loads (not at the first request), and the
name an S3 endpoint is shown by (its userinfo's secret masked)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from etl_core.secrets import MASK, register_secret

_BUCKET_CHARACTERS = re.compile(r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# What botocore accepts as a region name (a `/` or a space would otherwise surface as a traceback).
_REGION = re.compile(r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$")
_AWS_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid S3 bucket name (AWS's general purpose bucket rules), or None."""
    if not 3 <= len(name) <= 63:
        return f"has {len(name)} characters; a bucket name has 3 to 63"
    if not _BUCKET_CHARACTERS.match(name):
        return "may use only lowercase letters, digits, '.' and '-', and must begin and end with a letter or a digit"
    if ".." in name:
        return "has two adjacent periods"
    if _is_ip_address(name):
        return "is formatted as an IP address"
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"starts with {prefix!r}, which S3 reserves"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"ends with {suffix!r}, which S3 reserves"
    return None


def region_problem(region: str, *, aws: bool) -> str | None:
    """Why `region` cannot be an S3 region name (on AWS itself: like eu-central-1), or None."""
    if not _REGION.match(region):
        return "may use only lowercase letters, digits and '-' (like eu-central-1)"
    if aws and not _AWS_REGION.match(region):
        return "is not an AWS region name like eu-central-1 or us-gov-west-1"
    return None


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def endpoint_label(url: str) -> str:
    """The endpoint URL as shown everywhere: a secret in its userinfo (`http://key:secret@host`) masked
    and registered, so that `redact` also removes it from the errors that quote the URL."""
    parts = urlsplit(url)
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, secret = userinfo.partition(":")
    if not colon or not secret:
        return url
    register_secret(secret)
    return parts._replace(netloc=f"{user}:{MASK}@{host}").geturl()
