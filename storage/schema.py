"""The events table: one flat row per EVTX record (DESIGN 1).

This is the contract between `storage` (which writes it) and `analysis` (which reads it).
Change a column here and both sides follow; never drop a record because a field is odd.
"""

from __future__ import annotations

import pyarrow as pa

_TS = pa.timestamp("us", tz="UTC")

EVENTS_SCHEMA = pa.schema(
    [
        ("evidence_sha256", pa.string()),
        # System/EventRecordID (header number is renumbered); ids >= 2^63 wrap to negative, as
        # 64-bit logon ids do, so every one is kept
        ("record_id", pa.int64()),
        ("time", _TS),  # System/TimeCreated/@SystemTime, UTC
        ("time_from_header", pa.bool_()),  # TimeCreated missing: the record header's time
        ("host", pa.string()),  # Computer as written
        ("host_key", pa.string()),  # lower-case short name
        ("channel", pa.string()),
        ("provider", pa.string()),
        ("event_id", pa.int32()),
        ("version", pa.int16()),
        ("level", pa.int16()),
        ("task", pa.int32()),
        ("opcode", pa.int16()),
        ("keywords", pa.string()),
        ("process_id", pa.int64()),
        ("thread_id", pa.int64()),
        ("activity_id", pa.string()),
        ("user_sid", pa.string()),  # System/Security/@UserID
        ("subject_user", pa.string()),
        ("subject_domain", pa.string()),
        ("subject_sid", pa.string()),
        ("subject_logon_id", pa.int64()),
        ("target_user", pa.string()),
        ("target_domain", pa.string()),
        ("target_sid", pa.string()),
        ("target_logon_id", pa.int64()),
        ("linked_logon_id", pa.int64()),
        ("logon_type", pa.int64()),
        ("elevated", pa.bool_()),
        ("ip", pa.string()),
        ("port", pa.int32()),
        ("workstation", pa.string()),
        ("logon_process", pa.string()),
        ("auth_package", pa.string()),
        ("status", pa.string()),
        ("sub_status", pa.string()),
        ("failure_reason", pa.string()),
        ("lsm_session_id", pa.int64()),
        ("process_name", pa.string()),
        ("data", pa.string()),  # the whole EventData/UserData as JSON text
    ]
)

EVENT_COLUMNS: tuple[str, ...] = tuple(EVENTS_SCHEMA.names)

EVIDENCE_SCHEMA = pa.schema(
    [
        ("path", pa.string()),  # as given by the user (zip members: zip!member)
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("mtime", _TS),
        ("parser", pa.string()),  # evtx | python-evtx | evtx+python-evtx
        ("records", pa.int64()),  # records read from this file
        ("stored", pa.int64()),  # records stored (records minus duplicates)
        ("duplicates", pa.int64()),  # already in the case from another copy of the log
        ("skipped", pa.int64()),  # records known to exist but unreadable
        ("errors", pa.list_(pa.string())),
        ("hosts", pa.list_(pa.string())),
        ("event_files", pa.list_(pa.string())),  # Parquet files under events/, relative to the case
        ("ingested_at", _TS),
        ("collected_from", pa.string()),  # host named by the collection (Velociraptor client_info)
    ]
)
