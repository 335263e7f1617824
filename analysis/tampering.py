"""Signs of tampering with a host's logs: every log clear and every run of missing records.

`signs(con)` reads the `events` view (and `evidence`, for what ingest could not read) and
returns the `tampering` table, one row per sign:

- `log cleared`: Security 1102 / System 104 (Microsoft-Windows-Eventlog), with the log that
  was cleared and who cleared it (the event's subject);
- `records missing`: EventRecordIDs missing between two consecutive stored records of one
  log (host + channel) inside one evidence file. Ids another file of that host and channel
  holds are not missing (ingest stores a record once: a second copy of a log has "holes"
  where the first copy's records were kept); when ingest could not read some records of the
  file (`evidence.skipped`), the note says the gap may be those rather than a deletion.

`flag_sql` marks a session `tampered` when a sign on its host falls inside its span (a
session without a seen end counts its start only). Set-based SQL; no file I/O, no UI.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from logonscope.storage.vocabulary import SECURITY, SYSTEM, require_identifier

_TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema(
    [
        ("host_key", pa.string()),
        ("host", pa.string()),
        ("kind", pa.string()),  # log cleared | records missing
        ("channel", pa.string()),  # the log cleared, or the log with the gap
        ("time", _TS),  # the clear; for a gap, the last record before it
        ("time_to", _TS),  # the clear; for a gap, the first record after it
        ("record_id", pa.int64()),  # the clearing record; for a gap, the first missing id
        ("record_to", pa.int64()),  # the clearing record; for a gap, the last missing id
        ("missing", pa.int64()),  # records missing (gaps only)
        ("user", pa.string()),  # who cleared it, when the event says
        ("evidence_sha256", pa.string()),
        ("event_id", pa.int32()),  # 1102 / 104 for a clear
        ("note", pa.string()),
    ]
)
EVENTLOG = "Microsoft-Windows-Eventlog"

_CLEARS_SQL = f"""
SELECT host_key, host, 'log cleared' AS kind,
       CASE WHEN event_id = 1102 THEN '{SECURITY}'
            ELSE coalesce(nullif(json_extract_string(data, '$.LogFileCleared.Channel'), ''),
                     nullif(json_extract_string(data, '$.Channel'), ''), '?') END
           AS channel,
       time, time AS time_to, record_id, record_id AS record_to, CAST(NULL AS BIGINT) AS missing,
       CASE WHEN nullif(subject_user, '') IS NOT NULL
            THEN coalesce(nullif(subject_domain, '') || '\\', '') || subject_user END AS "user",
       evidence_sha256, event_id, CAST(NULL AS VARCHAR) AS note
FROM events
WHERE event_id IN (1102, 104) AND provider = '{EVENTLOG}'
  AND ((channel = '{SECURITY}' AND event_id = 1102) OR (channel = '{SYSTEM}' AND event_id = 104))
"""

# Only files whose id range holds fewer ids than records are walked record by record.
_GAPS_SQL = """
WITH f AS (
    SELECT host_key, channel, evidence_sha256
    FROM events WHERE host_key IS NOT NULL
    GROUP BY ALL HAVING max(record_id) - min(record_id) + 1 > count(*)),
g AS (
    SELECT e.host_key, e.host, e.channel, e.evidence_sha256, e.record_id, e.time,
           lead(e.record_id) OVER w AS next_id, lead(e.time) OVER w AS next_time
    FROM events e SEMI JOIN f USING (host_key, channel, evidence_sha256)
    WINDOW w AS (PARTITION BY e.host_key, e.channel, e.evidence_sha256 ORDER BY e.record_id)),
gaps AS (SELECT * FROM g WHERE next_id > record_id + 1),
held AS (  -- missing here, stored from another copy of the log
    SELECT p.host_key, p.channel, p.evidence_sha256, p.record_id,
           count(DISTINCT o.record_id) AS n
    FROM gaps p JOIN events o
      ON o.host_key = p.host_key AND o.channel = p.channel
     AND o.evidence_sha256 <> p.evidence_sha256
     AND o.record_id > p.record_id AND o.record_id < p.next_id
    GROUP BY ALL)
