-- 1b. Clock changes. Windows writes each event with the clock of its moment; when the clock
-- is set (Security 4616, Kernel-General 1) the written times jump, back or forth. A host's
-- changes larger than Rules.clock_change cut its time into eras. Every event gets its era --
-- exactly, by record order, in the logs that record the changes; in the other logs, the era
-- whose written times hold it, consistent with its neighbours in record order -- and `t`
-- becomes the corrected time tw - offset(era): the first era's clock plus the time elapsed
-- since, in which record order and time order agree. `tw` keeps the time as written.
CREATE OR REPLACE TEMP TABLE _ls_chg1 AS
WITH c AS (
    SELECT f.sha_h, coalesce(e.host_key, ls_host_key(e.host)) AS host_key, e.record_id,
           e.event_id,
           epoch_us(try_cast(json_extract_string(e.data,
               CASE WHEN e.event_id = 4616 THEN '$$.PreviousTime' ELSE '$$.OldTime' END)
               AS TIMESTAMPTZ)) AS prev_us,
           epoch_us(try_cast(json_extract_string(e.data, '$$.NewTime') AS TIMESTAMPTZ))
               AS new_us
    FROM $events e JOIN _ls_sha f ON f.sha_h = hash(e.evidence_sha256)
    WHERE e.event_id IN (4616, 1)
      AND ((e.channel = $security AND e.event_id = 4616)
           -- Kernel-General 1 reason 2 is the hardware clock read after a resume (time that
           -- really passed), 3 a time zone change (UTC unchanged): only 1 sets the clock
           OR (e.channel = $system AND e.event_id = 1 AND e.provider = $kernel_general
               AND coalesce(json_extract_string(e.data, '$$.Reason'), '1') = '1')))
SELECT *, count(*) OVER (PARTITION BY host_key, sha_h) AS n_in_log
FROM c
WHERE prev_us IS NOT NULL AND new_us IS NOT NULL
  AND abs(new_us - prev_us) >= $clock_change_us;

-- the eras of a host, from the log recording most of its changes
CREATE OR REPLACE TEMP TABLE _ls_chg AS
WITH d AS (
    SELECT DISTINCT host_key, sha_h, n_in_log FROM _ls_chg1
    QUALIFY row_number() OVER (PARTITION BY host_key ORDER BY n_in_log DESC, sha_h) = 1)
SELECT c.host_key, c.sha_h, c.record_id, c.event_id, c.prev_us, c.new_us,
       row_number() OVER w AS era,
       CAST(sum(c.new_us - c.prev_us) OVER w AS BIGINT) AS offset_us
FROM _ls_chg1 c JOIN d USING (host_key, sha_h)
WINDOW w AS (PARTITION BY c.host_key ORDER BY c.record_id ROWS UNBOUNDED PRECEDING);

-- every change record (in the defining log and in the others) as the era it opens
CREATE OR REPLACE TEMP TABLE _ls_chgx AS
SELECT o.host_key, o.sha_h, o.record_id, c.era
FROM _ls_chg1 o JOIN _ls_chg c
  ON c.host_key = o.host_key AND abs(c.prev_us - o.prev_us) <= 2000000
 AND abs(c.new_us - o.new_us) <= 2000000
QUALIFY row_number() OVER (PARTITION BY o.host_key, o.sha_h, o.record_id
    ORDER BY abs(c.prev_us - o.prev_us) + abs(c.new_us - o.new_us), c.era) = 1;

-- exact: the logs that record the changes (records before a log's first change are in the
-- era before it: a rolled-over log may begin in a later era)
CREATE OR REPLACE TEMP TABLE _ls_exact AS
SELECT e.eid, e.host_key, e.tw, coalesce(x.era, f.first_era - 1) AS era
FROM (SELECT * FROM _ls_ev
      WHERE (host_key, sha_h) IN (SELECT DISTINCT host_key, sha_h FROM _ls_chgx)) e
JOIN (SELECT host_key, sha_h, min(era) AS first_era FROM _ls_chgx GROUP BY ALL) f
  USING (host_key, sha_h)
ASOF LEFT JOIN _ls_chgx x
  ON x.host_key = e.host_key AND x.sha_h = e.sha_h AND e.record_id >= x.record_id;

-- each era's written times: between the changes, widened to what the exact logs show
CREATE OR REPLACE TEMP TABLE _ls_erab AS
WITH c AS (
    SELECT host_key, era, new_us, prev_us, offset_us,
           lead(prev_us) OVER (PARTITION BY host_key ORDER BY era) AS next_prev
    FROM _ls_chg),
