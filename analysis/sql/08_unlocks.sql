-- 8. Unlocks (4624 of the unlock logon type) fold into the interactive session open at that
-- moment, for the same user on the same host.
CREATE OR REPLACE TEMP TABLE _ls_fold AS
WITH parents AS (
    SELECT DISTINCT a.attempt, a.host_key, a.boot, a.uk, a.start_t
    FROM _ls_att a JOIN _ls_ids i USING (attempt)
    WHERE i.owns AND i.logon_type IN $interactive_types AND NOT a.failed),
kids AS (
    SELECT a.* FROM _ls_att a JOIN _ls_units n ON n.unit = a.attempt
    WHERE n.logon_type = $unlock_type)
SELECT k.attempt AS child, p.attempt AS parent
FROM kids k ASOF JOIN parents p
  ON p.host_key = k.host_key AND p.boot = k.boot AND p.uk = k.uk
 AND k.start_t >= p.start_t
JOIN _ls_end pe ON pe.attempt = p.attempt
WHERE pe.end_t IS NULL OR pe.end_t >= k.start_t;

CREATE OR REPLACE TEMP TABLE _ls_all0 AS
SELECT coalesce(f.parent, s.attempt) AS attempt, s.eid, s.role, s.step
FROM (SELECT * FROM _ls_mem UNION ALL SELECT * FROM _ls_src
      UNION ALL SELECT * FROM _ls_endsrc
                WHERE attempt NOT IN (SELECT child FROM _ls_fold)) s
LEFT JOIN _ls_fold f ON f.child = s.attempt;
