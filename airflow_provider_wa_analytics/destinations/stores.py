"""The object stores behind ``s3://``, ``gs://`` and ``file://``: upload, server-side copy, delete, check.

S3 and GCS go through the official providers' hooks (optional extras), imported only when used so
that parsing a DAG never imports boto3 or google-cloud-storage.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from airflow_provider_wa_analytics.destinations.naming import Location
from airflow_provider_wa_analytics.exceptions import DestinationError

log = logging.getLogger(__name__)

PROBE_SUFFIX = ".probe"


def _missing_extra(extra: str, scheme: str) -> DestinationError:
    return DestinationError(
        f"Writing to {scheme}:// needs the {extra} extra: "
        f'pip install "airflow-provider-wa-analytics[{extra}]"'
    )


def _folders(locations: Iterable[Location]) -> list[Location]:
    """One probe location per (bucket, folder): permissions are often granted per prefix."""
    seen: dict[tuple[str, str], Location] = {}
    for loc in locations:
        seen.setdefault((loc.bucket, loc.folder), loc.hidden_sibling(PROBE_SUFFIX))
    return list(seen.values())


class Store:
    """What publishing needs from a store. ``promote`` must replace ``dst`` atomically for readers."""

    scheme = ""

    def check(self, locations: list[Location]) -> None:
        raise NotImplementedError

    def upload(self, path: str, dst: Location, content_type: str) -> None:
        raise NotImplementedError

    def exists(self, loc: Location) -> bool:
        raise NotImplementedError

    def read(self, loc: Location) -> bytes | None:
        """An object's bytes as stored, or None when there is none (the change report reads the
        object a re-fetched day replaces)."""
        raise NotImplementedError

    def snapshot(self, src: Location, dst: Location) -> None:
        """Copy ``src`` to ``dst`` (a hidden name: atomicity not needed); ``src`` stays."""
        raise NotImplementedError

    def promote(self, src: Location, dst: Location) -> None:
        """Make ``dst`` hold ``src``'s content in one atomic step; ``src`` may be consumed."""
        raise NotImplementedError

    def delete(self, locations: list[Location]) -> None:
        """Delete the objects; missing ones are not an error."""
        raise NotImplementedError

    def hidden_siblings(self, loc: Location) -> Iterator[tuple[Location, float]]:
        """Every object named ``.{name}.*`` next to ``loc`` (staging left-overs), with its age in s."""
        raise NotImplementedError

    def abort_uploads(self, loc: Location, abandoned: Any) -> None:
        """Abort unfinished uploads to ``loc`` and its hidden siblings that ``abandoned(key, age)``
        says belong to a dead attempt (S3 multipart uploads; nothing elsewhere)."""


#: Open flags of a staging file: created here and now (never an existing file), never through a link.
_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _create_exclusive(path: str) -> Any:
    try:
        return os.fdopen(os.open(path, _EXCLUSIVE, 0o666), "wb")
    except FileExistsError:
        raise DestinationError(
            f"Cannot stage file://{path}: something already has that name (staging never overwrites "
            "or follows a link)."
        ) from None


class LocalStore(Store):
    """``file://``: staging files sit in the destination folder so that ``os.replace`` stays atomic."""

    scheme = "file"

    def check(self, locations: list[Location]) -> None:
        for loc in locations:
            folder = os.path.dirname(loc.key)
            existing = folder
            while not os.path.exists(existing):  # the folders are created on commit
                existing = os.path.dirname(existing)
            if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
                raise DestinationError(f"Cannot write {loc.uri}: {existing} is not a writable directory.")
            if os.path.isdir(loc.key):
                raise DestinationError(f"Cannot write {loc.uri}: it is a directory.")

    def upload(self, path: str, dst: Location, content_type: str) -> None:
        os.makedirs(os.path.dirname(dst.key), exist_ok=True)
        with open(path, "rb") as src, _create_exclusive(dst.key) as out:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())  # the content is on disk before the rename makes it visible

    def exists(self, loc: Location) -> bool:
        return os.path.lexists(loc.key)

    def read(self, loc: Location) -> bytes | None:
        try:
            with open(loc.key, "rb") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def snapshot(self, src: Location, dst: Location) -> None:
        # A hard link: instant, and the saved version is exactly the file (or link) readers saw.
        try:
            os.link(src.key, dst.key, follow_symlinks=False)
        except FileExistsError:
            raise DestinationError(f"Cannot save {src.uri}: {dst.uri} already exists.") from None
        except OSError:  # a file system without hard links
            with open(src.key, "rb") as f, _create_exclusive(dst.key) as out:
                shutil.copyfileobj(f, out, 1024 * 1024)

    def promote(self, src: Location, dst: Location) -> None:
        os.replace(src.key, dst.key)

    def delete(self, locations: list[Location]) -> None:
        for loc in locations:
            with contextlib.suppress(FileNotFoundError):
                os.remove(loc.key)

    def hidden_siblings(self, loc: Location) -> Iterator[tuple[Location, float]]:
        folder, _, name = loc.key.rpartition("/")
        try:
            entries = list(os.scandir(folder or "/"))
        except FileNotFoundError:
            return
        now = time.time()
        for entry in entries:
            if entry.name.startswith(f".{name}."):
                with contextlib.suppress(FileNotFoundError):
                    age = now - entry.stat(follow_symlinks=False).st_mtime
                    yield Location("file", "", f"{folder}/{entry.name}"), age


