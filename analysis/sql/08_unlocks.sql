-- 8. Unlocks (4624 of the unlock logon type) fold into the interactive session open at that
-- moment, for the same user on the same host.
--
-- 8a. Cached unlocks: a cached (type 11) logon with no LSM or Winlogon session of its own,
-- an unlock (type 7) right after it and its id logged off within the cached-unlock window
-- re-authenticates a desktop session already open: it folds into that one like an unlock.
CREATE OR REPLACE TEMP TABLE _ls_cached AS
SELECT a.attempt
FROM _ls_att a JOIN _ls_units n ON n.unit = a.attempt
JOIN _ls_end e USING (attempt)
WHERE n.logon_type = $cached_type AND NOT a.failed AND a.lsid IS NULL
  AND e.end_reason = 'logoff' AND e.end_t - a.start_t <= $cached_unlock_us
  AND NOT EXISTS (SELECT 1 FROM _ls_src s JOIN _ls_e x USING (eid)
                  WHERE s.attempt = a.attempt AND x.kind = 'session_notice')
  AND EXISTS (SELECT 1 FROM _ls_units u
              WHERE u.host_key = a.host_key AND u.boot = a.boot AND u.uk = a.uk
                AND u.logon_type = $unlock_type
                AND u.t BETWEEN a.start_t AND a.start_t + $cached_unlock_us);

-- 8b. Each unlock (and cached unlock) to the latest interactive session of its user begun
-- before it and not yet ended; a cached unlock only to a desktop (LSM) session.
CREATE OR REPLACE TEMP TABLE _ls_fold AS
WITH parents AS (
    SELECT DISTINCT a.attempt, a.host_key, a.boot, a.uk, a.start_t,
           a.lsid IS NOT NULL AS desktop
    FROM _ls_att a JOIN _ls_ids i USING (attempt)
    WHERE i.owns AND i.logon_type IN $interactive_types AND NOT a.failed
      AND a.attempt NOT IN (SELECT attempt FROM _ls_cached)),
unlocks AS (
    SELECT a.* FROM _ls_att a JOIN _ls_units n ON n.unit = a.attempt
    WHERE n.logon_type = $unlock_type),
cached AS (SELECT * FROM _ls_att WHERE attempt IN (SELECT attempt FROM _ls_cached)),
pairs AS (
    SELECT k.attempt AS child, p.attempt AS parent, k.start_t
    FROM unlocks k ASOF JOIN parents p
      ON p.host_key = k.host_key AND p.boot = k.boot AND p.uk = k.uk
     AND k.start_t >= p.start_t
    UNION ALL
    SELECT k.attempt, p.attempt, k.start_t
    FROM cached k ASOF JOIN (SELECT * FROM parents WHERE desktop) p
      ON p.host_key = k.host_key AND p.boot = k.boot AND p.uk = k.uk
     AND k.start_t >= p.start_t)
SELECT k.child, k.parent
FROM pairs k JOIN _ls_end pe ON pe.attempt = k.parent
WHERE pe.end_t IS NULL OR pe.end_t >= k.start_t;

CREATE OR REPLACE TEMP TABLE _ls_all0 AS
SELECT coalesce(f.parent, s.attempt) AS attempt, s.eid, s.role, s.step
FROM (SELECT * FROM _ls_mem UNION ALL SELECT * FROM _ls_src
      UNION ALL SELECT * FROM _ls_endsrc
                WHERE attempt NOT IN (SELECT child FROM _ls_fold)) s
LEFT JOIN _ls_fold f ON f.child = s.attempt;
