"""Activity attribution: what each session did (DESIGN 2, "Activity attribution").

`attribute(con)` reads the `events` view, the built `sessions` / `session_sources` and, when
present, `imported` timeline rows, and returns the `activity` table: one row per activity
event with the session it happened in (or null), a one-line summary, and how it was matched:

- `logon_id`: the event names the acting logon id (SubjectLogonId, Sysmon LogonId) and a
  session on that host owns that id and its time span holds the event (reconnect segments of
  one logon id are told apart by time; well-known SYSTEM/service ids link nothing);
- `user+time`: the event names only the acting user (System/Security/@UserID, a user field,
  an imported row): the session of that user on that host whose span holds the time,
  preferring remote and interactive sessions over network/service ones, then the latest
  start, then the session id -- deterministic, and the reason is kept in `match_note`;
- `host+time` (weak): a service install, scheduled task or log clearing that names no logon
  id and no user but SYSTEM (7045 ...): the one interactive/RDP session on that host whose (closed) span holds the
  time, only when exactly one does;
- null: none matched; the row stays, listed by host and time, so nothing is hidden.

Times are matched on the corrected order when the sessions were just built on `con` (clock
changes, see analysis.sessions step 01b).

Set-based SQL only; no file I/O, no UI.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from logonscope.storage import identity
from logonscope.storage.vocabulary import (
    POWERSHELL,
    SECURITY,
    SYSMON,
    SYSTEM,
    TASKS,
    require_identifier,
)

SCHEMA = pa.schema(
    [
        ("session_id", pa.string()),
        ("time", pa.timestamp("us", tz="UTC")),
        ("host", pa.string()),
        ("host_key", pa.string()),
        ("channel", pa.string()),
        ("event_id", pa.int32()),
        ("record_id", pa.int64()),
        ("evidence_sha256", pa.string()),
        ("user", pa.string()),
        ("summary", pa.string()),
        ("confidence", pa.string()),
        ("match_note", pa.string()),
    ]
)


# Logon ids of SYSTEM, LOCAL/NETWORK SERVICE and "none": shared by everything, they link nothing.
SHARED_LOGON_IDS = (0, 0x3E4, 0x3E5, 0x3E7)
# Tolerance before a session's start: 4672 and friends share the 4624's instant.
LEAD_SECONDS = 2


def _d(field: str) -> str:
    return f"coalesce(json_extract_string(data, '$.\"{field}\"'), '?')"


# Security 4688 and Sysmon 1 say the same thing: image and command line.
_PROCESS_CREATED = "'process created: ' || coalesce(process_name, '?') || coalesce(' ' || nullif(json_extract_string(data, '$.CommandLine'), ''), '')"

# (channel, event id, summary SQL). The catalogue of what counts as activity.
CATALOGUE: tuple[tuple[str, int, str], ...] = (
    (SECURITY, 4688, _PROCESS_CREATED),
    (SECURITY, 4689, "'process exited: ' || coalesce(process_name, '?')"),
    (SECURITY, 4656, f"'object handle requested: ' || {_d('ObjectName')}"),
    (
        SECURITY,
        4663,
        f"'object accessed: ' || {_d('ObjectName')} || coalesce(' (' || json_extract_string(data, '$.AccessList') || ')', '')",
    ),
    (SECURITY, 4660, "'object deleted'"),
    (SECURITY, 5140, f"'share accessed: ' || {_d('ShareName')}"),
    (
        SECURITY,
        5145,
        f"'share accessed: ' || {_d('ShareName')} || ' ' || coalesce(json_extract_string(data, '$.RelativeTargetName'), '')",
    ),
    (SECURITY, 4698, f"'scheduled task created: ' || {_d('TaskName')}"),
    (SECURITY, 4699, f"'scheduled task deleted: ' || {_d('TaskName')}"),
    (SECURITY, 4702, f"'scheduled task updated: ' || {_d('TaskName')}"),
    (SECURITY, 4720, f"'account created: ' || {_d('TargetUserName')}"),
    (SECURITY, 4722, f"'account enabled: ' || {_d('TargetUserName')}"),
    (SECURITY, 4723, f"'password change attempted: ' || {_d('TargetUserName')}"),
    (SECURITY, 4724, f"'password reset: ' || {_d('TargetUserName')}"),
    (SECURITY, 4725, f"'account disabled: ' || {_d('TargetUserName')}"),
    (SECURITY, 4726, f"'account deleted: ' || {_d('TargetUserName')}"),
    (SECURITY, 4727, f"'security group created: ' || {_d('TargetUserName')}"),
    (
        SECURITY,
        4728,
        f"'member added to global group ' || {_d('TargetUserName')} || ': ' || {_d('MemberName')}",
    ),
    (
        SECURITY,
        4729,
        f"'member removed from global group ' || {_d('TargetUserName')} || ': ' || {_d('MemberName')}",
    ),
    (SECURITY, 4731, f"'local group created: ' || {_d('TargetUserName')}"),
    (
        SECURITY,
        4732,
        f"'member added to local group ' || {_d('TargetUserName')} || ': ' || {_d('MemberSid')}",
    ),
    (
        SECURITY,
        4733,
        f"'member removed from local group ' || {_d('TargetUserName')} || ': ' || {_d('MemberSid')}",
    ),
    (SECURITY, 4735, f"'local group changed: ' || {_d('TargetUserName')}"),
    (SECURITY, 4737, f"'global group changed: ' || {_d('TargetUserName')}"),
    (SECURITY, 4738, f"'account changed: ' || {_d('TargetUserName')}"),
    (
        SECURITY,
        4648,
        "'explicit credentials for ' || coalesce(nullif(target_domain, '') || '\\', '') || coalesce(target_user, '?') || ' on ' || "
        + _d("TargetServerName"),
    ),
    (SECURITY, 4672, "'special privileges assigned'"),
    (SECURITY, 1102, "'audit log cleared'"),
    (
        SECURITY,
        4697,
        f"'service installed: ' || {_d('ServiceName')} || ' → ' || {_d('ServiceFileName')}",
    ),
    (SYSTEM, 7045, f"'service installed: ' || {_d('ServiceName')} || ' → ' || {_d('ImagePath')}"),
    (SYSTEM, 104, "'event log cleared'"),
    (SYSMON, 1, _PROCESS_CREATED),
    (
        SYSMON,
        3,
        f"'network connection: ' || {_d('DestinationIp')} || ':' || {_d('DestinationPort')} || ' by ' || coalesce(process_name, '?')",
    ),
    (SYSMON, 11, f"'file created: ' || {_d('TargetFilename')}"),
    (POWERSHELL, 4103, f"'PowerShell pipeline: ' || left({_d('Payload')}, 160)"),
    (POWERSHELL, 4104, f"'PowerShell script block: ' || left({_d('ScriptBlockText')}, 160)"),
    (TASKS, 106, f"'scheduled task registered: ' || {_d('TaskName')}"),
    (TASKS, 140, f"'scheduled task updated: ' || {_d('TaskName')}"),
    (TASKS, 141, f"'scheduled task deleted: ' || {_d('TaskName')}"),
    (TASKS, 200, f"'scheduled task action started: ' || {_d('TaskName')}"),
)

# Sessions that SYSTEM activity naming no user is attributed to by host and time alone (the
# weakest link, `host+time`): interactive and RDP ones, when exactly one is open. Only for the
# actions an intruder has SYSTEM do for them (services, tasks, clearing logs); SYSTEM's own
# process creations and the like would flood any session open at the time.
HOST_TIME_TYPES = (2, 10, 11, 12)
HOST_TIME_EVENTS: tuple[tuple[str, int], ...] = (
    (SYSTEM, 7045),
    (SECURITY, 4697),
    (SECURITY, 4698),
    (SECURITY, 4702),
    (TASKS, 106),
    (TASKS, 140),
    (SECURITY, 1102),
    (SYSTEM, 104),
)
_HOST_TIME_KEYS = " OR ".join(
    f"(e.channel = '{channel}' AND e.event_id = {eid})" for channel, eid in HOST_TIME_EVENTS
)
_REMOTE_FIRST = "CASE WHEN s.logon_type IN (10, 2, 11, 12, 7) THEN 0 ELSE 1 END"


def _catalogue_sql(sources: str) -> str:
    keys = " OR ".join(
        f"(channel = '{channel}' AND event_id = {eid})" for channel, eid, _ in CATALOGUE
    )
    summary = (
        "CASE "
        + " ".join(
            f"WHEN channel = '{channel}' AND event_id = {eid} THEN {sql}"
            for channel, eid, sql in CATALOGUE
        )
        + " END"
    )
    shared = ", ".join(map(str, SHARED_LOGON_IDS))
    system_sids = ", ".join(f"'{sid}'" for sid in sorted(identity.SYSTEM_SIDS))
    return f"""
    CREATE OR REPLACE TEMP TABLE _at_ev AS
    WITH ev AS (
        SELECT e.evidence_sha256, e.record_id, e.time, e.host, e.host_key, e.channel,
               e.event_id, {summary} AS summary, e.subject_logon_id, e.subject_user,
               e.subject_domain, e.subject_sid, upper(coalesce(e.user_sid, e.subject_sid)) AS u
        FROM events e
        WHERE ({keys})
          AND NOT EXISTS (SELECT 1 FROM {sources} ss
                          WHERE ss.evidence_sha256 = e.evidence_sha256
                            AND ss.record_id = e.record_id)),
    -- the identity rules once per distinct account (they normalise strings); MATERIALIZED:
    -- else the optimizer moves them above the join and runs them on every row
    -- (ls_is_system of the key, a column of the inner level: its tree bound once)
    who AS MATERIALIZED (
        SELECT subject_user, subject_sid,
               CASE WHEN NOT ls_is_system_key(k, NULL, subject_sid) THEN k END AS uk
        FROM (SELECT *, ls_user_key(subject_user) AS k
              FROM (SELECT DISTINCT subject_user, subject_sid FROM ev)))
    SELECT e.evidence_sha256, e.record_id, e.time, e.host, e.host_key, e.channel, e.event_id,
           e.summary,
           CASE WHEN e.subject_logon_id NOT IN ({shared}) THEN e.subject_logon_id END AS lid,
           CASE WHEN e.u NOT IN ({system_sids}) THEN e.u END AS usid,
           w.uk,
           coalesce(nullif(e.subject_domain, '-') || '\\', '') || e.subject_user AS "user",
           epoch_us(e.time) AS ct
    FROM ev e JOIN who w ON w.subject_user IS NOT DISTINCT FROM e.subject_user
     AND w.subject_sid IS NOT DISTINCT FROM e.subject_sid
    """


def _imported_sql(host_map: str | None) -> str:
    # a row naming a host's earlier name belongs to that host (host_map: alias -> host_key)
    key = "ls_host_key(i.host)"
    if host_map is not None:
        key = f"coalesce((SELECT m.host_key FROM {host_map} m WHERE m.alias = {key}), {key})"
    return f"""
    INSERT INTO _at_ev
    SELECT sha256, line, time, host, {key}, source, NULL, description,
           NULL, NULL, ls_user_key("user"), "user", epoch_us(time)
    FROM imported i
    """


# Clock changes: when the sessions were just built on this connection, analysis.sessions left
# each host's eras behind (_ls_chgx: the change records; _ls_erab: each era's written times and
# offset; _ls_s0: each session's corrected start and end). Activity is then matched on the
# corrected time too -- exactly by record order in the logs that record the changes, else by
# the first era whose written times hold it. Otherwise (or for hosts without changes) the
# written time is the corrected one.
_CORRECTED_SQL = """
CREATE OR REPLACE TEMP TABLE _at_ev AS
WITH x AS (
    SELECT c.host_key, h.evidence_sha256, c.record_id, c.era
    FROM _ls_chgx c JOIN _ls_sha h USING (sha_h)),
