"""Object names and URI checks: `{table}`, the name before the extension, and the errors users see."""

from __future__ import annotations

import pytest

from airflow_provider_wa_analytics.destinations import destination_uris
from airflow_provider_wa_analytics.destinations.naming import object_uri, parse_location, plan_locations
from airflow_provider_wa_analytics.exceptions import InvalidParameterError


@pytest.mark.parametrize(
    ("destination", "several", "expected"),
    [
        ("s3://b/p/{table}/2025-03-01.jsonl", True, "s3://b/p/daily/2025-03-01.jsonl"),
        ("s3://b/p/{table}.csv", False, "s3://b/p/daily.csv"),
        ("s3://b/p/2025-03-01.jsonl", False, "s3://b/p/2025-03-01.jsonl"),
        ("s3://b/p/2025-03-01.jsonl", True, "s3://b/p/2025-03-01_daily.jsonl"),
        ("gs://b/p/2025-03-01.jsonl.gz", True, "gs://b/p/2025-03-01_daily.jsonl.gz"),
        ("gs://b/p/2025-03-01.CSV", True, "gs://b/p/2025-03-01_daily.CSV"),
        ("s3://b/p/2025-03-01", True, "s3://b/p/2025-03-01_daily"),
        ("s3://b/p/run.2025.03.01", True, "s3://b/p/run.2025.03.01_daily"),
        ("file:///data/wa/x.json", True, "file:///data/wa/x_daily.json"),
    ],
)
def test_object_uri(destination, several, expected):
    assert object_uri(destination, "daily", several) == expected


def test_plan_puts_each_table_in_its_own_object():
    plan = plan_locations("s3://bkt/p/2025-03-01.csv", ["daily", "campaigns"])
    assert {name: loc.uri for name, loc in plan.items()} == {
        "daily": "s3://bkt/p/2025-03-01_daily.csv",
        "campaigns": "s3://bkt/p/2025-03-01_campaigns.csv",
    }
    assert plan["daily"].hidden_sibling(".staging").uri == "s3://bkt/p/.2025-03-01_daily.csv.staging"


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ("http://example.com/x.json", "`destination` must be an s3://bucket/key"),
        ("/data/x.json", "`destination` must be an s3://bucket/key"),
        ("file://data/x.json", "file:// URIs must be absolute"),
        ("file:///data/", "must name a file"),
        ("s3://bkt", "must name an object"),
        ("s3://bkt/prefix/", "must name an object"),
        ("s3://Bad_Bucket/x.json", "bucket of a s3:// URI"),
        ("gs://ab/x.json", "bucket of a gs:// URI"),
    ],
)
def test_bad_destination_names_the_parameter(destination, message):
    with pytest.raises(InvalidParameterError, match="`destination`") as err:
        parse_location(destination)
    assert message in str(err.value)


def test_scheme_error_does_not_echo_the_rest_of_the_uri():
    with pytest.raises(InvalidParameterError) as err:
        parse_location("https://user:hunter2@example.com/x")
    assert "hunter2" not in str(err.value)


def test_uris_of_a_static_destination():
    assert destination_uris("s3://bkt/wa/overall.jsonl", {"daily": [], "campaigns": []}, "jsonl") == [
        "s3://bkt/wa/overall_daily.jsonl",
        "s3://bkt/wa/overall_campaigns.jsonl",
    ]
    assert destination_uris("gs://bkt/wa/{table}.json", {"daily": []}, "json") == ["gs://bkt/wa/raw.json"]
    assert destination_uris("file:///data/wa/out.csv", ["daily"], "csv") == ["file:///data/wa/out.csv"]


def test_no_uris_for_templated_or_xcom_destinations():
    assert destination_uris("s3://bkt/wa/{{ ds }}.jsonl", {"daily": []}, "jsonl") == []
    assert destination_uris("s3://bkt/{% if true %}x{% endif %}.jsonl", ["daily"], "jsonl") == []
    assert destination_uris(None, {"daily": []}, "jsonl") == []


def test_uris_check_a_static_destination_at_parse_time():
    with pytest.raises(InvalidParameterError, match="`destination`"):
        destination_uris("ftp://host/x.jsonl", {"daily": []}, "jsonl")
    with pytest.raises(InvalidParameterError, match="`output_format`"):
        destination_uris("s3://bkt/x.xml", {"daily": []}, "xml")


def test_file_uris_from_path_as_uri_are_decoded(tmp_path):
    from airflow_provider_wa_analytics.destinations.naming import plan_locations

    base = (tmp_path / "my dir" / "{table}.jsonl").as_uri()  # .../my%20dir/%7Btable%7D.jsonl
    plan = plan_locations(base, ["daily", "summary"])
    assert plan["daily"].key == str(tmp_path / "my dir" / "daily.jsonl")
