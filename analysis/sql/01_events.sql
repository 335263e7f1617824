-- 1. The events that take part, each joined once to the rule table (_ls_kinds): from here on
-- a row says what it is (src, kind, rnk, role) and no step compares channels or event ids.
-- Rows stay narrow (an int per evidence file, no channel strings): copies are cheap.
CREATE OR REPLACE TEMP TABLE _ls_sha AS
SELECT hash(evidence_sha256) AS sha_h, evidence_sha256,
       row_number() OVER (ORDER BY evidence_sha256) AS fid
FROM (SELECT DISTINCT evidence_sha256 FROM $events
      UNION SELECT DISTINCT evidence_sha256 FROM $gateway_events);

CREATE OR REPLACE TEMP TABLE _ls_ev AS
SELECT eid, sha_h, record_id, t, t AS tw, host,
       -- (the host's key from its name here, once, not in each branch below: ~8 ms less to plan)
       coalesce(host_key, ls_host_key(host)) AS host_key, event_id, src, kind, rnk, role,
       CASE WHEN kind = 'privileges' THEN subject_user ELSE target_user END AS user_raw,
       target_domain AS domain_raw, target_sid,
       CASE WHEN kind = 'privileges' THEN subject_logon_id ELSE target_logon_id END AS lid,
       linked_logon_id AS linked, logon_type, elevated,
       -- RdpCoreTS 140's IPString (cases ingested before it was read name it only in `data`)
       CASE WHEN kind = 'failed_logon' AND src = 'rdp'
            THEN coalesce(ip, json_extract_string(data, '$$.IPString')) ELSE ip END AS ip_raw,
       workstation, lsm_session_id AS lsid,
       -- RdpCoreTS 140 says why in words: "the user name or password is not correct"
       CASE WHEN kind = 'failed_logon' AND src = 'rdp' THEN '0xC000006D' ELSE status END
           AS status, sub_status,
       -- what only these sources say, read from the event's own fields: the resource an RD
       -- Gateway connected the user to, the client's time zone (RdpCoreTS 104, `[-5]`)
       -- (Gateway events write UserData: `{"EventInfo": {...}}`)
       CASE WHEN src = 'gw' THEN coalesce(json_extract_string(data, '$$.EventInfo.Resource'),
                                          json_extract_string(data, '$$.Resource'))
            WHEN kind = 'rdp_client' THEN json_extract_string(data, '$$.TimezoneBiasHour')
       END AS info,
       -- ActivityIDs link RDP events of one connection; the constant console one links nothing
       CASE WHEN src IN ('lsm', 'rcm', 'rdp')
             AND activity_id IS NOT NULL AND upper(activity_id) <> $console_activity
            THEN upper(activity_id) END AS act,
       CASE WHEN kind IN ('boot', 'shutdown') THEN kind END AS marker
FROM (
    -- `data` (each event's JSON, the widest column) is read only for the events whose fields
    -- come from it: RdpCoreTS 140 and 104 (a scan of their own, below) and the RD Gateway's
    SELECT e.* EXCLUDE (host_key, data), CAST(NULL AS VARCHAR) AS data,
           (f.fid << 40) + (e.record_id & 1099511627775) AS eid, f.sha_h,
           epoch_us(e.time) AS t, e.host_key, k.src, k.kind, k.rnk, k.role
    FROM $events e JOIN _ls_sha f ON f.sha_h = hash(e.evidence_sha256)
    JOIN _ls_kinds k ON k.channel = e.channel AND k.event_id = e.event_id
     AND (k.provider IS NULL OR k.provider = e.provider)
    -- the integer test first: most rows of a case fail it without a string comparison
    WHERE e.event_id IN $relevant_ids AND k.src <> 'gw'
      AND NOT (k.src = 'rdp' AND e.event_id IN (104, 140))
    UNION ALL
    SELECT e.* EXCLUDE (host_key, data), e.data,
           (f.fid << 40) + (e.record_id & 1099511627775), f.sha_h, epoch_us(e.time),
           e.host_key, k.src, k.kind, k.rnk, k.role
    FROM $events e JOIN _ls_sha f ON f.sha_h = hash(e.evidence_sha256)
    JOIN _ls_kinds k ON k.channel = e.channel AND k.event_id = e.event_id
     AND (k.provider IS NULL OR k.provider = e.provider)
    WHERE e.event_id IN (104, 140) AND k.src = 'rdp'
    UNION ALL
    -- RD Gateway events live on the gateway, not on the hosts whose sessions they explain:
    -- they come from every host (`$gateway_events`)
    SELECT e.* EXCLUDE (host_key, data), e.data,
           (f.fid << 40) + (e.record_id & 1099511627775), f.sha_h, epoch_us(e.time),
           e.host_key, k.src, k.kind, k.rnk, k.role
    FROM $gateway_events e JOIN _ls_sha f ON f.sha_h = hash(e.evidence_sha256)
    JOIN _ls_kinds k ON k.channel = e.channel AND k.event_id = e.event_id
    WHERE e.event_id IN (302, 303) AND k.src = 'gw');
