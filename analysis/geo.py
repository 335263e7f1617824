"""Where each source address is, and which places are new for a user.

Sessions carry `src_country`, `src_city`, `src_asn`, `src_org`: filled once per build for the
case's distinct public addresses from the `.mmdb` databases the user supplied
(`storage.geoip`), blank without one. Private, loopback, link-local, CGNAT and multicast
addresses are never located; `src_ip_class` (`storage.identity.ip_class`) names them.

`user_ips` adds two flags, `new_country` and `new_asn`: an address is flagged when its country
(or ASN) is *new for that user*, meaning the user's first session of any outcome from that
country came strictly after the user's first successful logon from a different country. The
first country a user logs on from is never new; every address in a new country is flagged
(a second address there is as odd as the first); a user with no successful logon from a
located address has nothing to compare with and nothing flagged. Both are counted over the
sessions the summary covers (the current filters, like rarity).

This module builds SQL text and calls storage for the lookup; it does not read files itself
and must not import the UI.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from logonscope.storage import geoip
from logonscope.storage.vocabulary import require_identifier

COLUMNS = ("src_country", "src_city", "src_asn", "src_org")
FLAGS = ("new_country", "new_asn")


def register_places(
    con: duckdb.DuckDBPyConnection, relation: str, dbs: Iterable[geoip.Database]
) -> int:
    """Register `_ls_geo` (ip, country, city, asn, org) for the addresses in `relation`;
    returns how many were located."""
    r = require_identifier(relation)
    dbs = list(dbs)
    if dbs:
        ips = [
            row[0]
            for row in con.execute(
                f"SELECT DISTINCT src_ip FROM {r} WHERE src_ip IS NOT NULL"
            ).fetchall()
        ]
    else:
        ips = []
    table = geoip.lookup(ips, dbs)
    con.register("_ls_geo", table)
    return int(table.num_rows)


def located_sql(relation: str) -> str:
    """SELECT of `relation`'s sessions with the address columns from `_ls_geo`."""
    r = require_identifier(relation)
    return f"""SELECT s.* REPLACE (g.country AS src_country, g.city AS src_city,
                                   g.asn AS src_asn, g.org AS src_org)
               FROM {r} s LEFT JOIN _ls_geo g ON g.ip = s.src_ip"""


def novelty_ctes(per: str, column: str, flag: str) -> str:
    """CTEs `nv_<flag>_seen` and `nv_<flag>` (user_key, v, <flag>) over the per user+address rows
    `per` (with first_seen, first_logon): is `column`'s value new for the user (see above)."""
    p, c, f = require_identifier(per), require_identifier(column), require_identifier(flag)
    return f"""nv_{f}_seen AS (
        SELECT user_key, {c} AS v, min(first_seen) AS seen, min(first_logon) AS logon
        FROM {p} WHERE {c} IS NOT NULL GROUP BY user_key, {c}),
    nv_{f} AS (
        SELECT a.user_key, a.v, coalesce(bool_or(b.logon < a.seen), FALSE) AS {f}
        FROM nv_{f}_seen a JOIN nv_{f}_seen b
          ON a.user_key IS NOT DISTINCT FROM b.user_key AND a.v <> b.v
        GROUP BY a.user_key, a.v)"""


def novelty_join(per: str, column: str, flag: str) -> str:
    """The LEFT JOIN that brings `nv_<flag>.<flag>` to the `per` rows."""
    p, c, f = require_identifier(per), require_identifier(column), require_identifier(flag)
    return (
        f"LEFT JOIN nv_{f} ON nv_{f}.user_key IS NOT DISTINCT FROM {p}.user_key"
        f" AND nv_{f}.v = {p}.{c}"
    )
