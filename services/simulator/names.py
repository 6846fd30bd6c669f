"""Names for people, companies and products: fixed lists, so a seed always gives the same names."""

from __future__ import annotations

import random

FIRST_NAMES = (
    "Ada", "Grace", "Linus", "Sam", "Maya", "Omar", "Lena", "Jonas", "Priya", "Tomás", "Yuki", "Chloé",
    "Noah", "Amara", "Felix", "Ines", "Kwame", "Sofia", "Ravi", "Hannah", "Mateo", "Elif", "Jakob",
    "Zara", "Luca", "Freya", "Diego", "Aisha", "Nils", "Mei",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Hopper", "Berg", "Okafor", "Schmidt", "Haddad", "Novak", "Rossi", "Tanaka", "Dubois",
    "Silva", "Kowalski", "Nakamura", "Andersson", "Fischer", "Mensah", "García", "Yilmaz", "Patel",
    "Jensen", "Moreau", "Costa", "Ivanova", "Brennan", "Lindqvist", "Kaur", "Weber", "Sato",
)  # fmt: skip
COMPANY_STEMS = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Cyberdyne",
    "Tyrell", "Nakatomi", "Wonka", "Aperture", "Gringotts", "Monarch", "Oscorp", "Dunder", "Pied Piper",
    "Massive", "Blue Sun", "Vehement", "Sirius", "Rekall", "Zorg", "Octan", "Gekko", "Oceanic",
)  # fmt: skip
COMPANY_TRADES = (
    "Robotics", "Logistics", "Health", "Foods", "Energy", "Analytics", "Retail", "Labs", "Motors",
    "Insurance", "Textiles", "Media", "Pharma", "Builders", "Airlines", "Software",
)  # fmt: skip
COMPANY_FORMS = ("GmbH", "Ltd", "Inc.", "SA", "BV", "AB", "KK", "Pty Ltd", "S.p.A.", "LLC")

PRODUCTS = {
    "sku-core-starter": 0.35,
    "sku-core-pro": 0.40,
    "sku-core-enterprise": 0.25,
}
"""The core edition every deal includes one of."""
ADD_ONS = ("sku-analytics", "sku-sap-connector", "sku-mobile", "sku-support-plus", "sku-sso")

PAIN_POINTS = (
    "Forecasts built by hand in spreadsheets",
    "No view of pipeline by stage",
    "Commission disputes every month",
    "Reps spend hours on admin",
    "Leads go stale without follow-up",
    "Territories overlap between teams",
    "Quota setting takes weeks",
    "No single customer record",
)
REQUIREMENTS = (
    "SSO with the corporate identity provider",
    "Data residency in the EU",
    "CRM integration",
    "Audit trail of changes",
    "Mobile access for field reps",
    "Payroll export",
)
DECISION_MAKERS = ("CFO", "CRO", "VP Sales", "COO", "Head of RevOps", "CEO")
COMPETITORS = ("Xactly", "Varicent", "CaptivateIQ", "Spiff", "in-house spreadsheets")
TRAINING_MODULES = {
    "lms-onboarding-product": "Product fundamentals",
    "lms-onboarding-process": "Our sales process",
    "lms-onboarding-crm": "CRM hygiene",
    "lms-bant": "Qualifying with BANT",
    "lms-discovery": "Discovery calls",
    "lms-objections": "Handling objections",
    "lms-negotiation": "Negotiation",
    "lms-social-selling": "Social selling",
    "lms-forecasting": "Forecasting accurately",
}


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_STEMS)} {rng.choice(COMPANY_TRADES)} {rng.choice(COMPANY_FORMS)}"


def products(rng: random.Random, segment: str) -> list[str]:
    """A core edition plus add-ons (more of them for larger customers)."""
    core = rng.choices(list(PRODUCTS), weights=list(PRODUCTS.values()))[0]
    extra = {"smb": 0, "mid_market": 1, "enterprise": 3}[segment]
    return [core, *rng.sample(ADD_ONS, rng.randint(0, extra))]
