"""What the files look like: jsonl and csv in column order, raw json byte for byte, deterministic gzip."""

from __future__ import annotations

import datetime
import gzip

import pytest

from airflow_provider_wa_analytics.destinations.formats import CsvWriter, JsonlWriter, RawJsonWriter

COLUMNS = ["date", "sent", "rate", "ok", "note", "buttons"]
ROWS = [
    {"sent": 10, "date": "2025-03-01", "rate": 0.5, "ok": True, "note": 'Say "hi",\nbye', "buttons": [1]},
    {"date": datetime.date(2025, 3, 2), "ok": False, "note": "Çanakkale ✓", "buttons": {"b": 2, "a": 1}},
]


def _write(cls, path, rows=ROWS, compress=False):
    writer = cls(str(path), "daily", COLUMNS, compress)
    for row in rows:
        writer.write(row)
    writer.close()
    return path.read_bytes()


def test_jsonl_keeps_column_order_and_writes_missing_as_null(tmp_path):
    assert _write(JsonlWriter, tmp_path / "x").decode().splitlines() == [
        '{"date":"2025-03-01","sent":10,"rate":0.5,"ok":true,"note":"Say \\"hi\\",\\nbye","buttons":[1]}',
        '{"date":"2025-03-02","sent":null,"rate":null,"ok":false,"note":"Çanakkale ✓",'
        '"buttons":{"b":2,"a":1}}',
    ]


def test_csv_is_rfc4180_with_header_and_plain_values(tmp_path):
    assert _write(CsvWriter, tmp_path / "x").decode() == (
        "date,sent,rate,ok,note,buttons\r\n"
        '2025-03-01,10,0.5,true,"Say ""hi"",\nbye",[1]\r\n'
        '2025-03-02,,,false,Çanakkale ✓,"{""b"":2,""a"":1}"\r\n'
    )


def test_empty_tables_are_valid_files(tmp_path):
    assert _write(CsvWriter, tmp_path / "c", rows=[]) == b"date,sent,rate,ok,note,buttons\r\n"
    assert _write(JsonlWriter, tmp_path / "j", rows=[]) == b""


def test_a_column_outside_the_table_is_refused(tmp_path):
    writer = JsonlWriter(str(tmp_path / "x"), "daily", COLUMNS, False)
    with pytest.raises(ValueError, match=r"\['clicks'\] not in"):
        writer.write({"date": "2025-03-01", "clicks": 3})
    writer.close()


def test_nan_is_refused_rather_than_written_as_invalid_json(tmp_path):
    writer = JsonlWriter(str(tmp_path / "x"), "daily", COLUMNS, False)
    with pytest.raises(ValueError, match="JSON compliant"):
        writer.write({"rate": float("nan")})
    writer.close()


def test_raw_json_is_the_bodies_byte_for_byte(tmp_path):
    bodies = [b'{"data": {"a": 1}}', b'{ "data":[ ] }\n']
    writer = RawJsonWriter(str(tmp_path / "raw"), False)
    for body in bodies:
        writer.write(body)
    writer.close()
    assert (tmp_path / "raw").read_bytes() == b"[" + bodies[0] + b"," + bodies[1] + b"]"
    assert writer.rows == 2


def test_gzip_is_deterministic(tmp_path):
    first = _write(CsvWriter, tmp_path / "a", compress=True)
    second = _write(CsvWriter, tmp_path / "b", compress=True)
    assert first == second
    assert first[4:8] == b"\0\0\0\0"  # mtime
    assert gzip.decompress(first) == _write(CsvWriter, tmp_path / "plain")
