"""The register of legal bases: the grounds on which medical, criminal or legal data may leave the hub.

A rule that releases a special category cites one of these by id, and the destination's
agreement lists the ids it accepts. The built-in entries are the GDPR Art. 9(2) grounds
for special categories, the Art. 10 grounds for criminal data and the HIPAA permitted
uses and disclosures; a policy document adds the project's own under ``legal_bases:``
(a national law, a collective agreement, a court order's statute).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, field_validator

from officehub.canonical_model import Sensitivity

#: Register ids are short, lower-case and stable: they are cited by rules and agreements.
BASIS_ID = r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$"

MEDICAL, CRIMINAL, LEGAL = Sensitivity.MEDICAL, Sensitivity.CRIMINAL, Sensitivity.LEGAL


class LegalBasis(BaseModel):
    """One ground in the register: which special categories it can cover, and the law it rests on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=BASIS_ID, description="cited by rules and agreements, e.g. gdpr-9-2-h")
    title: str = Field(min_length=3)
    classes: tuple[Sensitivity, ...] = Field(min_length=1, description="medical, criminal and/or legal")
    reference: str = Field(min_length=3, description="the article, national law or contract it rests on")

    @field_validator("classes", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("classes")
    @classmethod
    def _special_only(cls, value: tuple[Sensitivity, ...]) -> tuple[Sensitivity, ...]:
        # Other classes need no basis from the register: the agreement's own basis covers them.
        ordinary = [c.value for c in value if not c.is_special_category]
        if ordinary:
            raise ValueError(f"a legal basis covers medical, criminal or legal data, not {', '.join(ordinary)}")
        return value

    def covers(self, sensitivity: Sensitivity) -> bool:
        """True when this ground can justify releasing data of class ``sensitivity``."""
        return sensitivity in self.classes


def _b(basis_id: str, title: str, classes: tuple[Sensitivity, ...], reference: str) -> LegalBasis:
    return LegalBasis(id=basis_id, title=title, classes=classes, reference=reference)


_GDPR_9 = "GDPR Art. 9(2)"
_HIPAA = "45 CFR"

#: The built-in grounds. Legal-class data (litigation holds, garnishments) is covered by the
#: grounds that concern legal claims, employment obligations and public interest in law.
BUILT_IN: tuple[LegalBasis, ...] = (
    _b("gdpr-9-2-a", "Explicit consent of the data subject", (MEDICAL,), f"{_GDPR_9}(a)"),
    _b("gdpr-9-2-b", "Obligations and rights in employment, social security and social protection law",
       (MEDICAL, LEGAL), f"{_GDPR_9}(b)"),
    _b("gdpr-9-2-c", "Vital interests of a person unable to give consent", (MEDICAL,), f"{_GDPR_9}(c)"),
    _b("gdpr-9-2-d", "Members of a not-for-profit body, within its legitimate activities", (MEDICAL,),
       f"{_GDPR_9}(d)"),
    _b("gdpr-9-2-e", "Data manifestly made public by the data subject", (MEDICAL,), f"{_GDPR_9}(e)"),
    _b("gdpr-9-2-f", "Establishment, exercise or defence of legal claims; courts acting judicially",
       (MEDICAL, LEGAL), f"{_GDPR_9}(f)"),
    _b("gdpr-9-2-g", "Substantial public interest on the basis of Union or Member State law", (MEDICAL, LEGAL),
       f"{_GDPR_9}(g)"),
    _b("gdpr-9-2-h", "Preventive or occupational medicine, working capacity, health or social care", (MEDICAL,),
       f"{_GDPR_9}(h)"),
    _b("gdpr-9-2-i", "Public interest in public health", (MEDICAL,), f"{_GDPR_9}(i)"),
    _b("gdpr-9-2-j", "Archiving in the public interest, scientific or historical research, statistics",
       (MEDICAL,), f"{_GDPR_9}(j) with Art. 89(1)"),
    _b("gdpr-10-official-authority", "Processing under the control of official authority", (CRIMINAL,),
       "GDPR Art. 10"),
    _b("gdpr-10-authorised-by-law", "Authorised by Union or Member State law with safeguards", (CRIMINAL,),
       "GDPR Art. 10"),
    _b("hipaa-164-506-treatment", "Treatment", (MEDICAL,), f"{_HIPAA} 164.506(c)"),
    _b("hipaa-164-506-payment", "Payment", (MEDICAL,), f"{_HIPAA} 164.506(c)"),
    _b("hipaa-164-506-operations", "Health care operations", (MEDICAL,), f"{_HIPAA} 164.506(c)"),
    _b("hipaa-164-508-authorization", "A valid authorization signed by the individual", (MEDICAL,),
       f"{_HIPAA} 164.508"),
    _b("hipaa-164-512-a", "Required by law", (MEDICAL,), f"{_HIPAA} 164.512(a)"),
    _b("hipaa-164-512-b", "Public health activities", (MEDICAL,), f"{_HIPAA} 164.512(b)"),
    _b("hipaa-164-512-c", "Victims of abuse, neglect or domestic violence", (MEDICAL,), f"{_HIPAA} 164.512(c)"),
    _b("hipaa-164-512-d", "Health oversight activities", (MEDICAL,), f"{_HIPAA} 164.512(d)"),
    _b("hipaa-164-512-e", "Judicial and administrative proceedings", (MEDICAL,), f"{_HIPAA} 164.512(e)"),
    _b("hipaa-164-512-f", "Law enforcement purposes", (MEDICAL,), f"{_HIPAA} 164.512(f)"),
    _b("hipaa-164-512-g", "Coroners, medical examiners and funeral directors", (MEDICAL,), f"{_HIPAA} 164.512(g)"),
    _b("hipaa-164-512-h", "Cadaveric organ, eye or tissue donation", (MEDICAL,), f"{_HIPAA} 164.512(h)"),
    _b("hipaa-164-512-i", "Research with a waiver of authorization", (MEDICAL,), f"{_HIPAA} 164.512(i)"),
    _b("hipaa-164-512-j", "Averting a serious threat to health or safety", (MEDICAL,), f"{_HIPAA} 164.512(j)"),
    _b("hipaa-164-512-k", "Specialized government functions", (MEDICAL,), f"{_HIPAA} 164.512(k)"),
    _b("hipaa-164-512-l", "Workers' compensation", (MEDICAL,), f"{_HIPAA} 164.512(l)"),
)


@dataclass(frozen=True)
class Register:
    """The built-in grounds plus those a project declares, by id."""

    bases: Mapping[str, LegalBasis] = field(default_factory=lambda: {b.id: b for b in BUILT_IN})

    def get(self, basis_id: str | None) -> LegalBasis | None:
        """The basis with this id, or None when the register has none."""
        return self.bases.get(basis_id) if basis_id else None

    def __contains__(self, basis_id: object) -> bool:
        return basis_id in self.bases

    def __iter__(self) -> Iterator[LegalBasis]:
        return iter(self.bases.values())


def register(declared: Iterable[LegalBasis] = ()) -> Register:
    """The register with the project's declared bases joined; a clash with a built-in id keeps the built-in."""
    bases = {b.id: b for b in declared}
    bases.update({b.id: b for b in BUILT_IN})  # a declaration never redefines GDPR or HIPAA
    return Register(bases)


def is_built_in(basis_id: str) -> bool:
    """True for the GDPR and HIPAA grounds that ship with officehub."""
    return any(b.id == basis_id for b in BUILT_IN)
