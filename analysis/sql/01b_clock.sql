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
SELECT c.host_key, c.sha_h, c.record_id, c.prev_us, c.new_us,
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

-- exact: the logs that record the changes
CREATE OR REPLACE TEMP TABLE _ls_exact AS
SELECT e.eid, e.host_key, e.tw, coalesce(x.era, 0) AS era
FROM (SELECT * FROM _ls_ev
      WHERE (host_key, sha_h) IN (SELECT DISTINCT host_key, sha_h FROM _ls_chgx)) e
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
       least(e.lo, x.lo) - 1000000 AS lo, greatest(e.hi, x.hi) + 1000000 AS hi
FROM e LEFT JOIN x USING (host_key, era);

-- the other logs: the eras holding each event; one holding it is sure, else the first
-- one not before the last sure era in its own log (eras only move on in record order);
-- none holding it: that last sure era
CREATE OR REPLACE TEMP TABLE _ls_guess AS
WITH o AS (
    SELECT eid, host_key, sha_h, record_id, tw FROM _ls_ev
    WHERE host_key IN (SELECT host_key FROM _ls_chg)
      AND eid NOT IN (SELECT eid FROM _ls_exact)),
c AS (
    SELECT o.eid, b.era FROM o JOIN _ls_erab b
      ON b.host_key = o.host_key AND o.tw >= coalesce(b.lo, o.tw)
     AND o.tw <= coalesce(b.hi, o.tw)),
n AS (
    SELECT o.eid, o.host_key, o.sha_h, o.record_id,
           CASE WHEN count(c.era) = 1 THEN min(c.era) END AS sure
    FROM o LEFT JOIN c USING (eid) GROUP BY ALL),
w AS (
    SELECT *,
           last_value(sure IGNORE NULLS) OVER (PARTITION BY host_key, sha_h ORDER BY record_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
    FROM n)
SELECT w.eid,
       coalesce(any_value(w.sure),
                min(c.era) FILTER (WHERE c.era >= coalesce(w.before, 0)),
                any_value(w.before), max(c.era), 0) AS era
FROM w LEFT JOIN c USING (eid) GROUP BY w.eid;

-- corrected era starts (for turning a corrected time back into the written one) and the
-- changes on the corrected line
CREATE OR REPLACE TEMP TABLE _ls_clock AS
SELECT host_key, era, new_us - offset_us AS c_from, offset_us FROM _ls_chg;

CREATE OR REPLACE TEMP TABLE _ls_ev AS
SELECT v.* EXCLUDE (t), v.tw - coalesce(b.offset_us, 0) AS t
FROM _ls_ev v
LEFT JOIN (SELECT eid, era FROM _ls_exact UNION ALL SELECT eid, era FROM _ls_guess) r
  USING (eid)
LEFT JOIN _ls_erab b ON b.host_key = v.host_key AND b.era = r.era;
