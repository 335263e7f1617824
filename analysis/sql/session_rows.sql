-- The sessions table (needs _ls_ipclass: address classes computed by storage.identity).
-- The identity rules once per distinct account and failure code (they normalise strings);
-- MATERIALIZED: else the optimizer moves them above the join and runs them on every row.
-- (ls_is_system and ls_failure_text in two levels, the user's key and the failure code a
-- column of the inner one: each macro's tree bound once, ~60 ms less to plan)
WITH y AS MATERIALIZED (
    SELECT "user", logon_type, sid, ls_is_system_key(k, logon_type, sid) AS system
    FROM (SELECT *, ls_user_key("user") AS k
          FROM (SELECT DISTINCT "user", logon_type, sid FROM _ls_s))),
f AS MATERIALIZED (
    SELECT status, sub, ls_failure_reason(code) AS failure_reason
    FROM (SELECT *, ls_failure_code_of(status, sub) AS code
          FROM (SELECT DISTINCT status, sub FROM _ls_s WHERE outcome = 'failure')))
SELECT s.session_id, s.host, s.host_key, s.user, s.domain, s.user_key, s.sid,
       s.logon_type, ls_logon_kind(s.logon_type) AS logon_kind,
       s.src_ip, s.src_ip_source, c.ip_class AS src_ip_class, s.src_ip_zone,
       s.src_host,
       coalesce(s.logon_type = 10 AND c.ip_class = 'loopback', FALSE) AS tunnelled,
       s.start, s."end", s.end_reason, s.outcome,
       CASE WHEN s.outcome = 'failure' THEN f.failure_reason END AS failure_reason,
       s.logon_ids, s.lsm_session_id, s.is_reconnect, s.elevated, s.admin,
       y.system,
       s.n_sources, CAST(0 AS BIGINT) AS n_activity, s.clock_changed,
       s.client_tz, s.gateway_ip, s.gateway_host,
       -- where the address is: looked up once for the whole case when it is assembled
       CAST(NULL AS VARCHAR) AS src_country, CAST(NULL AS VARCHAR) AS src_city,
       CAST(NULL AS BIGINT) AS src_asn, CAST(NULL AS VARCHAR) AS src_org,
       k.clock_changes, FALSE AS tampered
FROM _ls_s s
LEFT JOIN _ls_ipclass c ON c.ip = s.src_ip
JOIN y
  ON y."user" IS NOT DISTINCT FROM s."user" AND y.logon_type IS NOT DISTINCT FROM s.logon_type
 AND y.sid IS NOT DISTINCT FROM s.sid
LEFT JOIN f
  ON f.status IS NOT DISTINCT FROM s.status AND f.sub IS NOT DISTINCT FROM s.sub
 AND s.outcome = 'failure'
-- the changes a session spans, in words: old -> new time and the record that set it
LEFT JOIN (
    SELECT s0.session_id,
           list(strftime(make_timestamp(g.prev_us), '%Y-%m-%d %H:%M:%S') || ' -> '
                || strftime(make_timestamp(g.new_us), '%Y-%m-%d %H:%M:%S') || ' UTC ('
                || CASE g.event_id WHEN 4616 THEN 'Security 4616'
                                   ELSE 'System Kernel-General 1' END
                || ' record ' || CAST(g.record_id AS VARCHAR) || ')' ORDER BY g.era)
               AS clock_changes
    FROM _ls_s0 s0
    JOIN _ls_clock k0 ON k0.host_key = s0.host_key AND k0.c_from > s0.start_c
     AND k0.c_from <= coalesce(s0.end_c, s0.start_c)
    JOIN _ls_chg g ON g.host_key = k0.host_key AND g.era = k0.era
    GROUP BY s0.session_id) k USING (session_id)
$order