exact AS (
    SELECT e.evidence_sha256, e.record_id, e.channel, coalesce(x.era, 0) AS era
    FROM (SELECT * FROM _at_ev WHERE (host_key, evidence_sha256) IN
          (SELECT DISTINCT host_key, evidence_sha256 FROM x)) e
    ASOF LEFT JOIN x ON x.host_key = e.host_key AND x.evidence_sha256 = e.evidence_sha256
     AND e.record_id >= x.record_id),
guess AS (
    SELECT e.evidence_sha256, e.record_id, e.channel, min(b.era) AS era
    FROM _at_ev e JOIN _ls_erab b
      ON b.host_key = e.host_key AND epoch_us(e.time) >= coalesce(b.lo, epoch_us(e.time))
     AND epoch_us(e.time) <= coalesce(b.hi, epoch_us(e.time))
    GROUP BY ALL),
era AS (
    SELECT e.evidence_sha256, e.record_id, e.channel, coalesce(x.era, g.era) AS era
    FROM _at_ev e LEFT JOIN exact x USING (evidence_sha256, record_id, channel)
    LEFT JOIN guess g USING (evidence_sha256, record_id, channel))
SELECT e.* EXCLUDE (ct), e.ct - coalesce(b.offset_us, 0) AS ct
FROM _at_ev e LEFT JOIN era r USING (evidence_sha256, record_id, channel)
LEFT JOIN _ls_erab b ON b.host_key = e.host_key AND b.era = r.era
"""

_SESSIONS_SQL = """
CREATE OR REPLACE TEMP TABLE _at_sess AS
SELECT session_id, host_key, user_key, upper(sid) AS sid, logon_type, logon_ids, start,
       system, "end" IS NOT NULL AS closed, epoch_us(start) AS start_us,
       coalesce(epoch_us("end"), epoch_us(start) + 100 * 365 * 86400000000) AS stop_us
