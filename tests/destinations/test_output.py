"""Output end to end against moto (S3), the GCS emulator and a local directory, through the real hooks."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sys
from pathlib import Path

import pytest

from airflow_provider_wa_analytics.destinations import Output
from airflow_provider_wa_analytics.destinations.stores import Store
from airflow_provider_wa_analytics.exceptions import DestinationError, InvalidParameterError
from tests.destinations.conftest import Target, gcs_hook, make_gcs_bucket, make_s3_bucket, s3_hook
from tests.destinations.servers import GCS_CONN_ID, S3_CONN_ID

TABLES = {
    "daily": ["date", "sent", "delivered", "rate", "ok", "buttons"],
    "campaigns": ["campaign_id", "name", "sent"],
}
DAILY = [
    {"date": "2025-03-01", "sent": 10, "delivered": 9, "rate": 0.9, "ok": True, "buttons": [{"id": "b1"}]},
    {"date": "2025-03-02", "sent": 3, "ok": False},
]
CAMPAIGNS = [{"campaign_id": 7, "name": 'Spring "sale", TR', "sent": 13}]
BODIES = [b'{"data": {"daily": [1, 2]}}', b'{"data":{"daily":[3]}}']
EXT = {"json": "json", "jsonl": "jsonl", "csv": "csv"}


def write(destination, output_format="jsonl", conn_id=None, daily=DAILY, compression=None, **kwargs):
    out = Output(
        destination=destination,
        destination_conn_id=conn_id,
        output_format=output_format,
        compression=compression,
        tables=TABLES,
        **kwargs,
    )
    out.check()
    with out:
        if out.wants_raw:
            for body in BODIES:
                out.write_raw(body)
        else:
            out.write_rows("daily", iter(daily[:1]))  # several calls per table, generators welcome
            out.write_rows("daily", daily[1:])
            out.write_rows("campaigns", CAMPAIGNS)
        return out.commit()


def parse(output_format, data: bytes):
    if output_format == "json":
        return json.loads(data)
    if output_format == "csv":
        return list(csv.reader(io.StringIO(data.decode(), newline="")))
    return [json.loads(line) for line in data.decode().splitlines()]


@pytest.mark.parametrize("output_format", ["json", "jsonl", "csv"])
def test_writes_every_format(target: Target, output_format):
    ext = EXT[output_format]
    result = write(target.uri(f"wa/2025-03-01.{ext}"), output_format, target.conn_id)

    objects = target.objects()
    if output_format == "json":
        expected = b"[" + BODIES[0] + b"," + BODIES[1] + b"]"
        assert objects == {"wa/2025-03-01.json": expected}
        assert result == [
            {"uri": target.uri("wa/2025-03-01.json"), "table": "raw", "rows": 2, "bytes": len(expected)},
        ]
        return
    assert sorted(objects) == [f"wa/2025-03-01_campaigns.{ext}", f"wa/2025-03-01_daily.{ext}"]
    daily = parse(output_format, objects[f"wa/2025-03-01_daily.{ext}"])
    campaigns = parse(output_format, objects[f"wa/2025-03-01_campaigns.{ext}"])
    if output_format == "csv":
        assert daily == [
            TABLES["daily"],
            ["2025-03-01", "10", "9", "0.9", "true", '[{"id":"b1"}]'],
            ["2025-03-02", "3", "", "", "false", ""],
        ]
        assert campaigns == [TABLES["campaigns"], ["7", 'Spring "sale", TR', "13"]]
    else:
        assert daily == [DAILY[0], {**dict.fromkeys(TABLES["daily"]), **DAILY[1]}]
        assert [list(row) for row in daily] == [TABLES["daily"]] * 2
        assert campaigns == CAMPAIGNS
    assert result == [
        {
            "uri": target.uri(f"wa/2025-03-01_daily.{ext}"),
            "table": "daily",
            "rows": 2,
            "bytes": len(objects[f"wa/2025-03-01_daily.{ext}"]),
        },
        {
            "uri": target.uri(f"wa/2025-03-01_campaigns.{ext}"),
            "table": "campaigns",
            "rows": 1,
            "bytes": len(objects[f"wa/2025-03-01_campaigns.{ext}"]),
        },
    ]


def test_table_placeholder_and_gzip(target: Target, caplog):
    caplog.set_level("INFO")
    result = write(target.uri("wa/{table}/2025-03-01.csv.gz"), "csv", target.conn_id, compression="gzip")
    objects = target.objects()
    assert sorted(objects) == ["wa/campaigns/2025-03-01.csv.gz", "wa/daily/2025-03-01.csv.gz"]
    data = objects["wa/daily/2025-03-01.csv.gz"]
    assert data[4:8] == b"\0\0\0\0"  # no mtime in the gzip header: reruns are byte-identical
    assert gzip.decompress(data).startswith(b"date,sent,delivered,rate,ok,buttons\r\n2025-03-01,10,")
    assert result[0]["bytes"] == len(data)
    assert f"Wrote {target.uri('wa/daily/2025-03-01.csv.gz')} (table daily: 2 rows, {len(data)} bytes)" in (
        caplog.text
    )


@pytest.mark.parametrize("output_format", ["jsonl", "csv"])
def test_rerun_is_byte_identical_and_leaves_one_copy(target: Target, output_format):
    destination = target.uri(f"wa/2025-03-01.{output_format}")
    write(destination, output_format, target.conn_id, compression="gzip")
    first = target.objects()
    write(destination, output_format, target.conn_id, compression="gzip")
    assert target.objects() == first
    assert len(first) == 2  # the two tables, nothing staged or saved beside them


def test_rerun_replaces_and_an_empty_table_is_still_written(target: Target):
    destination = target.uri("wa/2025-03-01.csv")
    write(destination, "csv", target.conn_id)
    write(destination, "csv", target.conn_id, daily=[])
    objects = target.objects()
    assert objects["wa/2025-03-01_daily.csv"] == b"date,sent,delivered,rate,ok,buttons\r\n"
    assert len(objects) == 2


def test_a_failure_inside_the_block_writes_nothing(target: Target):
    target.put("wa/2025-03-01_daily.jsonl", b"previous\n")
    out = Output(target.uri("wa/2025-03-01.jsonl"), target.conn_id, "jsonl", tables=TABLES)
    out.check()
    with pytest.raises(RuntimeError, match="vendor went away"), out:
        out.write_rows("daily", DAILY)
        raise RuntimeError("vendor went away")
    assert target.objects() == {"wa/2025-03-01_daily.jsonl": b"previous\n"}


def test_check_leaves_nothing_behind(target: Target):
    Output(target.uri("wa/{table}/x.jsonl"), target.conn_id, "jsonl", tables=TABLES).check()
    assert target.objects() == {}


# -- failures while publishing -----------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["s3", "gs"])
def test_upload_failure_leaves_nothing_new(scheme, s3_endpoint, gcs_host):
    """A real failure: the second table's bucket disappears after check(), mid-publication."""
    make_bucket, conn_id = (make_s3_bucket, S3_CONN_ID) if scheme == "s3" else (make_gcs_bucket, GCS_CONN_ID)
    prefix = make_bucket()
    daily, campaigns = (Target(scheme, make_bucket(f"{prefix}-{t}"), conn_id) for t in TABLES)
    daily.put("wa/2025-03-01.jsonl", b"previous\n")

    out = Output(f"{scheme}://{prefix}-{{table}}/wa/2025-03-01.jsonl", conn_id, "jsonl", tables=TABLES)
    out.check()
    with out:
        out.write_rows("daily", DAILY)
        out.write_rows("campaigns", CAMPAIGNS)
        _delete_bucket(scheme, campaigns.root)
        with pytest.raises(Exception, match=r"(?i)bucket|404"):
            out.commit()
    assert daily.objects() == {"wa/2025-03-01.jsonl": b"previous\n"}  # staging object removed too


