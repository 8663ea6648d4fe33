"""The word lists and weights the demo data is drawn from."""

from .models import Interaction

# Demo staff are marked by this e-mail domain, so they are easy to find and remove.
STAFF_EMAIL_DOMAIN = "staff.demo.example.com"
STAFF_USERS = [
    ("anna", "Anna", "Berg"),
    ("ben", "Ben", "Okafor"),
    ("chloe", "Chloé", "Martin"),
    ("diego", "Diego", "Santos"),
]
TAGS = ["Birthday club", "Gift buyer", "Local", "Newsletter", "Online", "VIP"]
TAGS += ["Wholesale"]
# Names are kept as one string each: as list literals they would take 120 lines.
FIRST_NAMES = (  # noqa: SIM905
    "Emma Olivia Sophie Mia Léa Hannah Chloé Zoë Anna Laura Sarah Julia Maria Ana "
    "Inès Marta Elena Clara Amélie Nora Ingrid Aoife Fatima Priya Yuki Grace Eva "
    "Lucas Noah Liam Ben Paul Jonas Hugo Léon Mateo Luca Tom Jack Oliver James "
    "Daniel David Ahmed Omar Raj Kenji Søren Björn Jakub Tomás Pierre Marc Felix "
    "Max Sam Oscar Ivan Nikolai"
).split()
# Most common first and drawn with falling weights, so a few surnames are frequent
# as in a real customer file (the benchmark searches for part of one of them).
LAST_NAMES = (  # noqa: SIM905
    "Smith,Martin,Müller,García,Jones,Brown,Schmidt,Dubois,Rossi,Jensen,Novak,"
    "Williams,Taylor,Fernández,Lefèvre,Wilson,Kowalski,Johansson,Murphy,O'Brien,"
    "Moreau,Bianchi,Ferreira,Nielsen,Kelly,Walsh,Hoffmann,Schäfer,Lambert,Girard,"
    "Romano,Costa,Silva,Pereira,Svensson,Larsen,Byrne,Evans,Davies,Roberts,Hughes,"
    "Wright,Clarke,Patel,Khan,Ahmed,Singh,Nguyen,Tanaka,Kim,Horváth,Nowak,Dvořák,"
    "Popescu,Papadopoulos,Yılmaz,Öztürk,van der Berg,de Jong,Ó Súilleabháin"
).split(",")
EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]

# December peak and a summer dip; Saturdays busy, Sundays quiet (web shop only).
MONTH_WEIGHT = [0, 0.8, 0.75, 0.9, 0.95, 1.0, 0.85, 0.65, 0.6, 0.95, 1.0, 1.3, 1.9]
WEEKDAY_WEIGHT = [0.9, 0.9, 1.0, 1.0, 1.2, 1.5, 0.5]
MAX_DAY_WEIGHT = max(MONTH_WEIGHT) * max(WEEKDAY_WEIGHT)

# segment: (share of customers, mood for satisfaction, interactions low..high)
SEGMENTS = {
    "prospect": (0.06, 0.7, (0, 2)),
    "one_off": (0.32, 0.6, (0, 2)),
    "occasional": (0.30, 0.7, (0, 4)),
    "loyal": (0.20, 0.85, (2, 10)),
    "lapsed": (0.10, 0.45, (1, 4)),
    "wholesale": (0.02, 0.75, (8, 30)),
}
IN, OUT = Interaction.Direction.INBOUND, Interaction.Direction.OUTBOUND
# kind: (weight, directions, subjects separated by "|")
INTERACTION_KINDS = {
    Interaction.Kind.EMAIL: (
        30,
        (IN, OUT),
        "Question about delivery|Sent the new catalogue|Quote for a larger order|"
        "Invoice copy requested|Thank-you for the order",
    ),
    Interaction.Kind.CALL: (
        25,
        (IN, OUT),
        "Asked about opening hours|Order status|Called back about a quote|"
        "Asked about gift vouchers|Checked in after the last order",
    ),
    Interaction.Kind.NOTE: (
        14,
        (Interaction.Direction.INTERNAL,),
        "Prefers e-mail to calls|Pays on invoice|Ask about the wedding next time|"
        "Likes to hear about new arrivals first",
    ),
    Interaction.Kind.VISIT: (
        12,
        (IN,),
        "Came in to browse|Collected an order|Returned an item|Tried the new range",
    ),
    Interaction.Kind.MEETING: (
        7,
        (OUT,),
        "Quarterly review|New range presentation|Pricing discussion",
    ),
    Interaction.Kind.SMS: (6, (OUT,), "Order ready for collection|Reminder"),
    Interaction.Kind.SUPPORT: (
        6,
        (IN,),
        "Damaged parcel|Exchange for a different size|Warranty question",
    ),
}
BODIES = [
    "",
    "",
    "All sorted, nothing else needed.",
    "Will get back to us next week.",
    "Very friendly; mentioned a friend may come in too.",
    "Wants to hear when the autumn range arrives.",
    "Unhappy about the wait; apologised and offered a discount.",
]
FOLLOW_UP_NOTES = [
    "Call back with a quote",
    "Check the replacement arrived",
    "Invite to the preview evening",
    "Ask how the gift went down",
]
COMMENTS = {
    "low": ["Took too long to arrive.", "The item broke after a week.", ""],
    "mid": ["Fine, nothing special.", "OK but a bit pricey.", ""],
    "high": ["Lovely shop, great service!", "Always helpful staff.", ""],
}
