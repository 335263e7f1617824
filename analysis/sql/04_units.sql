-- 4. Logon units: the two 4624s of a UAC split token (each names the other as its linked
-- logon id, within the UAC window) collapse into one unit.
CREATE OR REPLACE TEMP TABLE _ls_unit AS
-- (only the columns the later steps read of a unit's logons: a narrow copy)
WITH l AS (
    SELECT eid, host_key, boot, t, uk, logon_type, ipn, elevated, lid, linked
    FROM _ls_e WHERE kind = 'logon'),
p AS (
    SELECT a.eid, min(least(a.eid, b.eid)) AS unit
    FROM l a JOIN l b
      ON a.host_key = b.host_key AND a.boot = b.boot AND a.linked = b.lid
     AND b.linked = a.lid AND a.eid <> b.eid AND abs(a.t - b.t) <= $uac_us
    WHERE coalesce(a.linked, 0) <> 0
    GROUP BY a.eid)
SELECT l.*, coalesce(p.unit, l.eid) AS unit FROM l LEFT JOIN p USING (eid);

CREATE OR REPLACE TEMP TABLE _ls_units AS
SELECT unit, any_value(host_key) AS host_key, any_value(boot) AS boot, min(t) AS t,
       any_value(uk) AS uk, any_value(logon_type) AS logon_type,
       any_value(ipn) AS ipn, bool_or(coalesce(elevated, FALSE)) AS elevated,
       list(lid ORDER BY elevated DESC NULLS LAST, lid) AS lids
FROM _ls_unit GROUP BY unit;
