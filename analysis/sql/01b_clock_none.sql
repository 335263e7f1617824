-- 1b, when no clock was set on these hosts (_ls_chg1 is empty, as on most tasks): every table
-- of 01b_clock is empty and no event moves. They are declared here, with the columns and
-- types 01b_clock gives them, instead of ten statements planned for nothing
-- (tests/test_session_steps.py checks both agree).
CREATE OR REPLACE TEMP TABLE _ls_chg (host_key VARCHAR, sha_h UBIGINT, record_id BIGINT,
    event_id INTEGER, prev_us BIGINT, new_us BIGINT, era BIGINT, offset_us BIGINT);
CREATE OR REPLACE TEMP TABLE _ls_chgx (host_key VARCHAR, sha_h UBIGINT, record_id BIGINT,
    era BIGINT);
CREATE OR REPLACE TEMP TABLE _ls_exact (eid BIGINT, host_key VARCHAR, tw BIGINT, era BIGINT);
CREATE OR REPLACE TEMP TABLE _ls_erab (host_key VARCHAR, era BIGINT, offset_us BIGINT,
    lo BIGINT, hi BIGINT);
CREATE OR REPLACE TEMP TABLE _ls_gseg (eid BIGINT, host_key VARCHAR, sha_h UBIGINT,
    record_id BIGINT, tw BIGINT, seg HUGEINT);
CREATE OR REPLACE TEMP TABLE _ls_gcand (eid BIGINT, era BIGINT);
CREATE OR REPLACE TEMP TABLE _ls_gfloor (host_key VARCHAR, sha_h UBIGINT, seg HUGEINT,
    floor BIGINT);
CREATE OR REPLACE TEMP TABLE _ls_guess (eid BIGINT, era BIGINT);
CREATE OR REPLACE TEMP TABLE _ls_clock (host_key VARCHAR, era BIGINT, c_from BIGINT,
    offset_us BIGINT);
