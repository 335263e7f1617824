-- 5. Attempts: the steps of one RDP/console logon (NLA 4624 type 3, 1149, 4624 type
-- 2/10/11/12, 4778, LSM 21/25) on one host for one user, each within the window of the
-- previous one and in rank order, become one attempt; every other logon and every failed
-- logon is its own attempt.
CREATE OR REPLACE TEMP VIEW _ls_cand AS
SELECT unit AS mid, host_key, boot, uk, t, ipn,
       CASE WHEN logon_type = $nla_type THEN $rank_nla ELSE $rank_logon END AS rnk
FROM _ls_units WHERE logon_type IN $chain_types
UNION ALL
-- the other chain steps (4624s take part as units, above)
SELECT eid, host_key, boot, uk, t, ipn, rnk
FROM _ls_e WHERE rnk IS NOT NULL AND kind <> 'logon';

CREATE OR REPLACE TEMP TABLE _ls_clu AS
WITH o AS (
    SELECT *, lag(t) OVER w AS pt, lag(rnk) OVER w AS pr, lag(ipn) OVER w AS pip
    FROM _ls_cand
    WINDOW w AS (PARTITION BY host_key, boot, uk ORDER BY t, rnk, mid)),
f AS (
    SELECT *, CASE WHEN pt IS NULL OR t - pt > $window_us OR rnk <= pr
                     OR (pr = $rank_nla AND (ipn IS NULL OR ipn <> pip))
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
  USING (attempt);

-- 5b. An RdpCoreTS 140 (a failed RDP logon, with the client address) is the same failure as
-- the Security 4625 of that attempt when the host logged one: same host, within
-- Rules.rdp_failure_window, same address -- the 4625's own or, for an NLA failure that writes
-- none, that of the RdpCoreTS 131 connection just before it (which shares the 140's
-- ActivityID: preferred). Each pairs with its nearest partner only, both ways (a brute force
-- writes a failure a second); a 140 left over is an attempt of its own.
CREATE OR REPLACE TEMP VIEW _ls_f140 AS
WITH f AS (
    SELECT f.eid, f.host_key, f.boot, f.t,
           coalesce(f.ipn, CASE WHEN f.t - c.t <= $connect_us THEN c.ipn END) AS ipn,
           CASE WHEN f.ipn IS NULL AND f.t - c.t <= $connect_us THEN c.act END AS act
    FROM (SELECT * FROM _ls_e WHERE kind = 'failed_logon' AND src = 'sec') f
    ASOF LEFT JOIN (SELECT * FROM _ls_e WHERE src = 'rdp' AND kind = 'rdp_connect'
                    AND ipn IS NOT NULL) c
      ON c.host_key = f.host_key AND c.boot = f.boot AND c.t <= f.t),
p AS (
    SELECT x.eid AS e140, f.eid AS e4625,
           (CASE WHEN f.act IS NOT NULL AND f.act = x.act THEN 0 ELSE 1 END,
            abs(x.t - f.t), f.eid, x.eid) AS d
    FROM (SELECT * FROM _ls_e WHERE kind = 'failed_logon' AND src = 'rdp') x
    JOIN f ON f.host_key = x.host_key AND f.ipn = x.ipn
     AND abs(x.t - f.t) <= $rdp_failure_us
    QUALIFY row_number() OVER (PARTITION BY x.eid ORDER BY d) = 1)
SELECT e140, e4625 FROM p
QUALIFY row_number() OVER (PARTITION BY e4625 ORDER BY d) = 1;

-- members: every event of a chain step, plus lone logons and failures
CREATE OR REPLACE TEMP TABLE _ls_mem AS
SELECT c.attempt, u.eid, CASE WHEN c.rnk = $rank_nla AND c.n_steps > 1 THEN 'auth'
                            ELSE 'logon' END AS role, TRUE AS step
FROM _ls_clu c JOIN _ls_unit u ON u.unit = c.mid
UNION ALL
SELECT c.attempt, e.eid, e.role, TRUE
FROM _ls_clu c JOIN _ls_e e ON e.eid = c.mid AND c.rnk NOT IN ($rank_nla, $rank_logon)
UNION ALL
SELECT unit, eid, 'logon', TRUE FROM _ls_unit
WHERE logon_type IS NULL OR logon_type NOT IN $chain_types
UNION ALL
SELECT coalesce(p.e4625, e.eid), e.eid, e.role, TRUE
FROM _ls_e e LEFT JOIN _ls_f140 p ON p.e140 = e.eid WHERE e.kind = 'failed_logon';

CREATE OR REPLACE TEMP TABLE _ls_att AS
SELECT m.attempt, any_value(e.host_key) AS host_key, any_value(e.boot) AS boot,
       any_value(e.uk) AS uk, min(e.t) AS start_t,
       bool_or(e.kind = 'failed_logon') AS failed,
       bool_or(e.kind IN ('reconnect', 'session_reconnect')) AS is_reconnect,
       min(e.t) FILTER (WHERE e.kind IN ('reconnect', 'session_reconnect')) AS reconnect_t,
       any_value(e.lsid) FILTER (WHERE e.src = 'lsm') AS lsid,
       any_value(e.lid) FILTER (WHERE e.kind = 'reconnect') AS orig_lid,
       max(CASE WHEN e.kind = 'logon' AND e.logon_type = $nla_type THEN $rank_nla
                WHEN e.kind = 'logon' THEN $rank_logon END) AS unit_rank,
       list(DISTINCT e.act) FILTER (WHERE e.act IS NOT NULL) AS acts,
       max(e.t) AS last_t
FROM _ls_mem m JOIN _ls_e e USING (eid) GROUP BY m.attempt;

-- logon ids of an attempt: every 4624 id (for 4672), and which of them own the session
CREATE OR REPLACE TEMP TABLE _ls_ids AS
SELECT DISTINCT m.attempt, e.host_key, e.boot, e.lid, e.t, e.logon_type,
       (NOT a.is_reconnect AND ((e.logon_type = $nla_type AND a.unit_rank = $rank_nla)
                                OR (e.logon_type <> $nla_type))) AS owns
FROM _ls_mem m JOIN _ls_e e USING (eid) JOIN _ls_att a USING (attempt)
WHERE e.kind = 'logon' AND e.lid IS NOT NULL;