FROM {sessions} WHERE outcome <> 'failure'
"""

_SESSIONS_CORRECTED_SQL = """
CREATE OR REPLACE TEMP TABLE _at_sess AS
SELECT s.* REPLACE (
           CASE WHEN c.session_id IS NOT NULL THEN c.start_c ELSE s.start_us END AS start_us,
           CASE WHEN c.session_id IS NULL THEN s.stop_us
                ELSE coalesce(c.end_c, c.start_c + 100 * 365 * 86400000000) END AS stop_us)
FROM _at_sess s LEFT JOIN _ls_s0 c USING (session_id)
"""

_MATCH_SQL = f"""
CREATE OR REPLACE TEMP TABLE _at_by_lid AS
SELECT e.evidence_sha256, e.record_id, e.channel, s.session_id
FROM _at_ev e
JOIN (SELECT session_id, host_key, unnest(logon_ids) AS lid, start_us, stop_us
      FROM _at_sess) s
  ON s.host_key = e.host_key AND s.lid = e.lid
 AND e.ct >= s.start_us - {LEAD_SECONDS * 1_000_000} AND e.ct <= s.stop_us
QUALIFY row_number() OVER (PARTITION BY e.evidence_sha256, e.record_id, e.channel
                           ORDER BY s.start_us DESC, s.session_id) = 1;

