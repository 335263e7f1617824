-- 8b. RD Gateway. A user who comes in through a gateway reaches the host from the gateway's
-- internal address; the gateway's own log (another host) names the external client: 302
-- "user U on client X connected to resource R", 303 when that connection closed. A 302 goes
-- to the RDP session of user U on host R (R's host key: short name, any case or domain)
-- that began within Rules.gateway_window of it, either way (two hosts' clocks); the nearest
-- pairs, both ways. Its 303 is the next one of the same user, client and resource.
CREATE OR REPLACE TEMP TABLE _ls_gw AS
WITH g AS (
    SELECT eid, host_key AS gw_host, uk, ipn, t, ls_host_key(info) AS target
    FROM _ls_e WHERE kind = 'gateway_connect' AND uk IS NOT NULL),
rdp AS (
    -- sessions that came over RDP: an RDP logon type, RDP/LSM events, a reconnect
    SELECT DISTINCT a.attempt, a.host_key, a.uk, a.start_t
    FROM _ls_att a JOIN _ls_all0 m USING (attempt) JOIN _ls_e e ON e.eid = m.eid
    WHERE a.uk IS NOT NULL
      AND (e.logon_type = 10 OR e.src IN ('rcm', 'rdp', 'lsm') OR e.kind = 'reconnect')
      AND a.attempt NOT IN (SELECT child FROM _ls_fold)),
p AS (
    SELECT g.eid AS e302, r.attempt, (abs(g.t - r.start_t), r.attempt, g.eid) AS d
    FROM g JOIN rdp r ON r.host_key = g.target AND r.uk = g.uk
    WHERE abs(g.t - r.start_t) <= $gateway_us
    QUALIFY row_number() OVER (PARTITION BY g.eid ORDER BY d) = 1)
SELECT attempt, e302 FROM p
QUALIFY row_number() OVER (PARTITION BY attempt ORDER BY d) = 1;

CREATE OR REPLACE TEMP TABLE _ls_gw303 AS
SELECT c.eid AS e302, d.eid AS e303
FROM (SELECT eid, host_key, uk, t, concat_ws('|', ipn, lower(info)) AS k
      FROM _ls_e WHERE kind = 'gateway_disconnect') d
ASOF JOIN (SELECT eid, host_key, uk, t, concat_ws('|', ipn, lower(info)) AS k
           FROM _ls_e WHERE kind = 'gateway_connect') c
  ON c.host_key = d.host_key AND c.uk = d.uk AND c.k = d.k AND c.t <= d.t
WHERE c.eid IN (SELECT e302 FROM _ls_gw);

INSERT INTO _ls_all0
SELECT attempt, e302, 'gateway', FALSE FROM _ls_gw
UNION ALL
SELECT g.attempt, x.e303, 'gateway', FALSE FROM _ls_gw g JOIN _ls_gw303 x USING (e302);
