"""Where Cody can text: Close's supported countries, the +1 zone, the +44 zone, MMS countries."""

NANP = frozenset({"US", "CA", "PR"})
# Guernsey, Jersey and the Isle of Man are in the UK's numbering plan (+44 7781..., +44 7797..., +44 7624...): a
# British line texts them as it texts the UK.
UK_PLAN = frozenset({"GB", "GG", "JE", "IM"})
SUPPORTED = frozenset({"US", "CA", "DE", "AU", "FR", "BE", "DK", "IL", "PR", "ZA", "AT", "CH", "FI", "NL", "PL", "SE"}
                      | UK_PLAN)
MMS = frozenset({"US", "CA", "AU"})


def zone(region: str | None) -> str | None:
    """Numbers in one zone can text each other: the +1 countries share one, as do the +44 ones."""
    if region in NANP:
        return "NANP"
    if region in UK_PLAN:
        return "GB"
    return region
