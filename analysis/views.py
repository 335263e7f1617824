"""Summary views over sessions: `users` and `user_ips` (DESIGN 2), the outlier-IP view.

Both are plain SQL over a sessions relation so the same text serves the derived tables (all
sessions) and filtered reads (`analysis.queries` wraps the sessions in a parameterised filter
first). Successes and failures are counted apart, and rarity is computed on successful logons
only, so a brute-forcer's address with 95 failures does not look common: per user
(`user_share`: the user's successful logons from this IP / all their successful logons;
`rare_for_user`, also true for an address the user never logged on from) and per case
(`case_users`: distinct users who logged on from it; `case_share`: its share of the case's
successful logons that have an address). Where each address is, and whether its country or
ASN is new for the user (`new_country`, `new_asn`), is defined in `analysis.geo`. A user is named by their most frequent spelling in
the evidence (`administrator` over a rarer `Administrator`).

This module must not read files or import the UI; callers pass the relation to read.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from logonscope.analysis import geo
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
    "src_country",
    "src_city",
    "src_asn",
    "src_org",
    "new_country",
    "new_asn",
    "sessions",
    "successes",
    "failures",
    "hosts",
    "logon_kinds",
    "src_hosts",
    "first_seen",
    "last_seen",
    "first_logon",
    "last_logon",
    "first_failure",
    "last_failure",
    "user_logons",
    "user_share",
    "rare_for_user",
    "case_users",
    "case_logons",
    "case_share",
    "system",
)
# An IP is rare for a user when the user never logged on from it, or when it carries at most
# this share of the user's successful logons and the user has enough of them for a share to
# mean something.
RARE_SHARE = 0.10
RARE_MIN_SESSIONS = 5

# A failed network logon whose address came from an RDP connection event (RdpCoreTS 131) or
# an RDP failure (RdpCoreTS 140) is the NLA check of an RDP attempt: shown and filtered as an
# RDP (RemoteInteractive) attempt.
RDP_ATTEMPT = "(logon_kind = 'Network' AND outcome = 'failure' AND src_ip_source IN ('131', '140'))"
KIND = f"CASE WHEN {RDP_ATTEMPT} THEN 'RemoteInteractive' ELSE logon_kind END"

# Order of the `user_ips` rows: the addresses to look at first (rare, fewest logons, most
# failures) on top; sessions without an address last.
USER_IPS_ORDER = (
    "rare_for_user DESC, (new_country OR new_asn) DESC, src_ip IS NULL, user_share ASC NULLS FIRST, failures DESC,"
    " user_key NULLS LAST, src_ip NULLS LAST"
)


def checked(relation: str) -> str:
    """`relation` if it is a plain identifier (our code names relations; never user input)."""
    return require_identifier(relation)


def _names(r: str) -> str:
    """CTE body: each user_key's most frequent spelling (ties: the first in sort order)."""
    return f"""SELECT user_key, first(user ORDER BY n DESC, user) AS name
        FROM (SELECT user_key, user, count(*) AS n FROM {r} GROUP BY user_key, user)
        GROUP BY user_key"""


def users_sql(relation: str = "sessions") -> str:
    """SELECT producing the `users` view from the sessions in `relation`."""
    r = checked(relation)
    return f"""
    WITH names AS ({_names(r)})
    SELECT user_key,
           any_value(names.name) AS user,  -- the most frequent spelling
           list(DISTINCT domain ORDER BY domain) FILTER (WHERE domain IS NOT NULL) AS domains,
           count(*) AS sessions,
           count(*) FILTER (WHERE outcome = 'success') AS successes,
           count(*) FILTER (WHERE outcome = 'failure') AS failures,
           count(*) FILTER (WHERE outcome = 'unknown') AS unknown,
           count(*) FILTER (WHERE is_reconnect) AS reconnects,
           count(*) FILTER (WHERE admin) AS admin_sessions,
           list(DISTINCT host_key ORDER BY host_key) FILTER (WHERE host_key IS NOT NULL) AS hosts,
           count(DISTINCT host_key) AS n_hosts,
           list(DISTINCT {KIND} ORDER BY {KIND})
               FILTER (WHERE logon_kind IS NOT NULL) AS logon_kinds,
           count(DISTINCT src_ip) AS n_src_ips,
           min(start) AS first_seen,
           max(coalesce("end", start)) AS last_seen,
           max(start) FILTER (WHERE outcome = 'failure') AS last_failure,
           bool_and(system) AS system
    FROM {r} LEFT JOIN names USING (user_key)
    GROUP BY user_key
    ORDER BY failures DESC, sessions DESC, user_key NULLS LAST
    """


