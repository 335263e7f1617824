-- Windows logon sessions: one per LSA logon id per boot on a host, opened by its 4624 and
-- ended by the first 4634/4647 of that id (how Takajo and Velociraptor pair them). Its members
-- are the Security events naming the id in that boot (4624, 4672, 4778/4779, 4800/4801,
-- 4634/4647). The ids of SYSTEM and the services are shared by every service start: each of
-- their 4624s is a logon session of its own, with no end. Runs on what the correlation steps
-- leave behind (_ls_e, _ls_all, _ls_s, _ls_sha, _ls_boot).
CREATE OR REPLACE TEMP TABLE _ls_vl_open AS
SELECT eid AS opener, host_key, boot, lid, t AS ot, lid IN $shared_ids AS shared
FROM _ls_e
WHERE kind = 'logon' AND lid IS NOT NULL
QUALIFY lid IN $shared_ids
     OR row_number() OVER (PARTITION BY host_key, boot, lid ORDER BY t, eid) = 1;

-- each member with the columns the members list is made of (no join back to the events)
CREATE OR REPLACE TEMP TABLE _ls_vl_mem AS
SELECT o.opener, o.ot, e.eid, e.t, e.tw, e.kind, e.record_id, e.event_id, e.src, e.sha_h
FROM _ls_vl_open o JOIN _ls_e e ON e.eid = o.opener WHERE o.shared
UNION ALL
SELECT o.opener, o.ot, e.eid, e.t, e.tw, e.kind, e.record_id, e.event_id, e.src, e.sha_h
FROM _ls_vl_open o JOIN _ls_e e
  ON e.host_key = o.host_key AND e.boot = o.boot AND e.lid = o.lid
WHERE NOT o.shared AND e.src = 'sec'
  AND e.kind IN ('logon', 'logoff', 'privileges', 'reconnect', 'disconnect', 'lock', 'unlock');

CREATE OR REPLACE TEMP VIEW _ls_vl AS
WITH m AS (
    -- (an opener's members are distinct events: a shared id's opener is its only member, any
    -- other opener is the one of its (host, boot, id))
    SELECT m.*, h.evidence_sha256 FROM _ls_vl_mem m JOIN _ls_sha h USING (sha_h)),
sid AS (
    SELECT DISTINCT m.opener, s.session_id
    FROM _ls_vl_mem m JOIN _ls_all a USING (eid) JOIN _ls_s s USING (attempt)),
agg AS (
    SELECT opener,
           -- sorted as structs below: by time first (an ordered aggregate is slow per group)
           list(struct_pack(time := make_timestamp(tw), channel := $view_channel,
                            event_id := CAST(event_id AS INTEGER), record_id,
                            evidence_sha256)) AS members,
           count(*) AS n_members,
           -- the first logoff of the id at or after its 4624 ends it
           arg_min(tw, (t, eid)) FILTER (WHERE kind = 'logoff' AND t >= ot) AS end_tw
    FROM m GROUP BY opener),
ids AS (SELECT opener, list_sort(list(session_id)) AS session_ids
        FROM sid GROUP BY opener),
sys AS MATERIALIZED (
    -- the system rule once per distinct account (it normalises the user name; MATERIALIZED:
    -- else the optimizer runs it on every row, above the join)
    SELECT user_raw, logon_type, target_sid,
           ls_is_system_key(k, logon_type, target_sid) AS system
    FROM (SELECT *, ls_user_key(user_raw) AS k
          FROM (SELECT DISTINCT e.user_raw, e.logon_type, e.target_sid
                FROM _ls_vl_open o JOIN _ls_e e ON e.eid = o.opener)))
SELECT substr(md5(concat_ws('|', 'logon', o.host_key, h.evidence_sha256,
                            CAST(e.record_id AS VARCHAR))), 1, 16) AS logon_session_id,
       e.host, o.host_key, o.boot, o.lid AS logon_id, nullif(e.linked, 0) AS linked_logon_id,
       e.user_raw AS user, e.domain_raw AS domain, e.uk AS user_key,
       CASE WHEN e.target_sid NOT IN ('-', 'S-1-0-0') THEN e.target_sid END AS sid,
       CAST(e.logon_type AS BIGINT) AS logon_type, ls_logon_kind(e.logon_type) AS logon_kind,
       e.ipn AS src_ip, coalesce(e.elevated, FALSE) AS elevated,
       make_timestamp(e.tw) AS start,
       make_timestamp(a.end_tw) AS "end",
       CASE WHEN a.end_tw IS NOT NULL THEN 'logoff' ELSE 'none seen' END AS end_reason,
       y.system,
       a.n_members, coalesce(i.session_ids, []) AS session_ids,
       -- (a list of one, most of them, is sorted already)
       CASE WHEN a.n_members > 1 THEN list_sort(a.members) ELSE a.members END AS members
FROM _ls_vl_open o JOIN _ls_e e ON e.eid = o.opener
JOIN _ls_sha h ON h.sha_h = e.sha_h
JOIN agg a ON a.opener = o.opener
LEFT JOIN ids i ON i.opener = o.opener
JOIN sys y ON y.user_raw IS NOT DISTINCT FROM e.user_raw
 AND y.logon_type IS NOT DISTINCT FROM e.logon_type
 AND y.target_sid IS NOT DISTINCT FROM e.target_sid
