"""The fixed world the demo customers live in: places, channels, catalogue, calendar shocks, names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate


def cumulative(weights: list[float]) -> list[float]:
    return list(accumulate(weights))


@dataclass(frozen=True)
class Country:
    name: str
    weight: float
    late_rate: float  # share of deliveries that miss the promised date in a normal week
    transit_days: tuple[int, int]  # promised delivery window after ordering
    cities: tuple[str, ...]
    email_domains: tuple[str, ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        "France",
        0.26,
        0.07,
        (2, 4),
        ("Paris", "Lyon", "Marseille", "Toulouse", "Lille", "Bordeaux", "Nantes", "Strasbourg"),
        ("orange.fr", "free.fr", "gmail.com", "laposte.net"),
    ),
    Country(
        "Germany",
        0.20,
        0.05,
        (2, 3),
        ("Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Leipzig"),
        ("web.de", "gmx.de", "gmail.com", "t-online.de"),
    ),
    Country(
        "United Kingdom",
        0.16,
        0.12,
        (3, 5),
        ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol", "Edinburgh"),
        ("gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk"),
    ),
    Country(
        "Spain",
        0.11,
        0.15,
        (3, 5),
        ("Madrid", "Barcelona", "Valencia", "Seville", "Bilbao", "Malaga"),
        ("gmail.com", "hotmail.es", "telefonica.net"),
    ),
    Country(
        "Italy",
        0.10,
        0.17,
        (3, 6),
        ("Milan", "Rome", "Turin", "Naples", "Bologna", "Florence"),
        ("gmail.com", "libero.it", "virgilio.it"),
    ),
    Country(
        "Netherlands",
        0.08,
        0.05,
        (1, 3),
        ("Amsterdam", "Rotterdam", "Utrecht", "The Hague", "Eindhoven"),
        ("gmail.com", "ziggo.nl", "kpnmail.nl"),
    ),
    Country(
        "Belgium",
        0.05,
        0.08,
        (2, 4),
        ("Brussels", "Antwerp", "Ghent", "Liege", "Bruges"),
        ("gmail.com", "skynet.be", "telenet.be"),
    ),
    Country(
        "Ireland",
        0.04,
        0.13,
        (3, 5),
        ("Dublin", "Cork", "Galway", "Limerick"),
        ("gmail.com", "eircom.net", "outlook.com"),
    ),
)
COUNTRY_WEIGHTS = cumulative([c.weight for c in COUNTRIES])


@dataclass(frozen=True)
class AcquisitionChannel:
    name: str
    weight: float
    hazard_factor: float  # multiplies the base weekly churn hazard
    price_sensitivity_shift: float


ACQUISITION_CHANNELS: tuple[AcquisitionChannel, ...] = (
    AcquisitionChannel("organic_search", 0.27, 0.9, 0.00),
    AcquisitionChannel("paid_search", 0.20, 1.1, 0.05),
    AcquisitionChannel("social", 0.17, 1.35, 0.08),
    AcquisitionChannel("referral", 0.12, 0.7, -0.05),
    AcquisitionChannel("email", 0.08, 0.85, 0.00),
    AcquisitionChannel("affiliate", 0.09, 1.3, 0.18),
    AcquisitionChannel("marketplace", 0.07, 1.2, 0.12),
)
ACQUISITION_WEIGHTS = cumulative([c.weight for c in ACQUISITION_CHANNELS])


SEGMENTS = ("bronze", "silver", "gold", "platinum")
# Loyalty tiers by expected yearly spend at sign-up (EUR): thresholds chosen so that roughly
# 45 % / 30 % / 18 % / 7 % of customers fall in each tier.
SEGMENT_SPEND_THRESHOLDS = (0.0, 335.0, 570.0, 980.0)
SEGMENT_HAZARD_FACTOR = {"bronze": 1.15, "silver": 1.0, "gold": 0.85, "platinum": 0.7}


@dataclass(frozen=True)
class Category:
    name: str
    weight: float
    median_price: float
    apparel: bool  # sizing matters, so fit problems and returns happen
    products: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "dresses",
        0.14,
        59.0,
        True,
        ("wrap dress", "linen midi dress", "knit dress", "shirt dress", "maxi dress", "slip dress"),
    ),
    Category(
        "tops",
        0.16,
        29.0,
        True,
        ("cotton t-shirt", "silk blouse", "striped top", "tank top", "oversized shirt", "cropped cardigan"),
    ),
    Category(
        "knitwear", 0.09, 69.0, True, ("merino jumper", "cashmere sweater", "cable-knit cardigan", "roll-neck sweater")
    ),
    Category(
        "jeans", 0.10, 64.0, True, ("slim jeans", "wide-leg jeans", "straight jeans", "mom jeans", "bootcut jeans")
    ),
    Category(
        "outerwear", 0.06, 129.0, True, ("wool coat", "rain jacket", "puffer jacket", "trench coat", "denim jacket")
    ),
    Category(
        "shoes", 0.10, 79.0, True, ("leather sneakers", "ankle boots", "ballet flats", "running shoes", "sandals")
    ),
    Category(
        "accessories", 0.09, 24.0, False, ("leather belt", "silk scarf", "canvas tote", "wool beanie", "sunglasses")
    ),
    Category("lingerie", 0.06, 22.0, True, ("cotton briefs", "lace bra", "pyjama set", "socks pack")),
    Category(
        "home",
        0.08,
        39.0,
        False,
        ("linen bedding set", "bath towels", "scented candle", "throw blanket", "ceramic mug set"),
    ),
    Category("beauty", 0.07, 19.0, False, ("face serum", "hand cream", "lip balm set", "shampoo bar", "body lotion")),
    Category("kids", 0.05, 25.0, True, ("kids hoodie", "baby bodysuit pack", "kids rain boots", "school backpack")),
)
CATEGORY_WEIGHTS = cumulative([c.weight for c in CATEGORIES])
PRODUCTS_PER_NAME = 6  # colour/style variants per product name, each its own product_id


@dataclass(frozen=True)
class Calendar:
    """Shop-wide events, fixed relative to the as-of date so every demo has the same story."""

    start: datetime
    as_of: datetime
    price_rises: tuple[tuple[datetime, float], ...]  # (date, fractional rise of all list prices)
    competitor_start: datetime  # a cheaper competitor launches a campaign
    competitor_end: datetime
    carrier_trouble_start: datetime  # the main carrier struggles: late deliveries more than double
    carrier_trouble_end: datetime
    support_backlog_start: datetime  # support understaffed: fewer tickets resolved, more slowly
    support_backlog_end: datetime

    @classmethod
    def for_as_of(cls, as_of: datetime, years: float = 3.0) -> Calendar:
        start = as_of - timedelta(days=round(365 * years))
        return cls(
            start=start,
            as_of=as_of,
            price_rises=((as_of - timedelta(days=640), 0.07), (as_of - timedelta(days=300), 0.09)),
            competitor_start=as_of - timedelta(days=210),
            competitor_end=as_of - timedelta(days=60),
            carrier_trouble_start=as_of - timedelta(days=430),
            carrier_trouble_end=as_of - timedelta(days=340),
            support_backlog_start=as_of - timedelta(days=150),
            support_backlog_end=as_of - timedelta(days=95),
        )

    def price_index(self, at: datetime) -> float:
        index = 1.0
        for when, rise in self.price_rises:
            if at >= when:
                index *= 1.0 + rise
        return index

    def boundaries(self) -> tuple[datetime, ...]:
        """Dates at which hazards change for everyone; the simulation never steps across one."""
        dates = [d for d, _ in self.price_rises]
        dates += [self.competitor_start, self.competitor_end]
        return tuple(sorted(dates))


FIRST_NAMES = (
    "Emma",
    "Louise",
    "Chloe",
    "Lea",
    "Manon",
    "Camille",
    "Sarah",
    "Julie",
    "Hannah",
    "Mia",
    "Lena",
    "Sophie",
    "Anna",
    "Laura",
    "Olivia",
    "Amelia",
    "Isla",
    "Grace",
    "Lucia",
    "Sofia",
    "Martina",
    "Giulia",
    "Chiara",
    "Fleur",
    "Sanne",
    "Eva",
    "Aoife",
    "Siobhan",
    "Nora",
    "Ines",
    "Claire",
    "Alice",
    "Maya",
    "Zoe",
    "Elena",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Leon",
    "Paul",
    "Jonas",
    "Felix",
    "Oliver",
    "Harry",
    "Jack",
    "George",
    "Pablo",
    "Hugo",
    "Alejandro",
    "Marco",
    "Luca",
    "Matteo",
    "Daan",
    "Sem",
    "Liam",
    "Sean",
    "Conor",
    "Noah",
    "Adam",
    "Thomas",
    "Nathan",
    "Samuel",
    "David",
    "Omar",
    "Yusuf",
    "Amira",
    "Fatima",
    "Priya",
    "Wei",
    "Mei",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Moreau",
    "Laurent",
    "Lefebvre",
    "Roux",
    "Fournier",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Becker",
    "Wagner",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Wilson",
    "Evans",
    "Garcia",
    "Fernandez",
    "Lopez",
    "Martinez",
    "Sanchez",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "de Jong",
    "Jansen",
    "de Vries",
    "van Dijk",
    "Peeters",
    "Janssens",
    "Maes",
    "Murphy",
    "Kelly",
    "O'Brien",
    "Walsh",
    "Nguyen",
    "Khan",
    "Haddad",
    "Costa",
    "Silva",
    "Novak",
    "Kowalski",
    "Horvat",
    "Petit",
    "Richter",
)
