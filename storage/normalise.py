"""Turn batches of parsed records (the `evtx` package's JSON text) into events rows, in DuckDB.

One SQL statement decodes a whole batch: no per-record Python, so ingest runs near the bare
parser's speed. Both parsers feed it (python-evtx records are first shaped like `evtx` JSON).
Typed columns come from the fields Windows writes, keyed on field names that mean the same
thing everywhere (Security's `TargetLogonId`, ...) and, for generic or positional names, on
(channel, event id) -- ids repeat across providers. Values are kept as written apart from
type conversion (hex logon ids to integers, `ip:port` split); meaning (`-` means none, user
and address normalisation) belongs to `storage.identity`, which also gives `host_key`. A field that does not convert becomes null; a record is never dropped and its
whole EventData/UserData stays in `data`.
"""

from __future__ import annotations

import os
import re
import warnings
from typing import TypeAlias

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from logonscope.storage import connection
from logonscope.storage.identity import host_key, install_macros
from logonscope.storage.schema import EVENTS_SCHEMA
from logonscope.storage.vocabulary import GATEWAY, LSM, RCM, RDPCORE, SECURITY, SYSMON, SYSTEM

# System values, by JSON path under Event.System.
_SYSTEM = {
    "channel": "Channel",
    "eid": "EventID",
    "eid_text": 'EventID."#text"',
    "computer": "Computer",
    "created": 'TimeCreated."#attributes".SystemTime',
    "record": "EventRecordID",
    "provider": 'Provider."#attributes".Name',
    "activity": 'Correlation."#attributes".ActivityID',
    "pid": 'Execution."#attributes".ProcessID',
    "tid": 'Execution."#attributes".ThreadID',
    "usid": 'Security."#attributes".UserID',
    "version": "Version",
    "level": "Level",
    "task": "Task",
    "opcode": "Opcode",
    "keywords": "Keywords",
}

# EventData / UserData fields read by name.
_FIELDS = (
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectUserSid",
    "SubjectLogonId",
    "TargetUserName",
    "TargetDomainName",
    "TargetUserSid",
    "TargetSid",
    "TargetLogonId",
    "TargetLinkedLogonId",
    "LogonType",
    "ElevatedToken",
    "IpAddress",
    "IpPort",
    "WorkstationName",
    "LogonProcessName",
    "AuthenticationPackageName",
    "Status",
    "SubStatus",
    "FailureReason",
    "ProcessName",
    "NewProcessName",
    "AccountName",
    "AccountDomain",
    "LogonID",
    "ClientName",
    "ClientAddress",
    "SessionId",
    "User",
    "SessionID",
    "TargetSession",
    "Session",
    "Address",
    "Param1",
    "Param2",
    "Param3",
    "ClientIP",
    "TSId",
    "UserSid",
    "Username",
    "param1",
    "param7",
    "LogonId",
    "Image",
    "TerminalSessionId",
    "IPString",
)

_MACROS = (
    # NTSTATUS as 0xC000006D whatever the parser wrote.
    """CREATE OR REPLACE MACRO ls_ntstatus(x) AS (
         CASE WHEN try_cast(x AS UBIGINT) IS NOT NULL
              THEN printf('0x%08X', try_cast(x AS UBIGINT) & 4294967295) ELSE x END)""",
    # `DOMAIN\\user` -> user / DOMAIN; a bare name has no domain.
    "CREATE OR REPLACE MACRO ls_account_user(x) AS "
    "(CASE WHEN strpos(x, '\\') > 0 THEN substr(x, strpos(x, '\\') + 1) ELSE x END)",
    "CREATE OR REPLACE MACRO ls_account_domain(x) AS "
    "(CASE WHEN strpos(x, '\\') > 0 THEN substr(x, 1, strpos(x, '\\') - 1) END)",
)


def _luid(column: str) -> str:
    """A UBIGINT logon id as BIGINT: 64-bit LUIDs wrap to signed so every one fits."""
    return (
        f"CASE WHEN {column} >= 9223372036854775808 "
        f"THEN CAST(CAST({column} AS HUGEINT) - 18446744073709551616 AS BIGINT) "
        f"ELSE CAST({column} AS BIGINT) END"
    )


