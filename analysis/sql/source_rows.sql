-- The session_sources table: every member and attached source of every session.
SELECT s.session_id, h.evidence_sha256, e.record_id,
       make_timestamp(e.tw) AS time,
       $src_channel AS channel,
       CAST(e.event_id AS INTEGER) AS event_id, a.role
FROM _ls_all a JOIN _ls_e e USING (eid) JOIN _ls_s s USING (attempt)
JOIN _ls_sha h USING (sha_h)
$order
