"""Pure rules of the token-health pages."""
from dataclasses import dataclass


@dataclass(frozen=True)
class ConsentGroup:
    """Profiles that one consent on the network renews together; `renew`:
    the one whose Renew Token starts it (the first the person may renew),
    or None."""

    items: tuple
    renew: object


def consent_groups(items, one_consent_for_many):
    """"Try renewing all"'s profiles that need a consent, by grant: where one
    person's consent renews every profile of theirs it covers
    (`one_consent_for_many`), the rows whose current credential one person
    granted share one group, in the order they came; elsewhere, and for a
    row without a grant or a profile known only by its name (a string),
    each is its own group."""
    groups, by_grant = [], {}
    for item in items:
        credential = getattr(item, "credential", None)
        grantor = credential.granted_by_id if credential is not None else None
        if one_consent_for_many and grantor is not None:
            if grantor not in by_grant:
                by_grant[grantor] = []
                groups.append(by_grant[grantor])
            by_grant[grantor].append(item)
        else:
            groups.append([item])
    return [ConsentGroup(tuple(group), next((item for item in group if getattr(item, "renew", None)), None))
            for group in groups]