def _sql() -> str:
    system = [f"'$.Event.System.{path}'" for path in _SYSTEM.values()]
    event_data = [f"'$.Event.EventData.\"{name}\"'" for name in _FIELDS]
    fields = ", ".join(f"'$.\"{name}\"'" for name in _FIELDS)
    first_field = len(_SYSTEM) + 1
    user_data, rendering = first_field + len(_FIELDS), first_field + len(_FIELDS) + 1
    named = ",\n".join(
        [f"sd[{i}] AS {name}" for i, name in enumerate(_SYSTEM, 1)]
        + [f"coalesce(sd[{first_field + i}], u[{i + 1}]) AS f_{i + 1}" for i in range(len(_FIELDS))]
    )

    def on(channel: str, *ids: int) -> str:
        return (
            f"(channel = '{channel}'"
            + (f" AND eid_i IN ({', '.join(map(str, ids))})" if ids else "")
            + ")"
        )

    # (channel, event id) rules, computed once per row as flags.
    flags = {
        "is_lsm": on(LSM),
        "is_rcm1149": on(RCM, 1149),
        "is_1074": on(SYSTEM, 1074),
        "is_winlogon": on(SYSTEM, 7001, 7002),
        "is_gateway": on(GATEWAY, 302, 303),
        "is_131": on(RDPCORE, 131),
        "is_140": on(RDPCORE, 140),
        "is_sysmon": on(SYSMON, 1, 3, 11),
        "is_lock": on(SECURITY, 4800, 4801),
    }
    flag_sql = ",\n           ".join(f"{expr} AS {name}" for name, expr in flags.items())
    # One JSON parse per record gives System, the EventData fields, UserData (rare) and whether
    # RenderingInfo follows. `data` is the EventData text itself: both parsers write compact JSON
    # with EventData last under Event (`...}}`), so it is cut out (by `_cut_event_data`, in bytes:
    # not parsed and printed again, nor counted in characters) when `cut`; forwarded events
    # (RenderingInfo after EventData) are re-extracted instead. `ed`: the text holds EventData.
    paths = ", ".join(system + event_data + ["'$.Event.UserData'", "'$.Event.RenderingInfo'"])
    return f"""
WITH extracted AS (
    SELECT header_time, sha, j, ed, json_extract_string(j, [{paths}]) AS sd
    FROM batch
), payload AS (
    SELECT header_time, sha, sd,
           CASE WHEN sd[{user_data}] IS NOT NULL
                THEN json_extract_string(json_extract(sd[{user_data}], '$.*')[1], [{fields}]) END AS u,
           coalesce(ed AND sd[{rendering}] IS NULL, false) AS cut,
           nullif(CASE WHEN ed AND sd[{rendering}] IS NULL THEN NULL
                       WHEN ed THEN CAST(json_extract(j, '$.Event.EventData') AS VARCHAR)
                       ELSE sd[{user_data}] END, 'null') AS data
    FROM extracted
), r AS (
    SELECT header_time, sha, data, cut,
{named}
    FROM payload
), k AS (
    SELECT *, coalesce(try_cast(eid AS INTEGER), try_cast(eid_text AS INTEGER)) AS eid_i,
           try_cast(created AS TIMESTAMPTZ) AS created_t
    FROM r
), f AS (
    SELECT *,
           {flag_sql}
    FROM k
), t AS (
    SELECT *,
           try_cast(CASE WHEN is_sysmon THEN f_LogonId ELSE f_SubjectLogonId END AS UBIGINT) AS u_subject,
           try_cast(coalesce(f_TargetLogonId, f_LogonID) AS UBIGINT) AS u_target,
           try_cast(f_TargetLinkedLogonId AS UBIGINT) AS u_linked,
           CASE WHEN is_131 THEN ls_clean(f_ClientIP) END AS client_ip
    FROM f
)
SELECT
    CAST(sha AS VARCHAR) AS evidence_sha256,
    {_luid("try_cast(record AS UBIGINT)")} AS record_id,
    coalesce(created_t, try_cast(replace(header_time, ' UTC', '') AS TIMESTAMPTZ)) AS time,
    created_t IS NULL AS time_from_header,
    computer AS host,
    CAST(NULL AS VARCHAR) AS host_key,
    channel,
    provider,
    eid_i AS event_id,
    try_cast(version AS SMALLINT) AS version,
    try_cast(level AS SMALLINT) AS level,
    try_cast(task AS INTEGER) AS task,
    try_cast(opcode AS SMALLINT) AS opcode,
    keywords,
    try_cast(pid AS BIGINT) AS process_id,
    try_cast(tid AS BIGINT) AS thread_id,
    nullif(upper(trim(activity, '{{}}')), '') AS activity_id,
    usid AS user_sid,
    CASE WHEN is_sysmon THEN ls_account_user(f_User) ELSE f_SubjectUserName END AS subject_user,
    CASE WHEN is_sysmon THEN ls_account_domain(f_User) ELSE f_SubjectDomainName END AS subject_domain,
    f_SubjectUserSid AS subject_sid,
    {_luid("u_subject")} AS subject_logon_id,
    CASE WHEN is_lsm THEN ls_account_user(f_User)
         WHEN is_rcm1149 THEN f_Param1
         WHEN is_1074 THEN ls_account_user(f_param7)
         WHEN is_gateway THEN ls_account_user(f_Username)
         ELSE coalesce(f_TargetUserName, f_AccountName) END AS target_user,
    CASE WHEN is_lsm THEN ls_account_domain(f_User)
         WHEN is_rcm1149 THEN f_Param2
         WHEN is_1074 THEN ls_account_domain(f_param7)
         WHEN is_gateway THEN ls_account_domain(f_Username)
         ELSE coalesce(f_TargetDomainName, f_AccountDomain) END AS target_domain,
    CASE WHEN is_winlogon THEN f_UserSid ELSE coalesce(f_TargetUserSid, f_TargetSid) END AS target_sid,
    {_luid("u_target")} AS target_logon_id,
    {_luid("u_linked")} AS linked_logon_id,
    try_cast(f_LogonType AS BIGINT) AS logon_type,
    CASE WHEN f_ElevatedToken IS NOT NULL
         THEN lower(f_ElevatedToken) IN ('%%1842', 'yes', 'true', '1') END AS elevated,
    CASE WHEN is_131 THEN ls_ip_host_of(client_ip)
         WHEN is_140 THEN f_IPString
         WHEN is_lsm THEN f_Address
         WHEN is_rcm1149 THEN f_Param3
         ELSE coalesce(f_IpAddress, f_ClientAddress) END AS ip,
    CASE WHEN is_131 THEN ls_ip_port_of(client_ip) ELSE try_cast(f_IpPort AS INTEGER) END AS port,
    coalesce(f_WorkstationName, f_ClientName) AS workstation,
    f_LogonProcessName AS logon_process,
    f_AuthenticationPackageName AS auth_package,
    ls_ntstatus(f_Status) AS status,
    ls_ntstatus(f_SubStatus) AS sub_status,
    f_FailureReason AS failure_reason,
    try_cast(CASE WHEN is_lsm THEN coalesce(f_SessionID, f_TargetSession, f_Session)
                  WHEN is_winlogon THEN f_TSId
                  WHEN is_lock THEN f_SessionId
                  WHEN is_sysmon THEN f_TerminalSessionId END AS BIGINT) AS lsm_session_id,
    CASE WHEN is_sysmon THEN f_Image
         WHEN is_1074 THEN f_param1
         ELSE coalesce(f_ProcessName, f_NewProcessName) END AS process_name,
    data,
    cut
FROM t
"""