def test_upload_failure_on_local_disk_leaves_nothing_new(file_target: Target):
    """A real failure: a file sits where the second table's directory should be."""
    file_target.put("daily/2025-03-01.jsonl", b"previous\n")
    out = Output(file_target.uri("{table}/2025-03-01.jsonl"), None, "jsonl", tables=TABLES)
    out.check()
    with out:
        out.write_rows("daily", DAILY)
        file_target.put("campaigns", b"in the way")
        with pytest.raises(OSError):
            out.commit()
    assert file_target.objects() == {"daily/2025-03-01.jsonl": b"previous\n", "campaigns": b"in the way"}


class FailingPromotion:
    """Wraps the real store; the second promotion raises, as a network error or a kill would."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.promotions = 0

    def __getattr__(self, name):
        return getattr(self.store, name)

    def upload(self, path, dst, content_type):
        self.store.upload(path, dst, content_type)

    def exists(self, loc):
        return self.store.exists(loc)

    def snapshot(self, src, dst):
        self.store.snapshot(src, dst)

    def delete(self, locations):
        self.store.delete(locations)

    def promote(self, src, dst):
        if not src.key.endswith(".previous"):  # rollbacks go through
            self.promotions += 1
            if self.promotions == 2:
                raise ConnectionError("connection reset during the second promotion")
        self.store.promote(src, dst)


class OutputFailingOnSecondPromotion(Output):
    def _open_store(self, scheme):
        return FailingPromotion(super()._open_store(scheme))


@pytest.mark.parametrize("previous", [True, False], ids=["rerun", "first-run"])
def test_promotion_failure_rolls_back_the_whole_set(target: Target, previous):
    old = {"wa/2025-03-01_daily.csv": b"old daily\n", "wa/2025-03-01_campaigns.csv": b"old campaigns\n"}
    if previous:
        for key, data in old.items():
            target.put(key, data)
    destination = target.uri("wa/2025-03-01.csv")
    out = OutputFailingOnSecondPromotion(destination, target.conn_id, "csv", tables=TABLES)
    out.check()
    with out:
        out.write_rows("daily", DAILY)
        out.write_rows("campaigns", CAMPAIGNS)
        with pytest.raises(ConnectionError):
            out.commit()
    assert target.objects() == (old if previous else {})


class BrokenAfterFirstPromotion(FailingPromotion):
    """Every promotion after the first fails, rollbacks included (the store went away)."""

    def promote(self, src, dst):
        self.promotions += 1
        if self.promotions > 1:
            raise ConnectionError("store unreachable")
        self.store.promote(src, dst)


class OutputLosingTheStore(Output):
    def _open_store(self, scheme):
        return BrokenAfterFirstPromotion(super()._open_store(scheme))


def test_a_failed_rollback_keeps_the_previous_object(file_target: Target):
    file_target.put("wa/2025-03-01_daily.csv", b"old daily\n")
    out = OutputLosingTheStore(file_target.uri("wa/2025-03-01.csv"), None, "csv", tables=TABLES)
    with out:
        out.write_rows("daily", DAILY)
        with pytest.raises(ConnectionError):
            out.commit()
    objects = file_target.objects()
    (saved,) = [key for key in objects if key.endswith(".previous")]  # named after the attempt
    assert saved.startswith("wa/.2025-03-01_daily.csv.")
    assert objects.pop(saved) == b"old daily\n"
    assert objects.pop("wa/2025-03-01_daily.csv").startswith(b"date,sent")  # complete, this run's
    assert objects == {}


def test_promotion_failure_on_local_disk_restores_the_first_object(file_target: Target):
    """A real failure: a directory sits where the second table's file goes (os.replace refuses)."""
    file_target.put("wa/2025-03-01_daily.jsonl", b"previous\n")
    out = Output(file_target.uri("wa/2025-03-01.jsonl"), None, "jsonl", tables=TABLES)
    out.check()
    with out:
        out.write_rows("daily", DAILY)
        Path(file_target.root, "wa/2025-03-01_campaigns.jsonl").mkdir()
        with pytest.raises(IsADirectoryError):
            out.commit()
    assert file_target.objects() == {"wa/2025-03-01_daily.jsonl": b"previous\n"}


