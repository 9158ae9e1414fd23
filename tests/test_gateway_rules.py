"""The rules a gateway puts in /auth/check's query: parsed once per query string, refused when
they could be a typo, and matched on the user's groups, email and domain."""

import pytest

from api.auth.gateway_rules import EVERYONE, InvalidRule, access_rule

ADMINS = frozenset({"admins"})


def allows(
    query: str,
    email: str = "ann@corp.example",
    *,
    verified: bool = True,
    groups: frozenset[str] = ADMINS,
) -> bool:
    return access_rule(query).allows(email=email, verified=verified, groups=groups)


@pytest.mark.parametrize(
    ("query", "allowed"),
    [
        ("", True),
        ("group=admins", True),
        ("group=ops", False),
        ("group=ops,admins", True),
        ("group=ops&group=admins", True),
        ("email=ann@corp.example", True),
        ("email=Ann@Corp.Example", True),
        ("email=bob@corp.example", False),
        ("domain=corp.example", True),
        ("domain=*.corp.example", False),
        ("domain=other.example,corp.example", True),
        ("group=admins&domain=other.example", False),  # every kind must match
        ("group=admins&email=ann@corp.example&domain=corp.example", True),
    ],
)
def test_a_rule_matches_any_of_a_kind_and_every_kind(query: str, allowed: bool) -> None:
    assert allows(query) is allowed


def test_an_unverified_email_never_matches_email_or_domain_but_groups_still_count() -> None:
    assert not allows("email=ann@corp.example", verified=False)
    assert not allows("domain=corp.example", verified=False)
    assert allows("group=admins", verified=False)


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("grp=admins", "unknown parameter 'grp'"),
        ("group=", "group has an empty value"),
        ("group=admins,", "group has an empty value"),
        ("email=", "email has an empty value"),
        ("group=Admins", "group 'Admins' is not a group name"),
        ("email=ann", "'ann' is not an email address"),
        ("domain=*", "'*' is not a domain"),
        ("group", "the query string is malformed"),
    ],
)
def test_a_query_that_could_be_a_typo_is_refused(query: str, said: str) -> None:
    with pytest.raises(InvalidRule) as refused:
        access_rule(query)

    assert said in str(refused.value)


def test_each_query_string_is_parsed_once() -> None:
    assert access_rule("group=admins") is access_rule("group=admins")
    assert access_rule("") is EVERYONE