SELECT p.host_key, p.host, 'records missing' AS kind, p.channel, p.time, p.next_time AS time_to,
       p.record_id + 1 AS record_id, p.next_id - 1 AS record_to,
       p.next_id - p.record_id - 1 - coalesce(h.n, 0) AS missing,
       CAST(NULL AS VARCHAR) AS "user", p.evidence_sha256, CAST(NULL AS INTEGER) AS event_id,
       nullif(concat_ws('; ',
           CASE WHEN h.n > 0 THEN CAST(h.n AS VARCHAR)
                || ' of these ids are stored from another copy of the log' END,
           CASE WHEN v.skipped > 0 THEN CAST(v.skipped AS VARCHAR)
                || ' record(s) of this file were unreadable at ingest (chunk skipped):'
                || ' the gap may be those, not a deletion' END), '') AS note
FROM gaps p
LEFT JOIN held h USING (host_key, channel, evidence_sha256, record_id)
LEFT JOIN (SELECT sha256 AS evidence_sha256, max(skipped) AS skipped FROM $evidence
           GROUP BY 1) v USING (evidence_sha256)
WHERE p.next_id - p.record_id - 1 > coalesce(h.n, 0)
"""


# The signs of tampering inside a session's span (analysis.tampering), in words.
SESSION_SIGNS_SQL = """
SELECT t.kind || ': ' || t.channel || ' at ' || strftime(t.time, '%Y-%m-%d %H:%M:%S') || ' UTC'
       || CASE WHEN t.kind = 'log cleared' THEN ' (event ' || CAST(t.event_id AS VARCHAR)
                    || ', record ' || CAST(t.record_id AS VARCHAR) || ')'
               ELSE ' (' || CAST(t.missing AS VARCHAR) || ' record ids '
                    || CAST(t.record_id AS VARCHAR) || '-' || CAST(t.record_to AS VARCHAR) || ')'
          END
       || coalesce(' by ' || t."user", '') || coalesce('; ' || t.note, '')
FROM tampering t JOIN sessions s ON s.session_id = ? AND t.host_key = s.host_key
 AND t.time <= coalesce(s."end", s.start) AND t.time_to >= s.start
ORDER BY t.time, t.record_id
"""


def signs(con: duckdb.DuckDBPyConnection, evidence: str | None = "evidence") -> pa.Table:
    """The `tampering` rows of the `events` view of `con`, by host and time. `evidence`: the
    relation listing the evidence files (for unreadable records), or None."""
    if evidence is not None:
        require_identifier(evidence)
        source = evidence
    else:
        source = "(SELECT CAST(NULL AS VARCHAR) AS sha256, CAST(0 AS BIGINT) AS skipped)"
    gaps = _GAPS_SQL.replace("$evidence", source)
    sql = (
        f"SELECT * FROM ({_CLEARS_SQL}) UNION ALL SELECT * FROM ({gaps}) "
        "ORDER BY host_key, time, channel, record_id"
    )
    return con.sql(sql).to_arrow_table().cast(SCHEMA)


def flag_sql(sessions: str, signs_relation: str) -> str:
    """SELECT of `sessions` with `tampered` set: a sign on the session's host inside its span
    ([start, end]; a session without a seen end: its start only)."""
    require_identifier(sessions)
    require_identifier(signs_relation)
    return f"""
    SELECT s.* REPLACE (EXISTS (
        SELECT 1 FROM {signs_relation} t
        WHERE t.host_key = s.host_key AND t.time <= coalesce(s."end", s.start)
          AND t.time_to >= s.start) AS tampered)
    FROM {sessions} s
    """


def listed(con: duckdb.DuckDBPyConnection, host_key: str | None = None) -> pa.Table:
    """The case's `tampering` table for listing (one host's key, or all), with the evidence
    path of each sign."""
    where, params = "", []
    if host_key is not None:
        where, params = "WHERE t.host_key = ?", [host_key]
    return con.sql(
        "SELECT t.time, t.host, t.kind, t.channel, t.record_id, t.record_to, t.missing, t.user,"
        " t.time_to, t.note, e.path AS evidence_path, t.evidence_sha256, t.event_id, t.host_key"
        " FROM tampering t LEFT JOIN (SELECT sha256, any_value(path) AS path FROM evidence"
        f" GROUP BY 1) e ON e.sha256 = t.evidence_sha256 {where}"
        " ORDER BY t.host_key, t.time, t.channel, t.record_id",
        params=params,
    ).to_arrow_table()
