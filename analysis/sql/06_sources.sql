-- 6. Sources attached to attempts: 4672 by logon id, 4648 by user and time, LSM 22/41/42 and
-- Winlogon 7001 by LSM session id (ASOF), RCM 261 / RdpCoreTS 131 by ActivityID (up to the
-- activity window before the logon); a failed
-- NLA logon without an address takes the 131 just before it (and that connection's 261).
-- 6a. An interactive/RDP logon without LSM 21 (seen on domain controllers) still has an LSM
-- session: the LSM 41/42 of its connection name it (same ActivityID), else the LSM 41 of the
-- same user just after the logon. It is set here so that LSM 40/23/24 and Winlogon 7001/7002
-- of that session are found like those of any other.
CREATE OR REPLACE TEMP TABLE _ls_lsid AS
WITH need AS (
    SELECT a.* FROM _ls_att a
    WHERE a.lsid IS NULL AND NOT a.failed
      AND EXISTS (SELECT 1 FROM _ls_ids i WHERE i.attempt = a.attempt
                  AND i.logon_type IN $interactive_types)),
notice AS (SELECT * FROM _ls_e WHERE src = 'lsm' AND kind = 'session_notice'
           AND lsid IS NOT NULL),
by_act AS (
    SELECT a.attempt, arg_min(e.lsid, e.t) AS lsid, 1 AS prio
    FROM (SELECT attempt, host_key, start_t, last_t, unnest(acts) AS act FROM need) a
    JOIN notice e ON e.host_key = a.host_key AND e.act = a.act
    WHERE e.t BETWEEN a.start_t - $activity_us AND a.last_t + $window_us
    GROUP BY a.attempt),
by_user AS (
    SELECT a.attempt, e.lsid, 2 AS prio
    FROM need a ASOF JOIN (SELECT * FROM notice WHERE event_id = 41) e
      ON e.host_key = a.host_key AND e.boot = a.boot AND e.uk = a.uk AND e.t >= a.start_t
    WHERE e.t <= a.start_t + $window_us)
SELECT attempt, arg_min(lsid, prio) AS lsid
FROM (SELECT * FROM by_act UNION ALL SELECT * FROM by_user) GROUP BY attempt;

UPDATE _ls_att SET lsid = l.lsid FROM _ls_lsid l WHERE _ls_att.attempt = l.attempt;

-- 6b. The sources
CREATE OR REPLACE TEMP TABLE _ls_src AS
WITH priv AS (
    SELECT i.attempt, e.eid, e.role, abs(e.t - i.t) AS d
    FROM _ls_e e JOIN _ls_ids i
      ON e.host_key = i.host_key AND e.boot = i.boot AND e.lid = i.lid
    WHERE e.kind = 'privileges' AND abs(e.t - i.t) <= $privileges_us),
u AS (
    SELECT a.attempt, a.host_key, a.uk, e.t
    FROM _ls_mem m JOIN _ls_e e USING (eid) JOIN _ls_att a USING (attempt)
    WHERE e.kind = 'logon'),
cred AS (
    SELECT u.attempt, x.eid, x.role, u.t - x.t AS d
    FROM (SELECT * FROM _ls_e WHERE kind = 'explicit_credentials') x
    ASOF JOIN u ON u.host_key = x.host_key AND u.uk = x.uk AND u.t >= x.t
    WHERE u.t - x.t <= $auth_us),
att_act AS (SELECT attempt, host_key, start_t, last_t, unnest(acts) AS act
            FROM _ls_att),
lsm AS (
    SELECT a.attempt, e.eid, e.role, abs(e.t - a.start_t) AS d
    FROM (SELECT * FROM _ls_e WHERE lsid IS NOT NULL
            AND kind IN ('shell_start', 'session_notice')) e
    ASOF JOIN (SELECT * FROM _ls_att WHERE lsid IS NOT NULL) a
      ON a.host_key = e.host_key AND a.boot = e.boot AND e.lsid = a.lsid
     AND e.t + $window_us >= a.start_t
    WHERE (e.uk IS NULL OR e.uk IS NOT DISTINCT FROM a.uk)
      AND e.t <= a.last_t + $window_us
    UNION ALL
    SELECT a.attempt, e.eid, e.role, abs(e.t - a.start_t)
    FROM _ls_e e JOIN att_act a ON a.host_key = e.host_key AND a.act = e.act
    WHERE e.src = 'lsm' AND e.kind IN ('shell_start', 'session_notice')
      AND e.t BETWEEN a.start_t - $activity_us AND a.last_t + $window_us),
conn AS (
    SELECT a.attempt, e.eid, e.role, abs(e.t - a.start_t) AS d
    FROM _ls_e e JOIN att_act a ON a.host_key = e.host_key AND a.act = e.act
    -- an ActivityID is one connection's GUID: the wait at the credential prompt is no cut,
    -- the client's time zone (RdpCoreTS 104) is told in the same connection sequence
    WHERE e.kind IN ('rdp_connect', 'rdp_client')
      AND e.t BETWEEN a.start_t - $activity_us AND a.last_t),
nla AS (
    -- failed NLA logons write no address: the 131 connection just before carries it
    SELECT a.attempt, c.eid, c.role, f.t - c.t AS d
    FROM (SELECT m.attempt, e.* FROM _ls_mem m JOIN _ls_e e USING (eid)
          WHERE e.kind = 'failed_logon' AND e.ipn IS NULL
            AND coalesce(e.logon_type, 3) IN (3, 10)) f
    ASOF JOIN (SELECT * FROM _ls_e WHERE src = 'rdp' AND kind = 'rdp_connect'
               AND ipn IS NOT NULL) c
      ON c.host_key = f.host_key AND c.boot = f.boot AND c.t <= f.t
    JOIN _ls_att a ON a.attempt = f.attempt
    WHERE f.t - c.t <= $connect_us),
nla261 AS (
    -- ... and the RCM 261 of that connection shares the 131's ActivityID
    SELECT n.attempt, x.eid, x.role, 0 AS d
    FROM nla n JOIN _ls_e c ON c.eid = n.eid
    JOIN _ls_e x ON x.host_key = c.host_key AND x.act = c.act
    WHERE x.src = 'rcm' AND x.kind = 'rdp_connect' AND abs(x.t - c.t) <= $window_us),
allx AS (SELECT * FROM priv UNION ALL SELECT * FROM cred UNION ALL SELECT * FROM lsm
         UNION ALL SELECT * FROM conn),
best AS (
    SELECT attempt, eid, role FROM allx
    WHERE eid NOT IN (SELECT eid FROM _ls_mem)
    QUALIFY row_number() OVER (PARTITION BY eid ORDER BY d, attempt) = 1),
-- a failure with an RdpCoreTS 140 also finds its connection by ActivityID: listed once
linked AS (
    SELECT attempt, eid, role FROM nla UNION ALL SELECT attempt, eid, role FROM nla261)
SELECT attempt, eid, role, FALSE AS step FROM best
WHERE (attempt, eid) NOT IN (SELECT attempt, eid FROM linked)
UNION ALL SELECT DISTINCT attempt, eid, role, FALSE FROM linked;
