-- 9. Every logoff/lock/unlock of any of a session's logon ids inside its span is a source
-- too (the NLA id, the temporary reconnect ids, an unlock's id) -- without ending it: only
-- the owning ids of step 7 end a session.
CREATE OR REPLACE TEMP TABLE _ls_sids AS
WITH ids AS (
    SELECT DISTINCT a.attempt, e.host_key, e.boot, e.lid
    FROM _ls_all0 a JOIN _ls_e e USING (eid)
    WHERE e.kind IN ('logon', 'reconnect') AND e.lid IS NOT NULL
    UNION
    -- a reconnect names the original limited id: its full (linked) twin goes too
    SELECT a.attempt, u2.host_key, u2.boot, u2.lid
    FROM _ls_all0 a JOIN _ls_e e USING (eid)
    JOIN _ls_unit u1 ON u1.host_key = e.host_key AND u1.boot = e.boot AND u1.lid = e.lid
    JOIN _ls_unit u2 ON u2.unit = u1.unit
    WHERE e.kind = 'reconnect'
    UNION
    -- the original ids a reconnect without 4778 learned (step 7a)
    SELECT o.attempt, a.host_key, a.boot, o.lid
    FROM _ls_orig o JOIN _ls_att a USING (attempt))
SELECT * FROM ids;

CREATE OR REPLACE TEMP TABLE _ls_more AS
SELECT i.attempt, x.eid, x.role, FALSE AS step
FROM _ls_sids i JOIN _ls_e x
  ON x.host_key = i.host_key AND x.boot = i.boot AND x.lid = i.lid
JOIN _ls_att a ON a.attempt = i.attempt
JOIN _ls_end en ON en.attempt = i.attempt
LEFT JOIN _ls_cap c ON c.attempt = i.attempt
WHERE x.src = 'sec' AND x.kind IN ('logoff', 'lock', 'unlock')
  AND x.t >= a.start_t
  AND (en.end_t IS NULL OR x.t <= en.end_t + $end_group_us)
  AND (c.cap_t IS NULL OR x.t <= c.cap_t)
  AND x.eid NOT IN (SELECT eid FROM _ls_all0)
QUALIFY row_number() OVER (PARTITION BY x.eid ORDER BY a.start_t DESC, i.attempt) = 1;

-- 9b. Every LSM/RCM/RdpCoreTS event sharing a session's connection ActivityID inside its span
-- is a source too (the LSM 40 of a reconnect's temporary session), without ending it.
CREATE OR REPLACE TEMP TABLE _ls_actmore AS
SELECT a.attempt, x.eid, x.role, FALSE AS step
FROM (SELECT attempt, host_key, start_t, unnest(acts) AS act FROM _ls_att) a
JOIN _ls_e x ON x.host_key = a.host_key AND x.act = a.act
JOIN _ls_end en ON en.attempt = a.attempt
LEFT JOIN _ls_cap c ON c.attempt = a.attempt
WHERE a.attempt NOT IN (SELECT child FROM _ls_fold)
  AND x.t >= a.start_t - $activity_us
  AND (en.end_t IS NULL OR x.t <= en.end_t + $end_group_us)
  AND (c.cap_t IS NULL OR x.t <= c.cap_t)
  AND x.eid NOT IN (SELECT eid FROM _ls_all0)
  AND x.eid NOT IN (SELECT eid FROM _ls_more)
QUALIFY row_number() OVER (PARTITION BY x.eid ORDER BY a.start_t DESC, a.attempt) = 1;

-- 9c. A logoff of a session's own logon id later in its boot (a 4634 minutes after the
-- 4647) belongs to it too, as a `late logoff`: it never moves the end. Of the sessions
-- holding that id (an original and its reconnects), the latest begun before it. The ids
-- of SYSTEM and the services are shared by everything: they link nothing.
CREATE OR REPLACE TEMP VIEW _ls_late AS
SELECT i.attempt, x.eid, 'late logoff' AS role, FALSE AS step
FROM _ls_sids i JOIN _ls_e x
  ON x.host_key = i.host_key AND x.boot = i.boot AND x.lid = i.lid
JOIN _ls_att a ON a.attempt = i.attempt
WHERE x.src = 'sec' AND x.kind = 'logoff' AND x.t >= a.start_t
  AND i.lid NOT IN $shared_ids AND NOT a.failed
  AND x.eid NOT IN (SELECT eid FROM _ls_all0)
  AND x.eid NOT IN (SELECT eid FROM _ls_more)
  AND x.eid NOT IN (SELECT eid FROM _ls_actmore)
QUALIFY row_number() OVER (PARTITION BY x.eid ORDER BY a.start_t DESC, i.attempt) = 1;

CREATE OR REPLACE TEMP TABLE _ls_all AS
SELECT * FROM _ls_all0 UNION ALL SELECT * FROM _ls_more UNION ALL SELECT * FROM _ls_actmore
UNION ALL SELECT * FROM _ls_late;

-- each member and source with the event columns the session rows are made of (a view: step
-- 10 reads it three times, each with its own filter and columns, cheaper than one copy)
CREATE OR REPLACE TEMP VIEW _ls_j AS
SELECT s.attempt, s.role, s.step, e.eid, e.sha_h, e.record_id, e.t, e.host_key,
       e.src, e.kind, e.event_id, e.uk, e.lid, e.logon_type, e.elevated, e.ipn, e.zone,
       e.is_local, e.lsid, e.workstation
FROM _ls_all s JOIN _ls_e e USING (eid);
