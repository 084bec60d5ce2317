"""Where Cody can text: Close's supported countries, the +1 zone, MMS countries."""

SUPPORTED = frozenset({"US", "CA", "GB", "DE", "AU", "FR", "BE", "DK", "IL", "PR", "ZA", "AT", "CH", "FI", "NL", "PL", "SE"})
NANP = frozenset({"US", "CA", "PR"})
MMS = frozenset({"US", "CA", "AU"})


def zone(region: str | None) -> str | None:
    """Numbers in one zone can text each other: the +1 countries share one."""
    if region in NANP:
        return "NANP"
    return region
