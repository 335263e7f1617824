-- 10. One row per attempt: its representative event, address, outcome, ids and counts.
CREATE OR REPLACE TEMP TABLE _ls_s0 AS
WITH ns AS (
    -- what the attached (non-step) sources add: cheap aggregates only
    SELECT attempt, bool_or(role = 'privileges') AS admin, count(*) AS n,
           any_value(lsid) FILTER (WHERE kind = 'shell_start') AS lsid22
    FROM _ls_j WHERE NOT step GROUP BY attempt),
ip AS (
    -- the address: RdpCoreTS 131 first, then RdpCoreTS 140 / RCM 1149, 4778, the 4624/4625,
    -- the rest (an RD Gateway's client comes after: it replaces the address, below)
    SELECT attempt,
           arg_min(ipn, k) AS src_ip, arg_min(tag, k) AS src_ip_source,
           arg_min(zone, k) AS src_ip_zone
    FROM (SELECT attempt, ipn, zone, t,
                 CASE WHEN src = 'rdp' AND kind = 'rdp_connect' THEN 1
                      WHEN src IN ('rdp', 'rcm') THEN 2
                      WHEN kind = 'reconnect' THEN 3
                      WHEN kind IN ('logon', 'failed_logon') THEN 4
                      -- (prio, t) as one integer in the order of that struct (a missing
                      -- time after every time): cheaper than comparing structs
                      ELSE 5 END * 36893488147419103232::HUGEINT
                 + coalesce(t::HUGEINT + 9223372036854775808, 18446744073709551616::HUGEINT)
                     AS k,
                 CASE WHEN src = 'rcm' THEN '1149'
                      WHEN src = 'lsm' THEN 'LSM' ELSE CAST(event_id AS VARCHAR) END AS tag
          FROM _ls_j WHERE ipn IS NOT NULL AND src <> 'gw'
            AND role NOT IN ('logoff', 'disconnect', 'shutdown'))
    GROUP BY attempt),
gw AS (
    -- an RD Gateway's external client: the address the host saw was the gateway's
    SELECT g.attempt, e.ipn AS ext_ip, e.zone AS ext_zone, e.host AS gateway_host
    FROM _ls_gw g JOIN _ls_e e ON e.eid = g.e302 WHERE e.ipn IS NOT NULL),
tz AS (
    -- the client's time zone (RdpCoreTS 104 writes `[-5]`): `UTC-5`
    SELECT attempt,
           'UTC' || CASE WHEN left(v, 1) IN ('-', '+') THEN v ELSE '+' || v END AS client_tz
    FROM (SELECT a.attempt,
                 arg_min(regexp_extract(e.info,
                             '^\s*\[?\s*([+-]?[0-9]{1,2}(\.[0-9]{1,2})?)\s*\]?\s*$$', 1),
                         e.t) AS v
          FROM _ls_all a JOIN _ls_e e USING (eid)
          WHERE e.kind = 'rdp_client' AND e.info IS NOT NULL GROUP BY a.attempt)
    WHERE v <> ''),
agg AS (
    SELECT attempt,
           any_value(host_key) AS host_key,
           any_value(uk) AS user_key,
           -- the representative event: the main 4624/4625 (not the NLA one, not an
           -- unlock), else any 4624/4625, else the first step
           arg_min(eid, (CASE WHEN kind IN ('logon', 'failed_logon')
                                   AND role <> 'auth' AND src = 'sec'
                                   AND coalesce(logon_type, 0) <> $unlock_type
                              THEN 0
                              WHEN kind IN ('logon', 'failed_logon') THEN 1
                              ELSE 2 END, t, eid)) AS rep,
           bool_or(kind = 'session_logon' AND is_local) AS lsm_local,
           bool_or(src IN ('lsm', 'rcm', 'rdp') OR kind = 'reconnect') AS rdpish,
           arg_min(workstation, t) FILTER (WHERE kind = 'reconnect') AS client,
           min(t) AS start_t,
           bool_or(kind = 'failed_logon') AS failed,
           bool_or(kind IN ('logon', 'reconnect', 'session_logon', 'session_reconnect'))
               AS succeeded,
           -- (sorted and made distinct below, with the original ids)
           list(lid) FILTER (WHERE kind IN ('logon', 'reconnect') AND lid IS NOT NULL)
               AS logon_ids,
           any_value(lsid) FILTER (WHERE kind IN ('session_logon', 'session_reconnect'))
               AS lsid,
           bool_or(kind IN ('reconnect', 'session_reconnect')) AS is_reconnect,
           bool_or(coalesce(elevated, FALSE)) FILTER (WHERE kind = 'logon') AS elevated,
           count(*) AS n_steps,
           -- the first step names the session
           arg_min(sha_h, (t, sha_h, record_id)) AS first_sha_h,
           arg_min(record_id, (t, sha_h, record_id)) AS rec
    FROM _ls_j WHERE step GROUP BY attempt),
a AS (
    SELECT agg.*, r.host, r.user_raw AS user, r.domain_raw AS domain,
           CASE WHEN r.target_sid NOT IN ('-', 'S-1-0-0') THEN r.target_sid END AS sid,
           CASE WHEN r.src = 'sec' THEN r.logon_type END AS rep_type,
           CASE WHEN r.src = 'sec' AND r.logon_type IN (3, 8)
                 AND ls_host_key(r.workstation) IS DISTINCT FROM r.host_key
                THEN r.workstation END AS ws,
           CASE WHEN r.kind = 'failed_logon' THEN r.status END AS status,
           CASE WHEN r.kind = 'failed_logon' THEN r.sub_status END AS sub
    FROM agg JOIN _ls_e r ON r.eid = agg.rep)
SELECT substr(md5(concat_ws('|', a.host_key, f.evidence_sha256, CAST(a.rec AS VARCHAR))),
              1, 16) AS session_id,
       a.host, a.host_key, a.user, a.domain, a.user_key, a.sid,
       CAST(coalesce(a.rep_type,
                     CASE WHEN a.lsm_local THEN 2 WHEN a.rdpish THEN 10 END) AS BIGINT)
           AS logon_type,
       coalesce(gw.ext_ip, ip.src_ip) AS src_ip,
       CASE WHEN gw.ext_ip IS NOT NULL THEN 'gateway' ELSE ip.src_ip_source END
           AS src_ip_source,
       CASE WHEN gw.ext_ip IS NOT NULL THEN gw.ext_zone ELSE ip.src_ip_zone END AS src_ip_zone,
       CASE WHEN gw.ext_ip IS NOT NULL THEN ip.src_ip END AS gateway_ip, gw.gateway_host,
       tz.client_tz,
       coalesce(a.client, a.ws) AS src_host,
       a.start_t AS start_c, en.end_t AS end_c,
       en.end_reason,
       CASE WHEN a.failed THEN 'failure' WHEN a.succeeded THEN 'success' ELSE 'unknown' END
           AS outcome,
       a.status, a.sub,
       list_sort(list_distinct(list_concat(coalesce(a.logon_ids, []),
                                           coalesce(o.lids, [])))) AS logon_ids,
       coalesce(a.lsid, ns.lsid22, att.lsid) AS lsm_session_id,
       coalesce(a.is_reconnect, FALSE) AS is_reconnect,
       coalesce(a.elevated, FALSE) AS elevated, coalesce(ns.admin, FALSE) AS admin,
       a.n_steps + coalesce(ns.n, 0) AS n_sources, a.attempt
FROM a JOIN _ls_sha f ON f.sha_h = a.first_sha_h
LEFT JOIN ns USING (attempt)
LEFT JOIN ip USING (attempt)
LEFT JOIN gw USING (attempt)
LEFT JOIN tz USING (attempt)
LEFT JOIN _ls_end en USING (attempt)
LEFT JOIN _ls_att att USING (attempt)
LEFT JOIN (SELECT attempt, list(lid) AS lids FROM _ls_orig GROUP BY attempt) o
  USING (attempt);

-- start and end as written (the corrected times turned back through their era's offset);
-- a session spanning a clock change says so
-- (the ASOF joins only for the hosts whose clock changed: most have none)
CREATE OR REPLACE TEMP TABLE _ls_s AS
SELECT s.* EXCLUDE (start_c, end_c),
       make_timestamp(s.start_c) AS start, make_timestamp(s.end_c) AS "end",
       FALSE AS clock_changed
FROM _ls_s0 s
WHERE NOT EXISTS (SELECT 1 FROM _ls_clock k WHERE k.host_key = s.host_key)
UNION ALL
SELECT s.* EXCLUDE (start_c, end_c),
       make_timestamp(s.start_c + coalesce(a.offset_us, 0)) AS start,
       make_timestamp(s.end_c + coalesce(b.offset_us, 0)) AS "end",
       EXISTS (SELECT 1 FROM _ls_clock k WHERE k.host_key = s.host_key
               AND k.c_from > s.start_c AND k.c_from <= coalesce(s.end_c, s.start_c))
           AS clock_changed
FROM (SELECT * FROM _ls_s0 s
      WHERE EXISTS (SELECT 1 FROM _ls_clock k WHERE k.host_key = s.host_key)) s
ASOF LEFT JOIN _ls_clock a ON a.host_key = s.host_key AND s.start_c >= a.c_from
ASOF LEFT JOIN _ls_clock b ON b.host_key = s.host_key AND s.end_c >= b.c_from;
