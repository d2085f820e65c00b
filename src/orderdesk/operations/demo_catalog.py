"""What the demo data is made of: customers, repair work, products, notes (all fictional).

Prices are in minor units (cents). E-mail addresses are at example.com and phone numbers
in the 555-01xx range, both reserved for fiction.
"""

from __future__ import annotations

FIRST_NAMES = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sophia", "Lucas", "Isabella", "Ethan",
    "Mia", "Aiden", "Amelia", "Jackson", "Harper", "Elijah", "Evelyn", "Oliver", "Abigail",
    "Daniel", "Priya", "Wei", "Fatima", "Kwame", "Yuki", "Sofia", "Diego", "Hannah", "Omar",
    "Grace", "Rafael", "Chloe", "Andre", "Leila", "Tomasz", "Ingrid", "Malik", "Rosa", "Kenji",
    "Naomi",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Nguyen", "Patel", "Kim", "Okafor", "Kowalski",
    "Haddad", "Silva", "Chen", "Murphy", "O'Brien", "Schmidt", "Rossi", "Tanaka", "Mensah",
    "Larsen", "Dubois", "Novak", "Ibrahim", "Reyes",
]  # fmt: skip
BUSINESS_ACCOUNTS = [
    "Riverside Dental Group",
    "Maple Street Library",
    "Harbor Point Realty",
    "Blue Fern Cafe",
    "Summit Physical Therapy",
    "Oakridge Middle School",
]

# (description, unit price in cents): what a repair shop quotes and bills.
REPAIRS = [
    ("iPhone 13 screen replacement", 17900),
    ("iPhone 12 battery replacement", 8900),
    ("Samsung Galaxy S22 charging port repair", 9900),
    ("Google Pixel 7 rear camera replacement", 12900),
    ('MacBook Pro 14" battery replacement', 24900),
    ("MacBook Air keyboard replacement (liquid damage)", 32900),
    ("Dell XPS 13 hinge repair", 14900),
    ("Lenovo ThinkPad motherboard repair", 38900),
    ("iPad Air 4 glass and digitizer replacement", 21900),
    ("Nintendo Switch joy-con drift repair (pair)", 6900),
    ("PlayStation 5 HDMI port replacement", 15900),
    ("Dyson V11 motor replacement", 18900),
    ("Breville espresso machine pump replacement", 16900),
    ("KitchenAid stand mixer gearbox rebuild", 13900),
    ("Canon EOS R6 shutter replacement", 34900),
    ("Bose QC35 headband and ear-pad replacement", 7900),
    ("Garmin Fenix 6 button gasket reseal", 8900),
    ("Data recovery from failed SSD (logical)", 29900),
]
REPAIR_EXTRAS = [
    ("Diagnostic and bench test", 4900),
    ("Replacement part: OEM battery", 6900),
    ("Corrosion cleaning (ultrasonic)", 5900),
    ("Return shipping, insured", 1500),
    ("Rush service (2 business days)", 4500),
    ("Water-resistance reseal", 2900),
]
ZERO_DOLLAR_QUOTES = [
    "Diagnosis: no power, price to follow",
    "Diagnosis: liquid damage assessment, price to follow",
    "Diagnosis: intermittent display fault, price to follow",
    "Diagnosis: grinding noise from motor, price to follow",
    "Diagnosis: will not hold a charge, price to follow",
]
PRODUCTS = [
    ("Refurbished iPad 9th gen 64 GB", 24900),
    ("USB-C 65 W GaN charger", 3999),
    ("Tempered-glass screen protector (2-pack)", 1499),
    ('Laptop sleeve 14"', 2999),
    ("Refurbished MacBook Air M1 8/256", 64900),
    ("Replacement Dyson V11 battery", 8999),
    ("Bluetooth keyboard, compact", 4999),
    ("Braided USB-C cable 2 m", 1599),
    ("Espresso machine descaling kit", 1999),
    ("Refurbished Pixel 7 128 GB", 31900),
]
SHIPPING = ("Standard shipping", 899)

NOTES = [
    "Customer called; prefers updates by e-mail.",
    "Waiting on the replacement part from the supplier (about 10 business days).",
    "Left a voicemail about the authorization; will try again tomorrow.",
    "Customer asked to add return shipping insurance.",
    "Device passed the 24-hour burn-in test.",
    "Customer will be travelling until next week; ship after Monday.",
    "Found extra corrosion on the logic board; may need a revised quote.",
    "Spoke with the customer, who confirmed the delivery address.",
]
SUPERVISOR_NOTES = [
    "Reviewed with the CSR team: contact the customer before the authorization lapses.",
    "Long-standing business customer; invoicing approved.",
]