e AS (
    SELECT host_key, era, new_us AS lo, next_prev AS hi, offset_us FROM c
    UNION ALL
    SELECT host_key, 0, NULL, prev_us, CAST(0 AS BIGINT) FROM c WHERE era = 1),
x AS (SELECT host_key, era, min(tw) AS lo, max(tw) AS hi FROM _ls_exact GROUP BY ALL)
SELECT e.host_key, e.era, e.offset_us,
       least(e.lo, x.lo) - 1000000 AS lo,
       -- the last era runs on: its clock keeps going after the last exact record
       CASE WHEN e.hi IS NOT NULL THEN greatest(e.hi, x.hi) + 1000000 END AS hi
FROM e LEFT JOIN x USING (host_key, era);

-- the other logs: their records in order, cut into segments where the written time goes back
-- by a clock change or more (a backward jump in record order is an era change)
CREATE OR REPLACE TEMP TABLE _ls_gseg AS
WITH o AS (
    SELECT eid, host_key, sha_h, record_id, tw FROM _ls_ev
    WHERE host_key IN (SELECT host_key FROM _ls_chg)
      AND eid NOT IN (SELECT eid FROM _ls_exact)),
j AS (
    SELECT *, CASE WHEN tw < lag(tw) OVER (PARTITION BY host_key, sha_h ORDER BY record_id)
                        - $clock_change_us THEN 1 ELSE 0 END AS jump
    FROM o)
SELECT eid, host_key, sha_h, record_id, tw,
       sum(jump) OVER (PARTITION BY host_key, sha_h ORDER BY record_id
                       ROWS UNBOUNDED PRECEDING) AS seg
FROM j;

-- the eras whose written times hold each record
CREATE OR REPLACE TEMP TABLE _ls_gcand AS
SELECT g.eid, b.era FROM _ls_gseg g JOIN _ls_erab b
  ON b.host_key = g.host_key AND g.tw >= coalesce(b.lo, g.tw) AND g.tw <= coalesce(b.hi, g.tw);

-- each segment's floor: past the era the segment before it ended in (two passes: the lowest
-- era holding that last record, then the lowest at or past its own floor)
CREATE OR REPLACE TEMP TABLE _ls_gfloor AS
WITH last AS (
    SELECT host_key, sha_h, seg, arg_max(eid, record_id) AS eid FROM _ls_gseg GROUP BY ALL),
p1 AS (
    SELECT l.host_key, l.sha_h, l.seg, l.eid, coalesce(min(c.era), 0) AS lo
    FROM last l LEFT JOIN _ls_gcand c USING (eid) GROUP BY ALL),
f1 AS (
    SELECT *, coalesce(max(lo + 1) OVER (PARTITION BY host_key, sha_h ORDER BY seg
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS floor1
    FROM p1),
p2 AS (
    SELECT f.host_key, f.sha_h, f.seg,
           coalesce(min(c.era) FILTER (WHERE c.era >= f.floor1), any_value(f.floor1)) AS lo2
    FROM f1 f LEFT JOIN _ls_gcand c USING (eid) GROUP BY f.host_key, f.sha_h, f.seg)
SELECT p2.host_key, p2.sha_h, p2.seg,
       least(coalesce(max(p2.lo2 + 1) OVER (PARTITION BY p2.host_key, p2.sha_h ORDER BY p2.seg
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), m.last_era)
           AS floor
FROM p2 JOIN (SELECT host_key, max(era) AS last_era FROM _ls_chg GROUP BY host_key) m
  USING (host_key);

-- each record: the lowest era holding it at or past its segment's floor
CREATE OR REPLACE TEMP TABLE _ls_guess AS
SELECT g.eid,
       coalesce(min(c.era) FILTER (WHERE c.era >= f.floor), max(c.era), any_value(f.floor))
           AS era
FROM _ls_gseg g JOIN _ls_gfloor f USING (host_key, sha_h, seg)
LEFT JOIN _ls_gcand c USING (eid)
GROUP BY g.eid;

-- corrected era starts (for turning a corrected time back into the written one) and the
-- changes on the corrected line
CREATE OR REPLACE TEMP TABLE _ls_clock AS
SELECT host_key, era, new_us - offset_us AS c_from, offset_us FROM _ls_chg;

-- (in place: only the events of hosts whose clock changed move; most tasks have none)
UPDATE _ls_ev SET t = _ls_ev.tw - c.offset_us
FROM (SELECT r.eid, b.offset_us
      FROM (SELECT eid, era FROM _ls_exact UNION ALL SELECT eid, era FROM _ls_guess) r
      JOIN (SELECT eid, host_key FROM _ls_ev) v USING (eid)
      JOIN _ls_erab b ON b.host_key = v.host_key AND b.era = r.era) c
WHERE _ls_ev.eid = c.eid;
