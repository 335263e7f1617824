-- 7. Ends, per boot (ASOF: the first end at/after the start): logoff/disconnect on the logon
-- ids that own the session (a reconnect: the ORIGINAL id from 4778 or learned in 7a, never its
-- temporary ids nor the NLA id) or on the LSM session id (across boots too when the RDP ActivityID
-- matches); a later reconnect of the same session caps it; else shutdown/boot; else none.
-- 7a. A reconnect without 4778 (its audit is often off) learns the original logon ids from
-- the latest earlier session of the same user on the LSM session it reconnects (LSM 25), in
-- the same boot: the ids that own that session, or the original ids that one reconnected to.
CREATE OR REPLACE TEMP TABLE _ls_origm AS
WITH r AS (
    SELECT attempt, host_key, boot, uk, lsid, start_t FROM _ls_att
    WHERE is_reconnect AND orig_lid IS NULL AND lsid IS NOT NULL AND NOT failed),
o AS (
    SELECT attempt AS o_attempt, host_key, boot, uk, lsid, start_t, orig_lid FROM _ls_att
    WHERE NOT failed AND lsid IS NOT NULL)
SELECT r.attempt, o.o_attempt, o.orig_lid
FROM r ASOF JOIN o
  ON o.host_key = r.host_key AND o.boot = r.boot AND o.uk = r.uk AND o.lsid = r.lsid
 AND o.start_t < r.start_t;

CREATE OR REPLACE TEMP TABLE _ls_orig1 AS
SELECT m.attempt, i.lid FROM _ls_origm m JOIN _ls_ids i ON i.attempt = m.o_attempt
WHERE i.owns
UNION
SELECT attempt, orig_lid FROM _ls_origm WHERE orig_lid IS NOT NULL;

-- ... and through one earlier reconnect that learned its own
CREATE OR REPLACE TEMP TABLE _ls_orig AS
SELECT * FROM _ls_orig1
UNION
SELECT m.attempt, x.lid FROM _ls_origm m JOIN _ls_orig1 x ON x.attempt = m.o_attempt;

-- 7b. The keys that end each attempt
CREATE OR REPLACE TEMP TABLE _ls_key AS
SELECT attempt, host_key, boot, 'id' AS kind, lid AS k,
       coalesce(reconnect_t, start_t) AS from_t
FROM (SELECT a.*, i.lid FROM _ls_att a JOIN _ls_ids i USING (attempt)
      WHERE i.owns AND NOT a.failed)
UNION ALL
SELECT attempt, host_key, boot, 'id', orig_lid, reconnect_t
FROM _ls_att WHERE is_reconnect AND orig_lid IS NOT NULL
UNION ALL
SELECT a.attempt, a.host_key, a.boot, 'id', o.lid, a.reconnect_t
FROM _ls_att a JOIN _ls_orig o USING (attempt)
UNION ALL
SELECT attempt, host_key, boot, 'sid', lsid, coalesce(reconnect_t, start_t)
FROM _ls_att WHERE lsid IS NOT NULL AND NOT failed;

-- Security ends name a logon id, LSM and Winlogon ones an LSM session id
CREATE OR REPLACE TEMP TABLE _ls_endev AS
SELECT eid, host_key, boot, t, act,
       CASE WHEN src = 'sec' THEN 'id' ELSE 'sid' END AS kind,
       CASE WHEN src = 'sec' THEN lid ELSE lsid END AS k,
       role AS reason
FROM _ls_e
WHERE kind IN ('logoff', 'disconnect');

-- a later reconnect of the same session (same id or LSM session) ends this one
CREATE OR REPLACE TEMP TABLE _ls_cap AS
SELECT a.attempt, min(b.from_t) AS cap_t
FROM _ls_key a ASOF JOIN (
    SELECT k.* FROM _ls_key k JOIN _ls_att r USING (attempt) WHERE r.is_reconnect) b
  ON a.host_key = b.host_key AND a.boot = b.boot AND a.kind = b.kind AND a.k = b.k
 AND b.from_t > a.from_t
GROUP BY a.attempt;

-- the first end event at/after the search start, per key: ASOF joins, never a
-- many-to-many explosion (LSM ids repeat all day long)
CREATE OR REPLACE TEMP TABLE _ls_keyact AS
SELECT k.*, unnest(a.acts) AS act
FROM _ls_key k JOIN _ls_att a USING (attempt) WHERE k.kind = 'sid';

CREATE OR REPLACE TEMP VIEW _ls_first AS
SELECT k.attempt, x.t, x.reason
FROM _ls_key k ASOF JOIN _ls_endev x
  ON x.host_key = k.host_key AND x.boot = k.boot AND x.kind = k.kind AND x.k = k.k
 AND x.t >= k.from_t
UNION ALL
-- ids restart at boot; an RDP connection's ActivityID (a GUID) does not
SELECT k.attempt, x.t, x.reason
FROM _ls_keyact k ASOF JOIN (SELECT * FROM _ls_endev WHERE act IS NOT NULL) x
  ON x.host_key = k.host_key AND x.act = k.act AND x.kind = k.kind AND x.k = k.k
 AND x.t >= k.from_t;

CREATE OR REPLACE TEMP TABLE _ls_end AS
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
LEFT JOIN _ls_boot b ON b.host_key = a.host_key AND b.boot = a.boot;

-- every end event of the session's keys close after the first one is a source too; each end
-- event goes to the latest session of its key begun before it (ASOF: LSM ids repeat all day,
-- a plain join on them explodes)
CREATE OR REPLACE TEMP VIEW _ls_endsrc AS
WITH by_key AS (
    SELECT k.attempt, x.eid, x.t, x.reason
    FROM _ls_endev x ASOF JOIN _ls_key k
      ON x.host_key = k.host_key AND x.boot = k.boot AND x.kind = k.kind
     AND x.k = k.k AND x.t >= k.from_t),
by_act AS (
    SELECT k.attempt, x.eid, x.t, x.reason
    FROM (SELECT * FROM _ls_endev WHERE act IS NOT NULL) x ASOF JOIN _ls_keyact k
      ON x.host_key = k.host_key AND x.act = k.act AND x.kind = k.kind
     AND x.k = k.k AND x.t >= k.from_t),
m AS (
    SELECT DISTINCT c.attempt, c.eid, c.reason AS role
    FROM (SELECT * FROM by_key UNION ALL SELECT * FROM by_act) c
    JOIN _ls_end e USING (attempt)
    LEFT JOIN _ls_cap p USING (attempt)
    WHERE e.end_t IS NOT NULL AND e.shutdown_eid IS NULL
      AND e.end_reason <> 'none seen'
      AND c.t BETWEEN e.end_t AND e.end_t + $end_group_us
      AND (p.cap_t IS NULL OR c.t <= p.cap_t))
SELECT attempt, eid, role, FALSE AS step FROM m
QUALIFY row_number() OVER (PARTITION BY eid ORDER BY attempt) = 1
UNION ALL
SELECT attempt, shutdown_eid, 'shutdown', FALSE FROM _ls_end
WHERE shutdown_eid IS NOT NULL;