-- the session of the event's SID, or of its user when it names no SID: two equi-joins (one
-- join on `sid = usid OR user_key = uk` hashes on the host alone and tries every session of
-- the host for each event)
CREATE OR REPLACE TEMP TABLE _at_by_user AS
WITH pending AS (
    SELECT * FROM _at_ev e
    WHERE NOT EXISTS (SELECT 1 FROM _at_by_lid l WHERE l.evidence_sha256 = e.evidence_sha256
                      AND l.record_id = e.record_id AND l.channel = e.channel)),
pairs AS (
    SELECT e.evidence_sha256, e.record_id, e.channel, s.session_id, s.logon_type, s.start_us
    FROM pending e JOIN _at_sess s
      ON s.host_key = e.host_key AND s.sid = e.usid AND e.ct BETWEEN s.start_us AND s.stop_us
    UNION ALL
    SELECT e.evidence_sha256, e.record_id, e.channel, s.session_id, s.logon_type, s.start_us
    FROM pending e JOIN _at_sess s
      ON s.host_key = e.host_key AND s.user_key = e.uk AND e.ct BETWEEN s.start_us AND s.stop_us
    WHERE e.usid IS NULL)
SELECT s.evidence_sha256, s.record_id, s.channel, s.session_id,
       count(*) OVER (PARTITION BY s.evidence_sha256, s.record_id, s.channel) AS candidates,
       {_REMOTE_FIRST} AS remote_rank
FROM pairs s
QUALIFY row_number() OVER (PARTITION BY s.evidence_sha256, s.record_id, s.channel
                           ORDER BY {_REMOTE_FIRST}, s.start_us DESC, s.session_id) = 1;

CREATE OR REPLACE TEMP TABLE _at_by_host AS
SELECT e.evidence_sha256, e.record_id, e.channel,
       any_value(s.session_id) AS session_id, count(*) AS candidates
FROM _at_ev e JOIN _at_sess s
  ON s.host_key = e.host_key AND e.ct BETWEEN s.start_us AND s.stop_us
