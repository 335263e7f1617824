-- Desktop sessions: one per LSM session id per boot on a host, spanning its disconnects and
-- reconnects until LSM logs it off (23). Windows hands a freed session id out again, so an
-- LSM 21/41 of the id after its logoff begins a new desktop. Members: every event naming the
-- id (LSM 21-25/39-42, Winlogon 7001/7002, 4800/4801). Addresses: those its LSM events
-- (21/24/25) name. Runs on what the correlation steps leave behind.
-- (only the columns the desktops are made of go through the two window sorts)
CREATE OR REPLACE TEMP TABLE _ls_vd_ev AS
WITH d AS (
    SELECT e.sha_h, e.eid, e.record_id, e.t, e.tw, e.host, e.host_key, e.event_id, e.src,
           e.kind, e.user_raw, e.domain_raw, e.lsid, e.uk, e.ipn, e.boot,
           (e.src = 'lsm' AND e.kind IN ('session_logon', 'session_notice')
                 AND e.event_id IN (21, 41)) AS opens,
           (e.src = 'lsm' AND e.kind = 'logoff') AS closes
    FROM _ls_e e WHERE e.lsid IS NOT NULL),
-- an open after a logoff (the last open or logoff before it is a logoff) begins a new desktop
y AS (
    SELECT *, CASE WHEN opens AND last_value(CASE WHEN opens THEN 0 WHEN closes THEN 1 END
                                             IGNORE NULLS) OVER (
                  PARTITION BY host_key, boot, lsid ORDER BY t, eid
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) = 1
                  THEN 1 ELSE 0 END AS brk
    FROM d)
SELECT *, sum(brk) OVER (PARTITION BY host_key, boot, lsid ORDER BY t, eid
                         ROWS UNBOUNDED PRECEDING) AS seg
FROM y;

CREATE OR REPLACE TEMP VIEW _ls_vd AS
WITH m AS (
    SELECT v.*, h.evidence_sha256 FROM _ls_vd_ev v JOIN _ls_sha h ON h.sha_h = v.sha_h),
sid AS (
    SELECT DISTINCT m.host_key, m.boot, m.lsid, m.seg, s.session_id
    FROM m JOIN _ls_all a USING (eid) JOIN _ls_s s USING (attempt)),
ids AS (
    SELECT host_key, boot, lsid, seg, list(session_id ORDER BY session_id) AS session_ids
    FROM sid GROUP BY ALL),
agg AS (
    SELECT host_key, boot, lsid, seg,
           -- the first member names the desktop (no join back to the events for it)
           arg_min(evidence_sha256, (t, eid)) AS first_sha,
           arg_min(record_id, (t, eid)) AS first_record,
           arg_min(host, (t, eid)) AS host,
           arg_min(user_raw, (t, eid)) FILTER (WHERE user_raw IS NOT NULL) AS user,
           arg_min(domain_raw, (t, eid)) FILTER (WHERE user_raw IS NOT NULL) AS domain,
           arg_min(uk, (t, eid)) FILTER (WHERE uk IS NOT NULL) AS user_key,
           min(tw) AS start_tw,
           arg_min(tw, (t, eid)) FILTER (WHERE closes) AS end_tw,
           list(DISTINCT ipn) FILTER (WHERE ipn IS NOT NULL AND src = 'lsm') AS src_ips,
           count(*) FILTER (WHERE kind IN ('session_logon', 'session_reconnect'))
               AS n_connects,
           count(*) FILTER (WHERE src = 'lsm' AND kind = 'disconnect' AND event_id = 24)
               AS n_disconnects,
           -- sorted as structs below: by time first (an ordered aggregate is slow per group)
           list(struct_pack(time := make_timestamp(tw), channel := $view_channel,
                            event_id := CAST(event_id AS INTEGER), record_id,
                            evidence_sha256)) AS members,
           count(*) AS n_members
    FROM m GROUP BY host_key, boot, lsid, seg),
-- the system rule once per distinct account (it normalises the user name; MATERIALIZED:
-- else the optimizer runs it on every row)
sys AS MATERIALIZED (
    SELECT "user", coalesce(ls_is_system_key(k, 2, NULL), FALSE) AS system
    FROM (SELECT "user", ls_user_key("user") AS k FROM (SELECT DISTINCT "user" FROM agg)))
SELECT substr(md5(concat_ws('|', 'desktop', a.host_key, a.first_sha,
                            CAST(a.first_record AS VARCHAR))), 1, 16) AS desktop_session_id,
       a.host, a.host_key, a.boot, a.lsid AS lsm_session_id,
       a.user, a.domain, a.user_key,
       make_timestamp(a.start_tw) AS start, make_timestamp(a.end_tw) AS "end",
       CASE WHEN a.end_tw IS NOT NULL THEN 'logoff' ELSE 'none seen' END AS end_reason,
       list_sort(coalesce(a.src_ips, [])) AS src_ips, a.n_connects, a.n_disconnects,
       y.system,
       a.n_members, coalesce(i.session_ids, []) AS session_ids,
       -- (a list of one, most of them, is sorted already)
       CASE WHEN a.n_members > 1 THEN list_sort(a.members) ELSE a.members END AS members
FROM agg a
LEFT JOIN ids i
  ON i.host_key = a.host_key AND i.boot = a.boot AND i.lsid = a.lsid AND i.seg = a.seg
JOIN sys y ON y."user" IS NOT DISTINCT FROM a.user
