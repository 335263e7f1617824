-- 8b, when these hosts' evidence holds no RD Gateway connect naming a user (no gateway in
-- the case, as on most): no session gains a gateway source. The step's tables are declared
-- here, with the columns and types 08b_gateway gives them, instead of three statements
-- planned for nothing (tests/test_session_steps.py checks both agree).
CREATE OR REPLACE TEMP TABLE _ls_gw (attempt BIGINT, e302 BIGINT);
CREATE OR REPLACE TEMP TABLE _ls_gw303 (e302 BIGINT, e303 BIGINT);