WHERE e.lid IS NULL AND e.usid IS NULL AND e.uk IS NULL AND ({_HOST_TIME_KEYS})
  AND s.logon_type IN {HOST_TIME_TYPES} AND NOT s.system AND s.closed
GROUP BY ALL;
"""

_RESULT_SQL = """
SELECT coalesce(l.session_id, u.session_id,
                CASE WHEN h.candidates = 1 THEN h.session_id END) AS session_id,
       e.time, e.host, e.host_key, e.channel, e.event_id, e.record_id, e.evidence_sha256,
       e."user", e.summary,
       CASE WHEN l.session_id IS NOT NULL THEN 'logon_id'
            WHEN u.session_id IS NOT NULL THEN 'user+time'
            WHEN h.candidates = 1 THEN 'host+time' END AS confidence,
       CASE WHEN l.session_id IS NOT NULL THEN 'the session owns the acting logon id'
            WHEN u.candidates = 1 THEN 'the only session of this user open at that time'
            WHEN u.session_id IS NOT NULL THEN
                 'one of ' || u.candidates || ' sessions of this user open at that time: '
                 || CASE WHEN u.remote_rank = 0 THEN 'remote/interactive preferred, '
                         ELSE '' END || 'then the latest start'
            WHEN e.lid IS NOT NULL THEN 'no session on this host owns logon id '
                 || printf('0x%X', e.lid) || ' at that time'
            WHEN e.usid IS NOT NULL OR e.uk IS NOT NULL THEN 'no session of this user open at that time'
            WHEN h.candidates = 1 THEN 'weak: no user named (SYSTEM); the only interactive/RDP '
                 || 'session open on this host at that time'
            WHEN h.candidates > 1 THEN 'no user named (SYSTEM); ' || h.candidates
                 || ' interactive/RDP sessions open on this host at that time'
            ELSE 'the event names no logon id or user' END AS match_note
FROM _at_ev e
LEFT JOIN _at_by_lid l USING (evidence_sha256, record_id, channel)
LEFT JOIN _at_by_user u USING (evidence_sha256, record_id, channel)
LEFT JOIN _at_by_host h USING (evidence_sha256, record_id, channel)
"""
# How `attribute` returns its rows (a build's tasks leave them unsorted: the assembly sorts).
ORDER = "host_key, time, record_id"


def _has_tables(con: duckdb.DuckDBPyConnection, *names: str) -> bool:
    query = "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name = ANY(?)"
    return {r[0] for r in con.execute(query, [list(names)]).fetchall()} == set(names)


def attribute(
    con: duckdb.DuckDBPyConnection,
    sessions: str = "sessions",
    sources: str = "session_sources",
    with_imported: bool = False,
    host_map: str | None = None,
) -> pa.Table:
    """The activity table from `events`, the sessions and their sources (relation names on
    `con`, default the case views) and, with `with_imported`, the `imported` timeline rows."""
    attribute_into(con, sessions, sources, with_imported, host_map)
    return con.sql(f"SELECT * FROM _at_result ORDER BY {ORDER}").to_arrow_table().cast(SCHEMA)


def attribute_into(
    con: duckdb.DuckDBPyConnection,
    sessions: str = "sessions",
    sources: str = "session_sources",
    with_imported: bool = False,
    host_map: str | None = None,
) -> None:
    """`attribute`'s rows left on `con` as the temp table `_at_result`, in no order."""
    for name in (sessions, sources, *([host_map] if host_map else [])):
        require_identifier(name)
    identity.install_macros(con)
    con.execute(_catalogue_sql(sources))
    if with_imported:
        con.execute(_imported_sql(host_map))
    corrected = _has_tables(con, "_ls_chgx", "_ls_erab", "_ls_s0", "_ls_sha")
    # no era (no clock change on these hosts): the corrected times are the written ones
    corrected = corrected and bool(con.execute("SELECT count(*) FROM _ls_erab").fetchall()[0][0])
    if corrected:
        con.execute(_CORRECTED_SQL)
    con.execute(_SESSIONS_SQL.format(sessions=sessions))
    if corrected:
        con.execute(_SESSIONS_CORRECTED_SQL)
    con.execute(_MATCH_SQL)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _at_result AS {_RESULT_SQL}")
