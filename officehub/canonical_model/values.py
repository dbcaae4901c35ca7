"""Shared value types: the small building blocks every entity reuses.

Value types carry no sensitivity of their own: the field that holds one decides
(an address is personal on a customer, public on a warehouse).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

#: schwifty's reasons by exception, in words that never quote the value (some of its messages do).
_IBAN_REASONS = {"InvalidLength": "wrong length for its country's IBANs",
                 "InvalidStructure": "not the format of its country's IBANs",
                 "InvalidChecksumDigits": "IBAN check digits do not match",
                 "InvalidCountryCode": "not a country that issues IBANs",
                 "InvalidBBANChecksum": "the national account checksum does not match"}


# pycountry carries the ISO 3166 standard itself, schwifty the IBAN registry. Both are read
# the first time a value is checked, so a process that checks none (a CLI listing runs, a
# publish) does not hold their data.
@cache
def _countries() -> frozenset[str]:
    import pycountry

    return frozenset(country.alpha_2 for country in pycountry.countries)


def _known_country(code: str) -> str:
    if code not in _countries():
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return code


@cache
def _subdivisions() -> frozenset[str]:
    import pycountry

    return frozenset(subdivision.code for subdivision in pycountry.subdivisions)


def _known_subdivision(code: str) -> str:
    if code not in _subdivisions():
        raise ValueError("not an ISO 3166-2 subdivision code")
    return code


def _gs1_check_digit_ok(code: str) -> str:
    digits = [int(c) for c in code]
    weights = [3 if i % 2 == 0 else 1 for i in range(len(digits) - 1)]
    total = sum(d * w for d, w in zip(reversed(digits[:-1]), weights))
    if (10 - total % 10) % 10 != digits[-1]:
        raise ValueError("GTIN check digit does not match")
    return code


def _iban_ok(code: str) -> str:
    """Length, structure and check digits as the IBAN registry sets them for the code's country (schwifty)."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        IBAN(code)
    except SchwiftyException as exc:
        raise ValueError(_IBAN_REASONS.get(type(exc).__name__, "not a valid IBAN")) from None
    return code


# The words `model fields` shows for each check. A function takes attributes at run time;
# the type checker's function type declares none, hence the ignores.
_known_country.label = "known ISO 3166-1 country"  # type: ignore[attr-defined]
_gs1_check_digit_ok.label = "GS1 check digit"  # type: ignore[attr-defined]
_known_subdivision.label = "known ISO 3166-2 subdivision"  # type: ignore[attr-defined]
_iban_ok.label = "IBAN of its country's length, format and check digits (schwifty)"  # type: ignore[attr-defined]

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(_known_country)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
E164Phone = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]
Gtin = Annotated[str, Field(pattern=r"^[0-9]{8}$|^[0-9]{12,14}$"), AfterValidator(_gs1_check_digit_ok)]
SubdivisionCode = Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$"), AfterValidator(_known_subdivision)]
Iban = Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"), AfterValidator(_iban_ok)]
Amount = Annotated[Decimal, Field(max_digits=18, decimal_places=2)]


class ValueModel(BaseModel):
    """Base of value types: immutable and strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PersonName(ValueModel):
    """A person's name as back-office systems store it; ``middle`` holds a middle name or patronymic.

    A name needs a first or a last name, not both: one system keeps only a given name, another
    lost a surname, some people have one name. Such a record is kept and matched on what it has.
    """

    first: Annotated[str | None, Field(max_length=100)] = None
    middle: Annotated[str | None, Field(max_length=100)] = None
    last: Annotated[str | None, Field(min_length=1, max_length=100)] = None

    @model_validator(mode="after")
    def _first_or_last(self) -> PersonName:
        if self.first is None and self.last is None:
            raise ValueError("a name needs a first or a last name")
        return self


class Address(ValueModel):
    """A postal address."""

    street: Annotated[str | None, Field(max_length=200)] = None
    city: Annotated[str | None, Field(max_length=100)] = None
    postal_code: Annotated[str | None, Field(max_length=20)] = None
    country: CountryCode | None = None


class ContactPoint(ValueModel):
    """How to reach someone: e-mail and phone (E.164)."""

    email: EmailStr | None = None
    phone: E164Phone | None = None


class Money(ValueModel):
    """An amount in a currency (ISO 4217)."""

    amount: Amount
    currency: CurrencyCode


class DateRange(ValueModel):
    """A closed or open-ended period of days."""

    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _end_not_before_start(self) -> DateRange:
        if self.end is not None and self.end < self.start:
            raise ValueError("period ends before it starts")
        return self