class S3Store(Store):
    """S3 through ``S3Hook``: ``load_file`` (multipart above the transfer threshold), managed copy."""

    scheme = "s3"

    def __init__(self, conn_id: str, explicit_conn_id: bool) -> None:
        try:
            from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        except ImportError:
            raise _missing_extra("amazon", "s3") from None
        self.conn_id = conn_id
        self.explicit_conn_id = explicit_conn_id
        self.hook = S3Hook(aws_conn_id=conn_id)

    def check(self, locations: list[Location]) -> None:
        from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

        if self.explicit_conn_id:
            # aws_default may be absent on purpose (instance role, env credentials): S3Hook then uses
            # boto3's credential chain, so only a conn id the user named has to resolve.
            _require_connection(self.conn_id)
        client = self.hook.get_conn()
        for probe in _folders(locations):
            # A zero-byte object put, read and deleted: the only check that proves the rights that
            # publishing needs (head_bucket needs ListBucket, which a prefix-scoped writer may lack).
            try:
                client.put_object(Bucket=probe.bucket, Key=probe.key, Body=b"")
                client.head_object(Bucket=probe.bucket, Key=probe.key)  # copying needs GetObject
                client.delete_object(Bucket=probe.bucket, Key=probe.key)
            except (NoCredentialsError, PartialCredentialsError):
                raise DestinationError(
                    f"No AWS credentials for {probe.uri.rpartition('/')[0]}/: connection "
                    f"{self.conn_id!r} has none and none were found in the environment."
                ) from None
            except ClientError as err:
                raise _s3_error(err, probe, self.conn_id) from None

    def upload(self, path: str, dst: Location, content_type: str) -> None:
        with self._errors("upload", dst):
            self.hook.load_file(filename=path, key=dst.key, bucket_name=dst.bucket, replace=True)

    def exists(self, loc: Location) -> bool:
        with self._errors("check", loc):
            return self.hook.head_object(loc.key, loc.bucket) is not None

    def read(self, loc: Location) -> bytes | None:
        if not self.exists(loc):
            return None
        with self._errors("read", loc):
            return self.hook.get_conn().get_object(Bucket=loc.bucket, Key=loc.key)["Body"].read()  # type: ignore[no-any-return]

    def snapshot(self, src: Location, dst: Location) -> None:
        self._copy(src, dst)

    def promote(self, src: Location, dst: Location) -> None:
        self._copy(src, dst)

    def _copy(self, src: Location, dst: Location) -> None:
        # boto3's managed copy rather than S3Hook.copy_object: CopyObject stops at 5 GB, and
        # copy_object's default ACL "private" is refused by buckets with ACLs disabled.
        with self._errors(f"copy {src.uri} to", dst):
            self.hook.get_conn().copy(
                {"Bucket": src.bucket, "Key": src.key},
                dst.bucket,
                dst.key,
                ExtraArgs=self.hook.extra_args,
                Config=self.hook.transfer_config,
            )

    def delete(self, locations: list[Location]) -> None:
        by_bucket: dict[str, list[str]] = defaultdict(list)
        for loc in locations:
            by_bucket[loc.bucket].append(loc.key)
        for bucket, keys in by_bucket.items():
            self.hook.delete_objects(bucket, keys)

    def hidden_siblings(self, loc: Location) -> Iterator[tuple[Location, float]]:
        folder, slash, name = loc.key.rpartition("/")
        pages = self.hook.get_conn().get_paginator("list_objects_v2")
        now = time.time()
        with self._errors("list", loc):
            for page in pages.paginate(Bucket=loc.bucket, Prefix=f"{folder}{slash}.{name}."):
                for item in page.get("Contents", []):
                    age = now - item["LastModified"].timestamp()
                    yield Location("s3", loc.bucket, item["Key"]), age

    def abort_uploads(self, loc: Location, abandoned: Any) -> None:
        folder, slash, name = loc.key.rpartition("/")
        client = self.hook.get_conn()
        now = time.time()
        with self._errors("list the unfinished uploads of", loc):
            hidden = f"{folder}{slash}.{name}."
            for prefix in (hidden, loc.key):
                lister = client.get_paginator("list_multipart_uploads")
                pages = lister.paginate(Bucket=loc.bucket, Prefix=prefix)
                for upload in (u for page in pages for u in page.get("Uploads", [])):
                    key, age = upload["Key"], now - upload["Initiated"].timestamp()
                    if (key == loc.key or key.startswith(hidden)) and abandoned(key, age):
                        log.info("Aborting an abandoned upload to s3://%s/%s", loc.bucket, key)
                        client.abort_multipart_upload(Bucket=loc.bucket, Key=key, UploadId=upload["UploadId"])

    @contextlib.contextmanager
    def _errors(self, action: str, loc: Location) -> Iterator[None]:
        """S3 errors as DestinationError naming the object, never a raw botocore error."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            typed = _s3_error(err, loc, self.conn_id)
            if typed is err:
                typed = DestinationError(f"S3 could not {action} {loc.uri}: {code or err}.")
            raise typed from None
        except BotoCoreError as err:
            raise DestinationError(f"S3 could not {action} {loc.uri}: {err}.") from None


def _s3_error(err: Any, probe: Location, conn_id: str) -> Exception:
    code = str(err.response.get("Error", {}).get("Code", ""))
    where = f"s3://{probe.bucket}/{probe.folder}"
    if code in ("NoSuchBucket", "404"):
        return DestinationError(f"S3 bucket {probe.bucket!r} does not exist (connection {conn_id!r}).")
    if code in ("AccessDenied", "403", "AllAccessDisabled", "AccountProblem"):
        return DestinationError(
            f"Connection {conn_id!r} may not write, read and delete objects under {where} "
            "(s3:PutObject, s3:GetObject and s3:DeleteObject are needed)."
        )
    if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"):
        return DestinationError(f"S3 rejected the credentials of connection {conn_id!r} ({code}).")
    return err


class GCSStore(Store):
    """GCS through ``GCSHook``: ``upload(filename=...)`` (resumable for large files), ``rewrite``."""

    scheme = "gs"

    def __init__(self, conn_id: str) -> None:
        try:
            from airflow.providers.google.cloud.hooks.gcs import GCSHook
        except ImportError:
            raise _missing_extra("google", "gs") from None
        from airflow.providers.common.compat.sdk import AirflowNotFoundException

        self.conn_id = conn_id
        try:
            self.hook = GCSHook(gcp_conn_id=conn_id)  # reads the connection already
        except AirflowNotFoundException:
            raise _undefined_connection(conn_id) from None

    def check(self, locations: list[Location]) -> None:
        from google.api_core.exceptions import Forbidden, NotFound, Unauthorized

        client = self.hook.get_conn()
        for probe in _folders(locations):
            # Written and deleted, like on S3: object writers often lack storage.buckets.get.
            blob = client.bucket(probe.bucket).blob(probe.key)
            try:
                blob.upload_from_string(b"", content_type="application/octet-stream")
                blob.reload()  # rewriting needs storage.objects.get
                blob.delete()
            except NotFound:
                raise DestinationError(
                    f"GCS bucket {probe.bucket!r} does not exist (connection {self.conn_id!r})."
                ) from None
            except (Forbidden, Unauthorized):
                raise DestinationError(
                    f"Connection {self.conn_id!r} may not create, read and delete objects under "
                    f"gs://{probe.bucket}/{probe.folder} (storage.objects.create, .get and .delete are "
                    "needed)."
                ) from None

    def upload(self, path: str, dst: Location, content_type: str) -> None:
        self.hook.upload(bucket_name=dst.bucket, object_name=dst.key, filename=path, mime_type=content_type)

    def exists(self, loc: Location) -> bool:
        return bool(self.hook.exists(loc.bucket, loc.key))

    def read(self, loc: Location) -> bytes | None:
        return self.hook.download(loc.bucket, loc.key) if self.exists(loc) else None  # type: ignore[no-any-return]

    def snapshot(self, src: Location, dst: Location) -> None:
        self.hook.rewrite(src.bucket, src.key, dst.bucket, dst.key)

    def promote(self, src: Location, dst: Location) -> None:
        self.hook.rewrite(src.bucket, src.key, dst.bucket, dst.key)

    def delete(self, locations: list[Location]) -> None:
        for loc in locations:
            self.hook.delete(loc.bucket, loc.key, ignore_error=True)

    def hidden_siblings(self, loc: Location) -> Iterator[tuple[Location, float]]:
        folder, slash, name = loc.key.rpartition("/")
        now = time.time()
        for blob in self.hook.get_conn().bucket(loc.bucket).list_blobs(prefix=f"{folder}{slash}.{name}."):
            age = now - blob.updated.timestamp() if blob.updated else 0.0
            yield Location("gs", loc.bucket, blob.name), age


def _require_connection(conn_id: str) -> None:
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    from airflow_provider_wa_analytics.version_compat import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise _undefined_connection(conn_id) from None


def _undefined_connection(conn_id: str) -> DestinationError:
    return DestinationError(
        f"`destination_conn_id` {conn_id!r} is not defined: create that Airflow connection or pass "
        "another one."
    )


def open_store(scheme: str, conn_id: str | None) -> Store:
    if scheme == "s3":
        return S3Store(conn_id or "aws_default", explicit_conn_id=conn_id is not None)
    if scheme == "gs":
        return GCSStore(conn_id or "google_cloud_default")
    return LocalStore()
