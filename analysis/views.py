"""Summary views over sessions: `users` and `user_ips` (DESIGN 2), the outlier-IP view.

Both are plain SQL over a sessions relation so the same text serves the derived tables (all
sessions) and filtered reads (`analysis.queries` wraps the sessions in a parameterised filter
first). Rarity of a source IP is given per user (`user_share`: the user's sessions from this
IP / all the user's sessions; `rare_for_user`) and per case (`case_users`: distinct users seen
from it; `case_share`: its share of all sessions that have an address).

This module must not read files or import the UI; callers pass the relation to read.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from logonscope.storage import identity
from logonscope.storage.vocabulary import require_identifier

USERS_COLUMNS = (
    "user_key",
    "user",
    "domains",
    "sessions",
    "successes",
    "failures",
    "unknown",
    "reconnects",
    "admin_sessions",
    "hosts",
    "n_hosts",
    "logon_kinds",
    "n_src_ips",
    "first_seen",
    "last_seen",
    "last_failure",
    "system",
)
USER_IPS_COLUMNS = (
    "user_key",
    "user",
    "src_ip",
    "src_ip_class",
    "src_network",
    "sessions",
    "successes",
    "failures",
    "hosts",
    "logon_kinds",
    "src_hosts",
    "first_seen",
    "last_seen",
    "user_sessions",
    "user_share",
    "rare_for_user",
    "case_users",
    "case_sessions",
    "case_share",
    "system",
)
# An IP is rare for a user when it carries at most this share of the user's sessions and the
# user has enough history for a share to mean something.
RARE_SHARE = 0.10
RARE_MIN_SESSIONS = 5


def checked(relation: str) -> str:
    """`relation` if it is a plain identifier (our code names relations; never user input)."""
    return require_identifier(relation)


def users_sql(relation: str = "sessions") -> str:
    """SELECT producing the `users` view from the sessions in `relation`."""
    r = checked(relation)
    return f"""
    SELECT user_key,
           min(user) AS user,  -- one spelling, the same whatever the row order
           list(DISTINCT domain ORDER BY domain) FILTER (WHERE domain IS NOT NULL) AS domains,
           count(*) AS sessions,
           count(*) FILTER (WHERE outcome = 'success') AS successes,
           count(*) FILTER (WHERE outcome = 'failure') AS failures,
           count(*) FILTER (WHERE outcome = 'unknown') AS unknown,
           count(*) FILTER (WHERE is_reconnect) AS reconnects,
           count(*) FILTER (WHERE admin) AS admin_sessions,
           list(DISTINCT host_key ORDER BY host_key) FILTER (WHERE host_key IS NOT NULL) AS hosts,
           count(DISTINCT host_key) AS n_hosts,
           list(DISTINCT logon_kind ORDER BY logon_kind)
               FILTER (WHERE logon_kind IS NOT NULL) AS logon_kinds,
           count(DISTINCT src_ip) AS n_src_ips,
           min(start) AS first_seen,
           max(coalesce("end", start)) AS last_seen,
           max(start) FILTER (WHERE outcome = 'failure') AS last_failure,
           bool_and(system) AS system
    FROM {r}
    GROUP BY user_key
    ORDER BY failures DESC, sessions DESC, user_key NULLS LAST
    """


def user_ips_sql(relation: str = "sessions") -> str:
    """SELECT producing the `user_ips` view (needs `_ls_ipnet(ip, ip_network)` registered)."""
    r = checked(relation)
    return f"""
    WITH per AS (
        SELECT user_key, src_ip,
               min(user) AS user,  -- one spelling, the same whatever the row order
               any_value(src_ip_class) AS src_ip_class,
               count(*) AS sessions,
               count(*) FILTER (WHERE outcome = 'success') AS successes,
               count(*) FILTER (WHERE outcome = 'failure') AS failures,
               list(DISTINCT host_key ORDER BY host_key) FILTER (WHERE host_key IS NOT NULL)
                   AS hosts,
               list(DISTINCT logon_kind ORDER BY logon_kind)
                   FILTER (WHERE logon_kind IS NOT NULL) AS logon_kinds,
               list(DISTINCT src_host ORDER BY src_host) FILTER (WHERE src_host IS NOT NULL)
                   AS src_hosts,
               min(start) AS first_seen,
               max(coalesce("end", start)) AS last_seen,
               bool_and(system) AS system
        FROM {r} GROUP BY user_key, src_ip),
    u AS (SELECT user_key, CAST(sum(sessions) AS BIGINT) AS user_sessions
          FROM per GROUP BY user_key),
    c AS (SELECT src_ip, count(DISTINCT user_key) AS case_users,
                 CAST(sum(sessions) AS BIGINT) AS case_sessions
          FROM per WHERE src_ip IS NOT NULL GROUP BY src_ip),
    t AS (SELECT CAST(sum(sessions) AS BIGINT) AS total FROM per WHERE src_ip IS NOT NULL)
    SELECT per.user_key, per.user, per.src_ip, per.src_ip_class, n.ip_network AS src_network,
           per.sessions, per.successes, per.failures, per.hosts, per.logon_kinds, per.src_hosts,
           per.first_seen, per.last_seen,
           u.user_sessions,
           per.sessions / u.user_sessions AS user_share,
           (per.src_ip IS NOT NULL AND u.user_sessions >= {RARE_MIN_SESSIONS}
            AND per.sessions / u.user_sessions <= {RARE_SHARE}) AS rare_for_user,
           coalesce(c.case_users, 0) AS case_users,
           coalesce(c.case_sessions, 0) AS case_sessions,
           CASE WHEN per.src_ip IS NOT NULL THEN c.case_sessions / t.total END AS case_share,
           per.system
    FROM per JOIN u USING (user_key) LEFT JOIN c USING (src_ip) CROSS JOIN t
    LEFT JOIN _ls_ipnet n ON n.ip = per.src_ip
    ORDER BY user_share ASC, per.user_key NULLS LAST, per.src_ip NULLS LAST
    """


def register_ip_networks(con: duckdb.DuckDBPyConnection, relation: str = "sessions") -> None:
    """Register `_ls_ipnet` (ip -> /24 or /64) for the addresses in `relation`."""
    r = checked(relation)
    ips = [
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT src_ip FROM {r} WHERE src_ip IS NOT NULL"
        ).fetchall()
    ]
    con.register("_ls_ipnet", identity.ip_class_table(ips))


def build_views(con: duckdb.DuckDBPyConnection, relation: str = "sessions") -> dict[str, pa.Table]:
    """The derived `users` and `user_ips` tables (system sessions included, flagged)."""
    register_ip_networks(con, relation)
    return {
        "users": con.sql(users_sql(relation)).to_arrow_table(),
        "user_ips": con.sql(user_ips_sql(relation)).to_arrow_table(),
    }
