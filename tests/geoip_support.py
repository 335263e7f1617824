"""Tiny `.mmdb` databases for the --geoip / --asn tests, written with `mmdb-writer`.

They place the `new-country` scenario's usual addresses in Sweden (one ASN) and its odd
address in China (another ASN), in the record layouts of GeoLite2-City and GeoLite2-ASN.
"""

from __future__ import annotations

from pathlib import Path

from logonscope.storage.scenarios import travel

USUAL_NET, ODD_NET = "89.160.20.0/24", "175.16.199.0/24"
USUAL_ASN, ODD_ASN = 29518, 4837
USUAL_ORG, ODD_ORG = "Bredband2 AB", "CHINA UNICOM China169 Backbone"


def _write(path: Path, kind: str, records: dict[str, dict]) -> Path:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=kind)
    for network, record in records.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


def city_db(path: Path, odd_country: str = "CN") -> Path:
    """GeoLite2-City-shaped: country.iso_code, city.names.en."""
    return _write(
        path,
        "GeoLite2-City",
        {
            USUAL_NET: {
                "country": {"iso_code": "SE", "names": {"en": "Sweden"}},
                "city": {"names": {"en": "Linköping"}},
            },
            ODD_NET: {
                "country": {"iso_code": odd_country, "names": {"en": "Elsewhere"}},
                "city": {"names": {"en": "Changchun"}},
            },
        },
    )


def asn_db(path: Path) -> Path:
    """GeoLite2-ASN-shaped: autonomous_system_number and _organization."""
    return _write(
        path,
        "GeoLite2-ASN",
        {
            USUAL_NET: {
                "autonomous_system_number": USUAL_ASN,
                "autonomous_system_organization": USUAL_ORG,
            },
            ODD_NET: {
                "autonomous_system_number": ODD_ASN,
                "autonomous_system_organization": ODD_ORG,
            },
        },
    )


assert travel.ODD_IP.startswith("175.16.199.") and all(
    ip.startswith("89.160.20.") for ip in travel.USUAL_IPS
)