def _delete_bucket(scheme: str, bucket: str) -> None:
    if scheme == "s3":
        s3_hook().delete_bucket(bucket, force_delete=True)
    else:
        gcs_hook().delete_bucket(bucket, force=True)


# -- large objects ------------------------------------------------------------------------------


def test_large_object_goes_up_in_parts(s3_endpoint, monkeypatch):
    """Past the transfer threshold, S3Hook.load_file uploads in parts and the promotion copies in parts."""
    conn = json.loads(os.environ[f"AIRFLOW_CONN_{S3_CONN_ID.upper()}"])
    conn["extra"]["service_config"] = {
        "s3": {"transfer_config_args": {"multipart_threshold": 5 * 2**20, "multipart_chunksize": 5 * 2**20}}
    }
    monkeypatch.setenv("AIRFLOW_CONN_WA_TEST_S3_PARTS", json.dumps(conn))
    target = Target("s3", make_s3_bucket(), "wa_test_s3_parts")
    rows = ({"date": f"2025-03-{i:07d}", "sent": i, "buttons": ["x" * 80]} for i in range(60_000))
    result = write(target.uri("wa/2025-03-01.jsonl"), "jsonl", target.conn_id, daily=list(rows))
    assert result[0]["bytes"] > 6 * 2**20
    head = s3_hook(target.conn_id).head_object("wa/2025-03-01_daily.jsonl", target.root)
    assert head["ETag"].strip('"').endswith("-2")  # a multipart object
    assert len(target.objects()) == 2


