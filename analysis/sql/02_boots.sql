-- 2. Boot epochs per host: logon ids and LSM session ids are unique only within one boot.
CREATE OR REPLACE TEMP TABLE _ls_boot AS
WITH m AS (
    SELECT host_key, t, marker, eid,
           lag(marker) OVER w AS pm, lag(t) OVER w AS pt
    FROM _ls_ev WHERE marker IS NOT NULL
    WINDOW w AS (PARTITION BY host_key ORDER BY t, eid)),
s AS (
    SELECT host_key, t AS boot_start
    FROM m WHERE marker = 'boot' AND (pm IS NULL OR pm = 'shutdown'
          OR t - pt > $boot_gap_us)),
n AS (
    SELECT host_key, boot_start,
           row_number() OVER (PARTITION BY host_key ORDER BY boot_start) AS boot,
           lead(boot_start) OVER (PARTITION BY host_key ORDER BY boot_start) AS next_start
    FROM s
    UNION ALL
    SELECT h.host_key, NULL, 0, min(s.boot_start)
    FROM (SELECT DISTINCT host_key FROM m) h LEFT JOIN s USING (host_key)
    GROUP BY h.host_key)
SELECT n.*,
       (SELECT min(m.t) FROM m WHERE m.host_key = n.host_key AND m.marker = 'shutdown'
          AND m.t >= coalesce(n.boot_start, -9223372036854775807)
          AND m.t < coalesce(n.next_start, 9223372036854775807)) AS shutdown_t,
       (SELECT arg_min(m.eid, m.t) FROM m WHERE m.host_key = n.host_key
          AND m.marker = 'shutdown'
          AND m.t >= coalesce(n.boot_start, -9223372036854775807)
          AND m.t < coalesce(n.next_start, 9223372036854775807)) AS shutdown_eid
FROM n;

-- each boot spread over the hours it covers: events find theirs by an equi-join on
-- (host, hour) instead of a range join (hosts reboot hundreds of times in a case)
CREATE OR REPLACE TEMP TABLE _ls_bootb AS
WITH span AS (SELECT host_key, max(t) AS last_t FROM _ls_ev GROUP BY host_key),
b AS (
    SELECT b.host_key, b.boot, b.boot_start,
           coalesce(b.next_start, s.last_t + 1) AS boot_end
    FROM _ls_boot b JOIN span s USING (host_key) WHERE b.boot > 0)
SELECT host_key, boot, boot_start, boot_end,
       unnest(range(boot_start // 3600000000,
                    (greatest(boot_end, boot_start + 1) - 1) // 3600000000 + 1)) AS bucket
FROM b;