def _field_refs(sql: str) -> str:
    """`f_SessionID` -> its column: field names differ only in case (SessionId/SessionID),
    and SQL identifiers do not, so columns are numbered."""
    return re.sub(r"\bf_([A-Za-z]\w*)", lambda m: f"f_{_FIELDS.index(m.group(1)) + 1}", sql)


_SQL = _field_refs(_sql())

_ROWS = 1 << 20  # rows per Arrow chunk of a batch's result: one chunk
# DuckDB warns that a DB-API result's Arrow is copied once more than a relation's: measured,
# the copy costs nothing a record can be seen to pay, while a relation parses and binds twice
warnings.filterwarnings(
    "ignore", "Arrow output on a DB-API result", UserWarning, r"logonscope\.storage\.normalise"
)

# A batch's texts: Python strings, or the same already in an Arrow string column.
Texts: TypeAlias = "list[str] | pa.Array | pa.ChunkedArray"
Times: TypeAlias = "list[str | None] | pa.Array | pa.ChunkedArray"


class Normaliser:
    """A DuckDB connection that turns batches of record JSON into events tables. One thread
    by default: the parallelism is across worker processes, one file each."""

    def __init__(self, threads: int = 1) -> None:
        # one per worker process: the workers share the memory budget
        share = max(1, (os.cpu_count() or 1) // max(1, threads))
        self._con = connection.connect(share=share, threads=threads)
        install_macros(self._con)
        for macro in _MACROS:
            self._con.execute(macro)
        # parsed once: a batch then costs one bind and plan (~30 ms), not a parse, a bind for
        # the relation's columns and another to run it (~60 ms; 4 of a small ingest's batches)
        self._statement = self._con.extract_statements(_SQL)[0]

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """Its DuckDB connection, for other work of the same worker between batches."""
        return self._con

    def batch(self, records: Texts, header_times: Times, sha256s: list[str]) -> pa.Table:
        """Rows in EVENTS_SCHEMA for `records` (each the JSON of one `{"Event": ...}`), each
        from the evidence file whose SHA-256 is at the same position in `sha256s`."""
        texts = _strings(records)
        has_event_data, event_data = _cut_event_data(texts)
        batch = pa.table(
            {
                "j": texts,
                "ed": has_event_data,
                "header_time": _strings(header_times),
                "sha": pa.array(sha256s, pa.string()).dictionary_encode(),
            }
        )
        self._con.register("batch", batch)
        try:
            reader = self._con.execute(self._statement).to_arrow_reader(_ROWS)
            assert reader is not None  # None only once a result's rows are read
            table = reader.read_all()
        finally:
            self._con.unregister("batch")
        cut = table.column("cut")
        data = pc.if_else(cut, event_data, table.column("data"))
        table = table.drop_columns(["cut"])
        table = table.set_column(table.schema.get_field_index("data"), "data", data)
        return _with_host_keys(table).cast(EVENTS_SCHEMA)


def _strings(values: Texts | Times) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    return pa.array(values, pa.string())


def _cut_event_data(
    texts: pa.Array | pa.ChunkedArray,
) -> tuple[pa.Array | pa.ChunkedArray, pa.Array | pa.ChunkedArray]:
    """(whether each record text holds `"EventData":`, the text after its first one less the
    two closing braces, JSON null as null): `data` for a record whose EventData comes last.
    Found and cut in bytes by Arrow, where DuckDB's strpos/substr count characters."""
    parts = pc.split_pattern(pc.fill_null(texts, ""), '"EventData":', max_splits=1)
    found = pc.equal(pc.list_value_length(parts), 2)
    after = pc.list_element(pc.list_slice(parts, 1, 2, return_fixed_size_list=True), 0)
    cut = pc.utf8_slice_codeunits(after, 0, -2)
    return found, pc.if_else(pc.equal(cut, "null"), pa.scalar(None, pa.string()), cut)


def _with_host_keys(table: pa.Table) -> pa.Table:
    """host_key from storage.identity, computed once per distinct Computer name."""
    hosts = table.column("host")
    names = pc.unique(hosts)
    keys = pa.array([host_key(name) for name in names.to_pylist()], pa.string())
    column = pc.take(keys, pc.index_in(hosts, value_set=names))
    return table.set_column(table.schema.get_field_index("host_key"), "host_key", column)