# -- XCom ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["jsonl", "csv"])
def test_xcom_returns_the_rows(output_format):
    assert write(None, output_format) == {
        "daily": [DAILY[0], {**dict.fromkeys(TABLES["daily"]), **DAILY[1]}],
        "campaigns": CAMPAIGNS,
    }


def test_xcom_returns_the_parsed_bodies_for_json():
    assert write(None, "json") == {"raw": [json.loads(body) for body in BODIES]}


def test_xcom_guard_points_at_destination():
    out = Output(None, output_format="jsonl", tables=TABLES, xcom_max_bytes=1000)
    with out, pytest.raises(DestinationError, match="`destination`"):
        out.write_rows("daily", ({"date": "2025-03-01", "sent": i} for i in range(1000)))
    with pytest.raises(DestinationError, match="xcom_max_bytes"):
        write(None, "json", xcom_max_bytes=40)


# -- check() ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"destination": "ftp://host/x.jsonl"}, "`destination`"),
        ({"destination": "file://relative/x.jsonl"}, "`destination`"),
        ({"destination": "s3://bkt/x.jsonl", "output_format": "xml"}, "`output_format`"),
        ({"destination": "s3://bkt/x.jsonl", "compression": "zstd"}, "`compression`"),
        ({"destination": "s3://bkt/x.jsonl", "destination_conn_id": " "}, "`destination_conn_id`"),
        ({"destination": None, "output_format": "xml"}, "`output_format`"),
    ],
)
def test_check_refuses_bad_parameters(kwargs, parameter):
    with pytest.raises(InvalidParameterError, match=parameter):
        Output(tables=TABLES, **kwargs).check()


def test_check_refuses_an_unknown_bucket(s3_endpoint, gcs_host):
    with pytest.raises(DestinationError, match="S3 bucket 'wa-no-such-bucket' does not exist"):
        Output("s3://wa-no-such-bucket/x.jsonl", S3_CONN_ID, tables=TABLES).check()
    with pytest.raises(DestinationError, match="GCS bucket 'wa-no-such-bucket' does not exist"):
        Output("gs://wa-no-such-bucket/x.jsonl", GCS_CONN_ID, tables=TABLES).check()


@pytest.mark.parametrize("scheme", ["s3", "gs"])
def test_check_refuses_an_undefined_connection(scheme):
    with pytest.raises(DestinationError, match="`destination_conn_id` 'wa_nowhere' is not defined"):
        Output(f"{scheme}://bkt/x.jsonl", "wa_nowhere", tables=TABLES).check()


def test_check_refuses_google_cloud_default_when_it_is_not_defined():
    with pytest.raises(DestinationError, match="'google_cloud_default' is not defined"):
        Output("gs://bkt/x.jsonl", tables=TABLES).check()


def test_check_refuses_a_local_path_that_cannot_be_a_directory(tmp_path):
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(DestinationError, match="not a writable directory"):
        Output(f"file://{tmp_path}/taken/x.jsonl", tables=TABLES).check()


@pytest.mark.parametrize(
    ("scheme", "module", "extra"),
    [
        ("s3", "airflow.providers.amazon.aws.hooks.s3", "amazon"),
        ("gs", "airflow.providers.google.cloud.hooks.gcs", "google"),
    ],
)
def test_a_missing_extra_says_what_to_install(monkeypatch, scheme, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # what `import` sees when the extra is absent
    with pytest.raises(DestinationError, match=rf'pip install "airflow-provider-wa-analytics\[{extra}\]"'):
        Output(f"{scheme}://bkt/x.jsonl", tables=TABLES).check()


def test_file_and_xcom_need_no_extra(monkeypatch, tmp_path):
    for module in ("airflow.providers.amazon.aws.hooks.s3", "airflow.providers.google.cloud.hooks.gcs"):
        monkeypatch.setitem(sys.modules, module, None)
    write(f"file://{tmp_path}/x.jsonl")
    assert write(None)["campaigns"] == CAMPAIGNS
