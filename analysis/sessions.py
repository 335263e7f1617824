"""Logon sessions: correlate the events of a case into investigator sessions (DESIGN 2).

`build_sessions(con)` reads the `events` view of a DuckDB connection and returns two Arrow
tables, `sessions` and `session_sources`. Everything is set-based SQL (window functions, ASOF
and equi-joins over temp tables); no Python loop ever walks the events.

The steps, each a temp table `_ls_*` so a rule can be inspected on its own:
 1. `_ls_ev`/`_ls_e` the events that matter, narrow rows; users and addresses normalised by
                  analysis.identity's macros once per distinct value, then joined back
 2. `_ls_boot`    boot epochs per host (logon ids and LSM session ids are unique only within
                  one); events find theirs by an equi-join on (host, hour bucket)
 3. `_ls_unit`    4624s with UAC split-token pairs collapsed into one logon unit
 4. `_ls_clu`/`_ls_mem` attempt clustering: the steps of one RDP/console logon (NLA 4624 type
                  3, 1149, 4624 type 2/10/11, 4778, LSM 21/25) on one host for one user, each
                  within `Rules.window` of the previous one and in chain order, become one
                  attempt; every other logon and every 4625 is its own attempt
 5. `_ls_src`     sources attached to attempts: 4672 by logon id, 4648 by user+time, LSM
                  22/41/42 + Winlogon 7001 by LSM session id (ASOF), RCM 261 / RdpCoreTS 131 by
                  ActivityID (never the constant console one); a failed NLA 4625 without an
                  address takes the 131 just before it (and that connection's 261)
 6. `_ls_end`     end matching per boot (ASOF, first end at/after the start): 4634/4647/4779 on
                  the logon ids that own the session (a reconnect: the ORIGINAL id from 4778,
                  never its temporary type-10 ids nor the NLA id), LSM 23/24/40 and Winlogon
                  7002 on the LSM session id (across boots too when the RDP ActivityID matches);
                  a later reconnect of the same session caps it (disconnect); else shutdown/boot;
                  else `none seen`
 7. `_ls_fold`    unlocks (4624 type 7) fold into the open interactive session they unlock
 8. `_ls_more`    every logoff/lock/unlock of any of a session's ids inside its span is listed
                  as a source (temporary reconnect ids, the NLA id) without ending anything

This module must not read or write files (analysis/build.py does that through storage) nor import
the UI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from logonscope.storage import identity

LSM = "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"
RCM = "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"
RDPCORE = "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational"
KERNEL_GENERAL = "Microsoft-Windows-Kernel-General"
# LSM writes this ActivityID on every console event: it links nothing.
CONSOLE_ACTIVITY = "61A55000-55E5-1017-0000-000000000000"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

SESSION_COLUMNS: tuple[str, ...] = (
    "session_id",
    "host",
    "host_key",
    "user",
    "domain",
    "user_key",
    "sid",
    "logon_type",
    "logon_kind",
    "src_ip",
    "src_ip_source",
    "src_ip_class",
    "src_ip_zone",
    "src_host",
    "tunnelled",
    "start",
    "end",
    "end_reason",
    "outcome",
    "failure_reason",
    "logon_ids",
    "lsm_session_id",
    "is_reconnect",
    "elevated",
    "admin",
    "system",
    "n_sources",
    "n_activity",
)
SOURCE_COLUMNS: tuple[str, ...] = (
    "session_id",
    "evidence_sha256",
    "record_id",
    "time",
    "channel",
    "event_id",
    "role",
)


@dataclass(frozen=True)
class Rules:
    """Tunables of the correlation (seconds)."""

    window: float = 5.0  # max gap between consecutive steps of one logon attempt
    privileges_window: float = 2.0  # 4672 to its 4624
    auth_window: float = 1.0  # 4648 before its 4624
    connect_window: float = 10.0  # RdpCoreTS 131 before a failed NLA 4625
    end_group: float = 2.0  # end events this close to the first one are the same end
    boot_gap_minutes: int = 10  # boot markers further apart than this are separate boots

    def us(self, seconds: float) -> int:
        return round(float(seconds) * 1_000_000)


_RELEVANT_IDS = (
    4624,
    4625,
    4634,
    4647,
    4648,
    4672,
    4778,
    4779,
    4800,
    4801,
    4608,
    4609,
    1100,
    21,
    22,
    23,
    24,
    25,
    40,
    41,
    42,
    261,
    1149,
    131,
    6005,
    6006,
    6008,
    1074,
    7001,
    7002,
    12,
    13,
)


def _relevant_filter() -> str:
    # the integer test first: most rows of a case fail it without a string comparison
    return f"""
        event_id IN {_RELEVANT_IDS} AND (
        (channel = 'Security' AND event_id IN
            (4624, 4625, 4634, 4647, 4648, 4672, 4778, 4779, 4800, 4801, 4608, 4609, 1100))
        OR (channel = '{LSM}' AND event_id IN (21, 22, 23, 24, 25, 40, 41, 42))
        OR (channel = '{RCM}' AND event_id IN (261, 1149))
        OR (channel = '{RDPCORE}' AND event_id = 131)
        OR (channel = 'System' AND event_id IN (6005, 6006, 6008, 1074, 7001, 7002))
        OR (channel = 'System' AND provider = '{KERNEL_GENERAL}' AND event_id IN (12, 13)))
    """


def _steps(r: Rules, events: str) -> list[str]:
    W = r.us(r.window)
    return [
        # 1. relevant events, normalised once -------------------------------------------------
        # rows stay narrow (an int per evidence file, no channel strings): copies are cheap
        f"""CREATE OR REPLACE TEMP TABLE _ls_sha AS
        SELECT hash(evidence_sha256) AS sha_h, evidence_sha256,
               row_number() OVER (ORDER BY evidence_sha256) AS fid
        FROM (SELECT DISTINCT evidence_sha256 FROM {events})""",
        # the channel string is compared once per row (into `src`), never again
        f"""CREATE OR REPLACE TEMP TABLE _ls_ev AS
        SELECT eid, sha_h, record_id, t, host, host_key, event_id, src,
               CASE WHEN src = 'sec' AND event_id = 4672 THEN subject_user
                    ELSE target_user END AS user_raw,
               target_domain AS domain_raw, target_sid,
               CASE WHEN src = 'sec' AND event_id = 4672 THEN subject_logon_id
                    ELSE target_logon_id END AS lid,
               linked_logon_id AS linked, logon_type, elevated, ip AS ip_raw,
               workstation, lsm_session_id AS lsid, status, sub_status,
               CASE WHEN src IN ('lsm', 'rcm', 'rdp')
                     AND activity_id IS NOT NULL AND upper(activity_id) <> '{CONSOLE_ACTIVITY}'
                    THEN upper(activity_id) END AS act,
               CASE WHEN (src = 'sec' AND event_id = 4608)
                      OR (src = 'sys' AND event_id IN (6005, 6008, 12)) THEN 'boot'
                    WHEN (src = 'sec' AND event_id IN (1100, 4609))
                      OR (src = 'sys' AND event_id IN (6006, 1074, 13)) THEN 'shutdown'
               END AS marker
        FROM (
            SELECT e.* EXCLUDE (host_key),
                   (f.fid << 40) + (e.record_id & 1099511627775) AS eid, f.sha_h,
                   epoch_us(e.time) AS t,
                   coalesce(e.host_key, ls_host_key(e.host)) AS host_key,
                   CASE WHEN channel = 'Security' THEN 'sec' WHEN channel = '{LSM}' THEN 'lsm'
                        WHEN channel = '{RCM}' THEN 'rcm' WHEN channel = '{RDPCORE}' THEN 'rdp'
                        ELSE 'sys' END AS src
            FROM {events} e JOIN _ls_sha f ON f.sha_h = hash(e.evidence_sha256)
            WHERE {_relevant_filter()})""",
        # 2. boots ---------------------------------------------------------------------------
        f"""CREATE OR REPLACE TEMP TABLE _ls_boot AS
        WITH m AS (
            SELECT host_key, t, marker, eid,
                   lag(marker) OVER w AS pm, lag(t) OVER w AS pt
            FROM _ls_ev WHERE marker IS NOT NULL
            WINDOW w AS (PARTITION BY host_key ORDER BY t, eid)),
        s AS (
            SELECT host_key, t AS boot_start
            FROM m WHERE marker = 'boot' AND (pm IS NULL OR pm = 'shutdown'
                  OR t - pt > {r.boot_gap_minutes * 60_000_000})),
        n AS (
            SELECT host_key, boot_start,
                   row_number() OVER (PARTITION BY host_key ORDER BY boot_start) AS boot,
                   lead(boot_start) OVER (PARTITION BY host_key ORDER BY boot_start) AS next_start
            FROM s
            UNION ALL
            SELECT h.host_key, NULL, 0, min(s.boot_start)
            FROM (SELECT DISTINCT host_key FROM m) h LEFT JOIN s USING (host_key)
            GROUP BY h.host_key)
        SELECT n.*,
               (SELECT min(m.t) FROM m WHERE m.host_key = n.host_key AND m.marker = 'shutdown'
                  AND m.t >= coalesce(n.boot_start, -9223372036854775807)
                  AND m.t < coalesce(n.next_start, 9223372036854775807)) AS shutdown_t,
               (SELECT arg_min(m.eid, m.t) FROM m WHERE m.host_key = n.host_key
                  AND m.marker = 'shutdown'
                  AND m.t >= coalesce(n.boot_start, -9223372036854775807)
                  AND m.t < coalesce(n.next_start, 9223372036854775807)) AS shutdown_eid
        FROM n""",
        # each boot spread over the hours it covers: events find theirs by an equi-join on
        # (host, hour) instead of a range join (hosts reboot hundreds of times in a case)
        """CREATE OR REPLACE TEMP TABLE _ls_bootb AS
        WITH span AS (SELECT host_key, max(t) AS last_t FROM _ls_ev GROUP BY host_key),
        b AS (
            SELECT b.host_key, b.boot, b.boot_start,
                   coalesce(b.next_start, s.last_t + 1) AS boot_end
            FROM _ls_boot b JOIN span s USING (host_key) WHERE b.boot > 0)
        SELECT host_key, boot, boot_start, boot_end,
               unnest(range(boot_start // 3600000000,
                            (greatest(boot_end, boot_start + 1) - 1) // 3600000000 + 1)) AS bucket
        FROM b""",
        # identity rules run once per distinct value, then join back
        """CREATE OR REPLACE TEMP TABLE _ls_umap AS
        SELECT user_raw, ls_user_key(user_raw) AS uk
        FROM (SELECT DISTINCT user_raw FROM _ls_ev WHERE user_raw IS NOT NULL)""",
        """CREATE OR REPLACE TEMP TABLE _ls_ipmap AS
        SELECT ip_raw, ls_ip(ip_raw) AS ipn, ls_ip_zone(ip_raw) AS zone,
               upper(trim(ip_raw)) = 'LOCAL' AS is_local
        FROM (SELECT DISTINCT ip_raw FROM _ls_ev WHERE ip_raw IS NOT NULL)""",
        """CREATE OR REPLACE TEMP TABLE _ls_e AS
        SELECT e.*, u.uk, i.ipn, i.zone, coalesce(i.is_local, FALSE) AS is_local,
               coalesce(b.boot, 0) AS boot
        FROM _ls_ev e
        LEFT JOIN _ls_umap u USING (user_raw)
        LEFT JOIN _ls_ipmap i USING (ip_raw)
        LEFT JOIN _ls_bootb b
          ON e.host_key = b.host_key AND e.t // 3600000000 = b.bucket
         AND e.t >= b.boot_start AND e.t < b.boot_end""",
        # 3. logon units: UAC pairs collapse -------------------------------------------------
        """CREATE OR REPLACE TEMP TABLE _ls_unit AS
        WITH l AS (SELECT * FROM _ls_e WHERE src = 'sec' AND event_id = 4624),
        p AS (
            SELECT a.eid, min(least(a.eid, b.eid)) AS unit
            FROM l a JOIN l b
              ON a.host_key = b.host_key AND a.boot = b.boot AND a.linked = b.lid
             AND b.linked = a.lid AND a.eid <> b.eid AND abs(a.t - b.t) <= 1000000
            WHERE coalesce(a.linked, 0) <> 0
            GROUP BY a.eid)
        SELECT l.*, coalesce(p.unit, l.eid) AS unit FROM l LEFT JOIN p USING (eid)""",
        """CREATE OR REPLACE TEMP TABLE _ls_units AS
        SELECT unit, any_value(host_key) AS host_key, any_value(boot) AS boot, min(t) AS t,
               any_value(uk) AS uk, any_value(logon_type) AS logon_type,
               any_value(ipn) AS ipn, bool_or(coalesce(elevated, FALSE)) AS elevated,
               list(lid ORDER BY elevated DESC NULLS LAST, lid) AS lids
        FROM _ls_unit GROUP BY unit""",
        # 4. attempts -----------------------------------------------------------------------
        """CREATE OR REPLACE TEMP TABLE _ls_cand AS
        SELECT unit AS mid, host_key, boot, uk, t, ipn,
               CASE WHEN logon_type = 3 THEN 1 ELSE 3 END AS rnk
        FROM _ls_units WHERE logon_type IN (2, 3, 10, 11, 12)
        UNION ALL
        SELECT eid, host_key, boot, uk, t, ipn,
               CASE WHEN src = 'rcm' THEN 2 WHEN src = 'sec' THEN 4 ELSE 5 END
        FROM _ls_e
        WHERE (src = 'rcm' AND event_id = 1149) OR (src = 'sec' AND event_id = 4778)
           OR (src = 'lsm' AND event_id IN (21, 25))""",
        f"""CREATE OR REPLACE TEMP TABLE _ls_clu AS
        WITH o AS (
            SELECT *, lag(t) OVER w AS pt, lag(rnk) OVER w AS pr, lag(ipn) OVER w AS pip
            FROM _ls_cand
            WINDOW w AS (PARTITION BY host_key, boot, uk ORDER BY t, rnk, mid)),
        f AS (
            SELECT *, CASE WHEN pt IS NULL OR t - pt > {W} OR rnk <= pr
                             OR (pr = 1 AND (ipn IS NULL OR ipn <> pip))
                             OR (ipn IS NOT NULL AND pip IS NOT NULL AND ipn <> pip)
                           THEN 1 ELSE 0 END AS brk
            FROM o),
        g AS (
            -- the attempt is the step that opened the cluster, carried forward in one pass
            SELECT mid, rnk, last_value(CASE WHEN brk = 1 THEN mid END IGNORE NULLS) OVER (
                       PARTITION BY host_key, boot, uk ORDER BY t, rnk, mid
                       ROWS UNBOUNDED PRECEDING) AS attempt
            FROM f)
        SELECT g.mid, g.rnk, g.attempt, n.n_steps
        FROM g JOIN (SELECT attempt, count(*) AS n_steps FROM g GROUP BY attempt) n
          USING (attempt)""",
        # members: every event of a chain step, plus lone logons and failures
        """CREATE OR REPLACE TEMP TABLE _ls_mem AS
        SELECT c.attempt, u.eid, CASE WHEN c.rnk = 1 AND c.n_steps > 1 THEN 'auth'
                                    ELSE 'logon' END AS role, TRUE AS step
        FROM _ls_clu c JOIN _ls_unit u ON u.unit = c.mid
        UNION ALL
        SELECT c.attempt, e.eid,
               CASE WHEN e.event_id = 1149 THEN 'auth'
                    WHEN e.event_id IN (4778, 25) THEN 'reconnect' ELSE 'logon' END, TRUE
        FROM _ls_clu c JOIN _ls_e e ON e.eid = c.mid AND c.rnk IN (2, 4, 5)
        UNION ALL
        SELECT unit, eid, 'logon', TRUE FROM _ls_unit
        WHERE logon_type IS NULL OR logon_type NOT IN (2, 3, 10, 11, 12)
        UNION ALL
        SELECT eid, eid, 'attempt', TRUE FROM _ls_e WHERE src = 'sec' AND event_id = 4625""",
        """CREATE OR REPLACE TEMP TABLE _ls_att AS
        SELECT m.attempt, any_value(e.host_key) AS host_key, any_value(e.boot) AS boot,
               any_value(e.uk) AS uk, min(e.t) AS start_t,
               bool_or(e.src = 'sec' AND e.event_id = 4625) AS failed,
               bool_or((e.src = 'sec' AND e.event_id = 4778)
                       OR (e.src = 'lsm' AND e.event_id = 25)) AS is_reconnect,
               min(e.t) FILTER (WHERE (e.src = 'sec' AND e.event_id = 4778)
                                   OR (e.src = 'lsm' AND e.event_id = 25)) AS reconnect_t,
               any_value(e.lsid) FILTER (WHERE e.src = 'lsm') AS lsid,
               any_value(e.lid) FILTER (WHERE e.src = 'sec' AND e.event_id = 4778) AS orig_lid,
               max(CASE WHEN e.src = 'sec' AND e.event_id = 4624 AND e.logon_type = 3 THEN 1
                        WHEN e.src = 'sec' AND e.event_id = 4624 THEN 3 END) AS unit_rank,
               bool_or(e.src = 'sec' AND e.event_id = 4624) AS has_4624,
               bool_or(e.src = 'lsm' AND e.event_id IN (21, 25)) AS has_lsm,
               bool_or(e.src = 'rcm') AS has_1149,
               list(DISTINCT e.act) FILTER (WHERE e.act IS NOT NULL) AS acts,
               max(e.t) AS last_t
        FROM _ls_mem m JOIN _ls_e e USING (eid) GROUP BY m.attempt""",
        # logon ids of an attempt: every 4624 id (for 4672), and which of them own the session
        """CREATE OR REPLACE TEMP TABLE _ls_ids AS
        SELECT DISTINCT m.attempt, e.host_key, e.boot, e.lid, e.t, e.logon_type,
               (NOT a.is_reconnect AND ((e.logon_type = 3 AND a.unit_rank = 1)
                                        OR (e.logon_type <> 3))) AS owns
        FROM _ls_mem m JOIN _ls_e e USING (eid) JOIN _ls_att a USING (attempt)
        WHERE e.src = 'sec' AND e.event_id = 4624 AND e.lid IS NOT NULL""",
        # 5. attached sources ----------------------------------------------------------------
        f"""CREATE OR REPLACE TEMP TABLE _ls_src AS
        WITH priv AS (
            SELECT i.attempt, e.eid, 'privileges' AS role, abs(e.t - i.t) AS d
            FROM _ls_e e JOIN _ls_ids i
              ON e.host_key = i.host_key AND e.boot = i.boot AND e.lid = i.lid
            WHERE e.src = 'sec' AND e.event_id = 4672
              AND abs(e.t - i.t) <= {r.us(r.privileges_window)}),
        u AS (
            SELECT a.attempt, a.host_key, a.uk, e.t
            FROM _ls_mem m JOIN _ls_e e USING (eid) JOIN _ls_att a USING (attempt)
            WHERE e.src = 'sec' AND e.event_id = 4624),
        cred AS (
            SELECT u.attempt, x.eid, 'auth' AS role, u.t - x.t AS d
            FROM (SELECT * FROM _ls_e WHERE src = 'sec' AND event_id = 4648) x
            ASOF JOIN u ON u.host_key = x.host_key AND u.uk = x.uk AND u.t >= x.t
            WHERE u.t - x.t <= {r.us(r.auth_window)}),
        att_act AS (SELECT attempt, host_key, start_t, last_t, unnest(acts) AS act
                    FROM _ls_att),
        lsm AS (
            SELECT a.attempt, e.eid,
                   CASE WHEN e.event_id = 22 THEN 'shell' ELSE 'logon' END AS role,
                   abs(e.t - a.start_t) AS d
            FROM (SELECT * FROM _ls_e WHERE lsid IS NOT NULL
                    AND ((src = 'lsm' AND event_id IN (22, 41, 42))
                         OR (src = 'sys' AND event_id = 7001))) e
            ASOF JOIN (SELECT * FROM _ls_att WHERE lsid IS NOT NULL) a
              ON a.host_key = e.host_key AND a.boot = e.boot AND e.lsid = a.lsid
             AND e.t + {W} >= a.start_t
            WHERE (e.uk IS NULL OR e.uk IS NOT DISTINCT FROM a.uk)
              AND e.t <= a.last_t + {W}
            UNION ALL
            SELECT a.attempt, e.eid,
                   CASE WHEN e.event_id = 22 THEN 'shell' ELSE 'logon' END,
                   abs(e.t - a.start_t)
            FROM _ls_e e JOIN att_act a ON a.host_key = e.host_key AND a.act = e.act
            WHERE e.src = 'lsm' AND e.event_id IN (22, 41, 42)
              AND e.t BETWEEN a.start_t - {W} AND a.last_t + {W}),
        conn AS (
            SELECT a.attempt, e.eid, 'attempt' AS role, abs(e.t - a.start_t) AS d
            FROM _ls_e e JOIN att_act a ON a.host_key = e.host_key AND a.act = e.act
            WHERE ((e.src = 'rcm' AND e.event_id = 261) OR (e.src = 'rdp' AND e.event_id = 131))
              AND e.t BETWEEN a.start_t - {r.us(r.connect_window)} AND a.last_t),
        nla AS (
            -- failed NLA logons write no address: the 131 connection just before carries it
            SELECT a.attempt, c.eid, 'attempt' AS role, f.t - c.t AS d
            FROM (SELECT m.attempt, e.* FROM _ls_mem m JOIN _ls_e e USING (eid)
                  WHERE e.src = 'sec' AND e.event_id = 4625 AND e.ipn IS NULL
                    AND coalesce(e.logon_type, 3) IN (3, 10)) f
            ASOF JOIN (SELECT * FROM _ls_e WHERE src = 'rdp' AND event_id = 131
                       AND ipn IS NOT NULL) c
              ON c.host_key = f.host_key AND c.boot = f.boot AND c.t <= f.t
            JOIN _ls_att a ON a.attempt = f.attempt
            WHERE f.t - c.t <= {r.us(r.connect_window)}),
        nla261 AS (
            -- ... and the RCM 261 of that connection shares the 131's ActivityID
            SELECT n.attempt, x.eid, 'attempt' AS role, 0 AS d
            FROM nla n JOIN _ls_e c ON c.eid = n.eid
            JOIN _ls_e x ON x.host_key = c.host_key AND x.act = c.act
            WHERE x.src = 'rcm' AND x.event_id = 261 AND abs(x.t - c.t) <= {W}),
        allx AS (SELECT * FROM priv UNION ALL SELECT * FROM cred UNION ALL SELECT * FROM lsm
                 UNION ALL SELECT * FROM conn),
        best AS (
            SELECT attempt, eid, role FROM allx
            WHERE eid NOT IN (SELECT eid FROM _ls_mem)
            QUALIFY row_number() OVER (PARTITION BY eid ORDER BY d, attempt) = 1)
        SELECT attempt, eid, role, FALSE AS step FROM best
        UNION ALL SELECT attempt, eid, role, FALSE FROM nla
        UNION ALL SELECT attempt, eid, role, FALSE FROM nla261""",
        # 6. ends ----------------------------------------------------------------------------
        """CREATE OR REPLACE TEMP TABLE _ls_key AS
        SELECT attempt, host_key, boot, 'id' AS kind, lid AS k,
               coalesce(reconnect_t, start_t) AS from_t
        FROM (SELECT a.*, i.lid FROM _ls_att a JOIN _ls_ids i USING (attempt)
              WHERE i.owns AND NOT a.failed)
        UNION ALL
        SELECT attempt, host_key, boot, 'id', orig_lid, reconnect_t
        FROM _ls_att WHERE is_reconnect AND orig_lid IS NOT NULL
        UNION ALL
        SELECT attempt, host_key, boot, 'sid', lsid, coalesce(reconnect_t, start_t)
        FROM _ls_att WHERE lsid IS NOT NULL AND NOT failed""",
        """CREATE OR REPLACE TEMP TABLE _ls_endev AS
        SELECT eid, host_key, boot, t, act,
               CASE WHEN src = 'sec' THEN 'id' ELSE 'sid' END AS kind,
               CASE WHEN src = 'sec' THEN lid ELSE lsid END AS k,
               CASE WHEN (src = 'sec' AND event_id IN (4634, 4647))
                      OR (src = 'lsm' AND event_id = 23)
                      OR (src = 'sys' AND event_id = 7002) THEN 'logoff'
                    ELSE 'disconnect' END AS reason
        FROM _ls_e
        WHERE (src = 'sec' AND event_id IN (4634, 4647, 4779))
           OR (src = 'lsm' AND event_id IN (23, 24, 40))
           OR (src = 'sys' AND event_id = 7002)""",
        # a later reconnect of the same session (same id or LSM session) ends this one
        """CREATE OR REPLACE TEMP TABLE _ls_cap AS
        SELECT a.attempt, min(b.from_t) AS cap_t
        FROM _ls_key a ASOF JOIN (
            SELECT k.* FROM _ls_key k JOIN _ls_att r USING (attempt) WHERE r.is_reconnect) b
          ON a.host_key = b.host_key AND a.boot = b.boot AND a.kind = b.kind AND a.k = b.k
         AND b.from_t > a.from_t
        GROUP BY a.attempt""",
        # the first end event at/after the search start, per key: ASOF joins, never a
        # many-to-many explosion (LSM ids repeat all day long)
        """CREATE OR REPLACE TEMP TABLE _ls_keyact AS
        SELECT k.*, unnest(a.acts) AS act
        FROM _ls_key k JOIN _ls_att a USING (attempt) WHERE k.kind = 'sid'""",
        """CREATE OR REPLACE TEMP TABLE _ls_first AS
        SELECT k.attempt, x.t, x.reason
        FROM _ls_key k ASOF JOIN _ls_endev x
          ON x.host_key = k.host_key AND x.boot = k.boot AND x.kind = k.kind AND x.k = k.k
         AND x.t >= k.from_t
        UNION ALL
        -- ids restart at boot; an RDP connection's ActivityID (a GUID) does not
        SELECT k.attempt, x.t, x.reason
        FROM _ls_keyact k ASOF JOIN (SELECT * FROM _ls_endev WHERE act IS NOT NULL) x
          ON x.host_key = k.host_key AND x.act = k.act AND x.kind = k.kind AND x.k = k.k
         AND x.t >= k.from_t""",
        """CREATE OR REPLACE TEMP TABLE _ls_end AS
        WITH first_end AS (
            SELECT f.attempt, min(f.t) AS end_t, arg_min(f.reason, f.t) AS reason
            FROM _ls_first f LEFT JOIN _ls_cap c USING (attempt)
            WHERE c.cap_t IS NULL OR f.t <= c.cap_t
            GROUP BY f.attempt)
        SELECT a.attempt,
               CASE WHEN a.failed THEN a.start_t
                    WHEN f.end_t IS NOT NULL THEN f.end_t
                    WHEN c.cap_t IS NOT NULL THEN c.cap_t
                    WHEN b.shutdown_t >= a.start_t THEN b.shutdown_t
                    WHEN b.next_start IS NOT NULL THEN b.next_start END AS end_t,
               CASE WHEN a.failed THEN 'none seen'
                    WHEN f.end_t IS NOT NULL THEN f.reason
                    WHEN c.cap_t IS NOT NULL THEN 'disconnect'
                    WHEN b.shutdown_t >= a.start_t OR b.next_start IS NOT NULL THEN 'shutdown'
                    ELSE 'none seen' END AS end_reason,
               CASE WHEN NOT a.failed AND f.end_t IS NULL AND c.cap_t IS NULL
                     AND b.shutdown_t >= a.start_t THEN b.shutdown_eid END AS shutdown_eid
        FROM _ls_att a LEFT JOIN first_end f USING (attempt)
        LEFT JOIN _ls_cap c USING (attempt)
        LEFT JOIN _ls_boot b ON b.host_key = a.host_key AND b.boot = a.boot""",
        # every end event of the session's keys close after the first one is a source too;
        # each end event goes to the latest session of its key begun before it (ASOF: LSM ids
        # repeat all day, a plain join on them explodes)
        f"""CREATE OR REPLACE TEMP TABLE _ls_endsrc AS
        WITH x AS (
            SELECT * FROM _ls_endev),
        by_key AS (
            SELECT k.attempt, x.eid, x.t, x.reason
            FROM x ASOF JOIN _ls_key k
              ON x.host_key = k.host_key AND x.boot = k.boot AND x.kind = k.kind
             AND x.k = k.k AND x.t >= k.from_t),
        by_act AS (
            SELECT k.attempt, x.eid, x.t, x.reason
            FROM (SELECT * FROM x WHERE act IS NOT NULL) x ASOF JOIN _ls_keyact k
              ON x.host_key = k.host_key AND x.act = k.act AND x.kind = k.kind
             AND x.k = k.k AND x.t >= k.from_t),
        m AS (
            SELECT DISTINCT c.attempt, c.eid, c.reason AS role
            FROM (SELECT * FROM by_key UNION ALL SELECT * FROM by_act) c
            JOIN _ls_end e USING (attempt)
            LEFT JOIN _ls_cap p USING (attempt)
            WHERE e.end_t IS NOT NULL AND e.shutdown_eid IS NULL
              AND e.end_reason <> 'none seen'
              AND c.t BETWEEN e.end_t AND e.end_t + {r.us(r.end_group)}
              AND (p.cap_t IS NULL OR c.t <= p.cap_t))
        SELECT attempt, eid, role, FALSE AS step FROM m
        QUALIFY row_number() OVER (PARTITION BY eid ORDER BY attempt) = 1
        UNION ALL
        SELECT attempt, shutdown_eid, 'shutdown', FALSE FROM _ls_end
        WHERE shutdown_eid IS NOT NULL""",
        # 7. unlocks fold into the interactive session open at that moment -------------------
        """CREATE OR REPLACE TEMP TABLE _ls_fold AS
        WITH parents AS (
            SELECT DISTINCT a.attempt, a.host_key, a.boot, a.uk, a.start_t
            FROM _ls_att a JOIN _ls_ids i USING (attempt)
            WHERE i.owns AND i.logon_type IN (2, 10, 11, 12) AND NOT a.failed),
        kids AS (
            SELECT a.* FROM _ls_att a JOIN _ls_units n ON n.unit = a.attempt
            WHERE n.logon_type = 7)
        SELECT k.attempt AS child, p.attempt AS parent
        FROM kids k ASOF JOIN parents p
          ON p.host_key = k.host_key AND p.boot = k.boot AND p.uk = k.uk
         AND k.start_t >= p.start_t
        JOIN _ls_end pe ON pe.attempt = p.attempt
        WHERE pe.end_t IS NULL OR pe.end_t >= k.start_t""",
        """CREATE OR REPLACE TEMP TABLE _ls_all0 AS
        SELECT coalesce(f.parent, s.attempt) AS attempt, s.eid, s.role, s.step
        FROM (SELECT * FROM _ls_mem UNION ALL SELECT * FROM _ls_src
              UNION ALL SELECT * FROM _ls_endsrc
                        WHERE attempt NOT IN (SELECT child FROM _ls_fold)) s
        LEFT JOIN _ls_fold f ON f.child = s.attempt""",
        # 8. every logoff/lock/unlock of any of a session's logon ids inside its span is a
        # source too (the NLA id, the temporary reconnect ids, an unlock's id) -- without
        # ending it: only the owning ids above end a session
        f"""CREATE OR REPLACE TEMP TABLE _ls_more AS
        WITH ids AS (
            SELECT DISTINCT a.attempt, e.host_key, e.boot, e.lid
            FROM _ls_all0 a JOIN _ls_e e USING (eid)
            WHERE e.src = 'sec' AND e.event_id IN (4624, 4778) AND e.lid IS NOT NULL
            UNION
            -- a reconnect names the original limited id: its full (linked) twin goes too
            SELECT a.attempt, u2.host_key, u2.boot, u2.lid
            FROM _ls_all0 a JOIN _ls_e e USING (eid)
            JOIN _ls_unit u1 ON u1.host_key = e.host_key AND u1.boot = e.boot AND u1.lid = e.lid
            JOIN _ls_unit u2 ON u2.unit = u1.unit
            WHERE e.src = 'sec' AND e.event_id = 4778)
        SELECT i.attempt, x.eid,
               CASE x.event_id WHEN 4800 THEN 'lock' WHEN 4801 THEN 'unlock'
                               ELSE 'logoff' END AS role, FALSE AS step
        FROM ids i JOIN _ls_e x
          ON x.host_key = i.host_key AND x.boot = i.boot AND x.lid = i.lid
        JOIN _ls_att a ON a.attempt = i.attempt
        JOIN _ls_end en ON en.attempt = i.attempt
        LEFT JOIN _ls_cap c ON c.attempt = i.attempt
        WHERE x.src = 'sec' AND x.event_id IN (4634, 4647, 4800, 4801)
          AND x.t >= a.start_t
          AND (en.end_t IS NULL OR x.t <= en.end_t + {r.us(r.end_group)})
          AND (c.cap_t IS NULL OR x.t <= c.cap_t)
          AND x.eid NOT IN (SELECT eid FROM _ls_all0)
        QUALIFY row_number() OVER (PARTITION BY x.eid ORDER BY a.start_t DESC, i.attempt) = 1""",
        """CREATE OR REPLACE TEMP TABLE _ls_all AS
        SELECT * FROM _ls_all0 UNION ALL SELECT * FROM _ls_more""",
    ]


def _sessions_sql() -> str:
    return """
    WITH j AS (SELECT * FROM _ls_j),
    st AS (SELECT * FROM _ls_j WHERE step),
    ns AS (
        -- what the attached (non-step) sources add: cheap aggregates only
        SELECT attempt, bool_or(role = 'privileges') AS admin, count(*) AS n,
               any_value(lsid) FILTER (WHERE src = 'lsm' AND event_id = 22) AS lsid22
        FROM _ls_j WHERE NOT step GROUP BY attempt),
    first_src AS (
        SELECT f.attempt, h.evidence_sha256 AS sha, f.rec
        FROM (SELECT attempt, arg_min(sha_h, (t, sha_h, record_id)) AS sha_h,
                     arg_min(record_id, (t, sha_h, record_id)) AS rec
              FROM st GROUP BY attempt) f
        JOIN _ls_sha h USING (sha_h)),
    ip AS (
        SELECT attempt,
               arg_min(ipn, prio) AS src_ip, arg_min(tag, prio) AS src_ip_source,
               arg_min(zone, prio) AS src_ip_zone
        FROM (SELECT attempt, ipn, zone,
                     CASE WHEN src = 'rdp' THEN 1 WHEN src = 'rcm' THEN 2
                          WHEN event_id = 4778 THEN 3 WHEN event_id IN (4624, 4625) THEN 4
                          ELSE 5 END AS prio,
                     CASE WHEN src = 'rdp' THEN '131' WHEN src = 'rcm' THEN '1149'
                          WHEN src = 'lsm' THEN 'LSM' ELSE CAST(event_id AS VARCHAR) END AS tag
              FROM j WHERE ipn IS NOT NULL AND role NOT IN ('logoff', 'disconnect', 'shutdown')
                AND (src <> 'rdp' OR event_id = 131))
        GROUP BY attempt),
    agg AS (
        SELECT attempt,
               any_value(host_key) AS host_key,
               any_value(uk) AS user_key,
               -- the representative event: the main 4624/4625 (not the NLA one, not an
               -- unlock), else any 4624/4625, else the first step
               arg_min(eid, (CASE WHEN src = 'sec' AND event_id IN (4624, 4625)
                                       AND role <> 'auth' AND coalesce(logon_type, 0) <> 7
                                  THEN 0
                                  WHEN src = 'sec' AND event_id IN (4624, 4625) THEN 1
                                  ELSE 2 END, t, eid)) AS rep,
               bool_or(src = 'lsm' AND event_id = 21 AND is_local) AS lsm_local,
               bool_or(src IN ('lsm', 'rcm') OR (src = 'sec' AND event_id = 4778)) AS rdpish,
               arg_min(workstation, t) FILTER (WHERE src = 'sec' AND event_id = 4778) AS client,
               min(t) AS start_t,
               bool_or(src = 'sec' AND event_id = 4625) AS failed,
               bool_or((src = 'sec' AND event_id IN (4624, 4778))
                       OR (src = 'lsm' AND event_id IN (21, 25))) AS succeeded,
               list_sort(list_distinct(list(lid) FILTER (WHERE src = 'sec'
                   AND event_id IN (4624, 4778) AND lid IS NOT NULL))) AS logon_ids,
               any_value(lsid) FILTER (WHERE src = 'lsm' AND event_id IN (21, 25)) AS lsid,
               bool_or((src = 'sec' AND event_id = 4778) OR (src = 'lsm' AND event_id = 25))
                   AS is_reconnect,
               bool_or(coalesce(elevated, FALSE)) FILTER (WHERE src = 'sec'
                                                          AND event_id = 4624) AS elevated,
               count(*) AS n_steps
        FROM st GROUP BY attempt),
    a AS (
        SELECT agg.*, r.host, r.user_raw AS user, r.domain_raw AS domain,
               CASE WHEN r.target_sid NOT IN ('-', 'S-1-0-0') THEN r.target_sid END AS sid,
               CASE WHEN r.src = 'sec' THEN r.logon_type END AS rep_type,
               CASE WHEN r.src = 'sec' AND r.logon_type IN (3, 8)
                     AND ls_host_key(r.workstation) IS DISTINCT FROM r.host_key
                    THEN r.workstation END AS ws,
               CASE WHEN r.event_id = 4625 THEN r.status END AS status,
               CASE WHEN r.event_id = 4625 THEN r.sub_status END AS sub
        FROM agg JOIN _ls_e r ON r.eid = agg.rep)
    SELECT substr(md5(concat_ws('|', a.host_key, f.sha, CAST(f.rec AS VARCHAR))), 1, 16)
               AS session_id,
           a.host, a.host_key, a.user, a.domain, a.user_key, a.sid,
           CAST(coalesce(a.rep_type,
                         CASE WHEN a.lsm_local THEN 2 WHEN a.rdpish THEN 10 END) AS SMALLINT)
               AS logon_type,
           ip.src_ip, ip.src_ip_source, ip.src_ip_zone,
           coalesce(a.client, a.ws) AS src_host,
           make_timestamp(a.start_t) AS start,
           make_timestamp(en.end_t) AS "end",
           en.end_reason,
           CASE WHEN a.failed THEN 'failure' WHEN a.succeeded THEN 'success' ELSE 'unknown' END
               AS outcome,
           a.status, a.sub,
           coalesce(a.logon_ids, []) AS logon_ids,
           coalesce(a.lsid, ns.lsid22) AS lsm_session_id,
           coalesce(a.is_reconnect, FALSE) AS is_reconnect,
           coalesce(a.elevated, FALSE) AS elevated, coalesce(ns.admin, FALSE) AS admin,
           a.n_steps + coalesce(ns.n, 0) AS n_sources, a.attempt
    FROM a JOIN first_src f USING (attempt)
    LEFT JOIN ns USING (attempt)
    LEFT JOIN ip USING (attempt)
    LEFT JOIN _ls_end en USING (attempt)
    """


def build_sessions(
    con: duckdb.DuckDBPyConnection, rules: Rules | None = None, events: str = "events"
) -> tuple[pa.Table, pa.Table]:
    """(sessions, session_sources) from the `events` view (or another relation) of `con`.

    Leaves `_ls_*` temp tables behind on `con` (cheap; useful when debugging a rule).
    """
    if not _IDENT.fullmatch(events):
        raise ValueError(f"not an identifier: {events!r}")
    rules = rules or Rules()
    identity.install_macros(con)
    # every output below is explicitly ordered: let DuckDB materialise steps in any order
    keep_order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("SET preserve_insertion_order = false")
    try:
        for sql in _steps(rules, events):
            con.execute(sql)
        con.execute("""CREATE OR REPLACE TEMP TABLE _ls_j AS
            SELECT s.attempt, s.role, s.step, e.eid, e.sha_h, e.record_id, e.t, e.host_key,
                   e.src, e.event_id, e.uk, e.lid, e.logon_type, e.elevated, e.ipn, e.zone,
                   e.is_local, e.lsid, e.workstation
            FROM _ls_all s JOIN _ls_e e USING (eid)""")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ls_s AS {_sessions_sql()}")
        ips = [
            row[0]
            for row in con.execute(
                "SELECT DISTINCT src_ip FROM _ls_s WHERE src_ip IS NOT NULL"
            ).fetchall()
        ]
        con.register("_ls_ipclass", identity.ip_class_table(ips))
        sessions = con.sql(
            """
            SELECT s.session_id, s.host, s.host_key, s.user, s.domain, s.user_key, s.sid,
                   s.logon_type, ls_logon_kind(s.logon_type) AS logon_kind,
                   s.src_ip, s.src_ip_source, c.ip_class AS src_ip_class, s.src_ip_zone,
                   s.src_host,
                   coalesce(s.logon_type = 10 AND c.ip_class = 'loopback', FALSE) AS tunnelled,
                   s.start, s."end", s.end_reason, s.outcome,
                   CASE WHEN s.outcome = 'failure' THEN ls_failure_text(s.status, s.sub) END
                       AS failure_reason,
                   s.logon_ids, s.lsm_session_id, s.is_reconnect, s.elevated, s.admin,
                   ls_is_system(s.user, s.logon_type, s.sid) AS system,
                   s.n_sources, CAST(0 AS BIGINT) AS n_activity
            FROM _ls_s s
            LEFT JOIN _ls_ipclass c ON c.ip = s.src_ip
            ORDER BY s.start, s.host_key, s.session_id
            """
        ).to_arrow_table()
        sources = con.sql(
            f"""
            SELECT s.session_id, h.evidence_sha256, e.record_id,
                   make_timestamp(e.t) AS time,
                   CASE e.src WHEN 'sec' THEN 'Security' WHEN 'lsm' THEN '{LSM}'
                              WHEN 'rcm' THEN '{RCM}' WHEN 'rdp' THEN '{RDPCORE}'
                              ELSE 'System' END AS channel,
                   CAST(e.event_id AS INTEGER) AS event_id, a.role
            FROM _ls_all a JOIN _ls_e e USING (eid) JOIN _ls_s s USING (attempt)
            JOIN _ls_sha h USING (sha_h)
            ORDER BY s.start, s.session_id, e.t, e.record_id
            """
        ).to_arrow_table()
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if keep_order else 'false'}")
    return _typed(sessions, SESSIONS_SCHEMA), _typed(sources, SOURCES_SCHEMA)


_TS = pa.timestamp("us", tz="UTC")
SESSIONS_SCHEMA = pa.schema(
    [
        ("session_id", pa.string()),
        ("host", pa.string()),
        ("host_key", pa.string()),
        ("user", pa.string()),
        ("domain", pa.string()),
        ("user_key", pa.string()),
        ("sid", pa.string()),
        ("logon_type", pa.int16()),
        ("logon_kind", pa.string()),
        ("src_ip", pa.string()),
        ("src_ip_source", pa.string()),
        ("src_ip_class", pa.string()),
        ("src_ip_zone", pa.string()),
        ("src_host", pa.string()),
        ("tunnelled", pa.bool_()),
        ("start", _TS),
        ("end", _TS),
        ("end_reason", pa.string()),
        ("outcome", pa.string()),
        ("failure_reason", pa.string()),
        ("logon_ids", pa.list_(pa.int64())),
        ("lsm_session_id", pa.int64()),
        ("is_reconnect", pa.bool_()),
        ("elevated", pa.bool_()),
        ("admin", pa.bool_()),
        ("system", pa.bool_()),
        ("n_sources", pa.int64()),
        ("n_activity", pa.int64()),
    ]
)
SOURCES_SCHEMA = pa.schema(
    [
        ("session_id", pa.string()),
        ("evidence_sha256", pa.string()),
        ("record_id", pa.int64()),
        ("time", _TS),
        ("channel", pa.string()),
        ("event_id", pa.int32()),
        ("role", pa.string()),
    ]
)


def _typed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return table.select(schema.names).cast(schema)