def user_ips_sql(relation: str = "sessions") -> str:
    """SELECT producing the `user_ips` view (needs `_ls_ipnet(ip, ip_network)` registered)."""
    r = checked(relation)
    return f"""
    WITH names AS ({_names(r)}),
    per AS (
        SELECT user_key, src_ip,
               any_value(names.name) AS user,  -- the most frequent spelling, as in `users`
               any_value(src_ip_class) AS src_ip_class,
               any_value(src_country) AS src_country, any_value(src_city) AS src_city,
               any_value(src_asn) AS src_asn, any_value(src_org) AS src_org,
               count(*) AS sessions,
               count(*) FILTER (WHERE outcome = 'success') AS successes,
               count(*) FILTER (WHERE outcome = 'failure') AS failures,
               list(DISTINCT host_key ORDER BY host_key) FILTER (WHERE host_key IS NOT NULL)
                   AS hosts,
               list(DISTINCT {KIND} ORDER BY {KIND})
                   FILTER (WHERE logon_kind IS NOT NULL) AS logon_kinds,
               list(DISTINCT src_host ORDER BY src_host) FILTER (WHERE src_host IS NOT NULL)
                   AS src_hosts,
               min(start) AS first_seen,
               max(coalesce("end", start)) AS last_seen,
               min(start) FILTER (WHERE outcome = 'success') AS first_logon,
               max(coalesce("end", start)) FILTER (WHERE outcome = 'success') AS last_logon,
               min(start) FILTER (WHERE outcome = 'failure') AS first_failure,
               max(start) FILTER (WHERE outcome = 'failure') AS last_failure,
               bool_and(system) AS system
        FROM {r} LEFT JOIN names USING (user_key) GROUP BY user_key, src_ip),
    u AS (SELECT user_key, CAST(sum(successes) AS BIGINT) AS user_logons
          FROM per GROUP BY user_key),
    c AS (SELECT src_ip, count(DISTINCT user_key) FILTER (WHERE successes > 0) AS case_users,
                 CAST(sum(successes) AS BIGINT) AS case_logons
          FROM per WHERE src_ip IS NOT NULL GROUP BY src_ip),
    t AS (SELECT CAST(sum(successes) AS BIGINT) AS total FROM per WHERE src_ip IS NOT NULL),
    {geo.novelty_ctes("per", "src_country", "new_country")},
    {geo.novelty_ctes("per", "src_asn", "new_asn")}
    SELECT per.user_key, per.user, per.src_ip, per.src_ip_class, n.ip_network AS src_network,
           per.src_country, per.src_city, per.src_asn, per.src_org,
           coalesce(nv_new_country.new_country, FALSE) AS new_country,
           coalesce(nv_new_asn.new_asn, FALSE) AS new_asn,
           per.sessions, per.successes, per.failures, per.hosts, per.logon_kinds, per.src_hosts,
           per.first_seen, per.last_seen, per.first_logon, per.last_logon,
           per.first_failure, per.last_failure,
           u.user_logons,
           per.successes / nullif(u.user_logons, 0) AS user_share,
           (per.src_ip IS NOT NULL AND (per.successes = 0 OR (
                u.user_logons >= {RARE_MIN_SESSIONS}
                AND per.successes / u.user_logons <= {RARE_SHARE}))) AS rare_for_user,
           coalesce(c.case_users, 0) AS case_users,
           coalesce(c.case_logons, 0) AS case_logons,
           CASE WHEN per.src_ip IS NOT NULL THEN c.case_logons / nullif(t.total, 0) END
               AS case_share,
           per.system
    FROM per JOIN u USING (user_key) LEFT JOIN c USING (src_ip) CROSS JOIN t
    LEFT JOIN _ls_ipnet n ON n.ip = per.src_ip
    {geo.novelty_join("per", "src_country", "new_country")}
    {geo.novelty_join("per", "src_asn", "new_asn")}
    ORDER BY {USER_IPS_ORDER}
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
