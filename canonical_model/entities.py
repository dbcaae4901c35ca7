"""The canonical entities: Customer, Product, Employee.

Every leaf field is classified (see :mod:`canonical_model.sensitivity`).
Repeating groups (lists of value models) become child tables in the hub store;
single nested values are flattened into columns of the entity's own table.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from canonical_model.sensitivity import (
    Criminal,
    Financial,
    FreeText,
    Internal,
    Legal,
    Medical,
    Personal,
    Public,
)
from canonical_model.values import (
    Address,
    ContactPoint,
    DateRange,
    Gtin,
    Iban,
    Money,
    PersonName,
    ValueModel,
)

#: Version of the canonical model as a whole; bumped on any change to a field.
SCHEMA_VERSION = 1

Text = Annotated[str, Field(max_length=200)]


class CanonicalRecord(BaseModel):
    """Base of the canonical entities."""

    model_config = ConfigDict(extra="forbid")

    entity_name: ClassVar[str]
    schema_version: ClassVar[int] = SCHEMA_VERSION


class Consents(ValueModel):
    """What the person agreed to; a policy rule can require a "yes" per record."""

    marketing: bool | None = None
    data_sharing: bool | None = None
    research: bool | None = None


class Customer(CanonicalRecord):
    """A person or organisation that buys from us (CRM, accounting, support desk)."""

    entity_name: ClassVar[str] = "customer"

    customer_number: Internal[Text | None] = None
    name: Personal[PersonName]
    birth_date: Personal[date | None] = None
    contact: Personal[ContactPoint | None] = None
    address: Personal[Address | None] = None
    segment: Internal[Literal["key_account", "standard", "occasional"] | None] = None
    credit_limit: Financial[Money | None] = None
    #: Staff type anything here, a customer's illness or court case included.
    notes: Personal[FreeText[Annotated[str, Field(max_length=2000)]] | None] = None
    consents: Internal[Consents | None] = None


class StockLevel(ValueModel):
    """Quantity of a product held at one warehouse."""

    warehouse: Annotated[str, Field(min_length=1, max_length=20)]
    quantity: Annotated[int, Field(ge=0)]


class Product(CanonicalRecord):
    """An item we stock or sell (inventory, ERP, web shop)."""

    entity_name: ClassVar[str] = "product"

    sku: Public[Annotated[str, Field(min_length=1, max_length=40)]]
    gtin: Public[Gtin | None] = None
    name: Public[Text]
    category: Internal[Annotated[str, Field(max_length=40)] | None] = None
    unit_price: Public[Money | None] = None
    unit_of_measure: Public[Literal["PCS", "BOX", "KG", "L", "M"] | None] = None
    weight_kg: Public[Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=3)] | None] = None
    stock_levels: Internal[list[StockLevel]] = []


class Employment(ValueModel):
    """Where and since when someone works for us."""

    hire_date: date
    department: Annotated[str | None, Field(max_length=100)] = None
    job_title: Annotated[str | None, Field(max_length=100)] = None


class SickLeave(ValueModel):
    """One period of certified or self-declared sick leave."""

    period: DateRange
    diagnosis_code: Annotated[str | None, Field(pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")] = None
    certified: bool = False


class BackgroundCheck(ValueModel):
    """Outcome of a criminal-record check."""

    outcome: Literal["clear", "record_found", "pending"]
    checked_on: date


class LitigationHold(ValueModel):
    """A legal hold: the employee's records must be preserved for a matter."""

    matter_ref: Annotated[str, Field(min_length=1, max_length=40)]
    since: date
    active: bool = True


class Garnishment(ValueModel):
    """A court order to withhold part of the employee's pay."""

    court_order_ref: Annotated[str, Field(min_length=1, max_length=40)]
    amount: Money
    since: date


class Employee(CanonicalRecord):
    """A person employed by the organisation (HR, payroll, access control)."""

    entity_name: ClassVar[str] = "employee"

    employee_number: Internal[Annotated[str, Field(min_length=1, max_length=40)]]
    name: Personal[PersonName]
    birth_date: Personal[date | None] = None
    contact: Personal[ContactPoint | None] = None
    home_address: Personal[Address | None] = None
    employment: Internal[Employment | None] = None
    salary: Financial[Money | None] = None
    bank_account_iban: Financial[Iban | None] = None
    occupational_health_restrictions: Medical[FreeText[Annotated[str, Field(max_length=500)]] | None] = None
    sick_leave: Medical[list[SickLeave]] = []
    background_check: Criminal[BackgroundCheck | None] = None
    litigation_hold: Legal[LitigationHold | None] = None
    garnishments: Legal[list[Garnishment]] = []


#: Every canonical entity by its name.
ENTITIES: dict[str, type[CanonicalRecord]] = {
    model.entity_name: model for model in (Customer, Product, Employee)
}
