"""The 15 Stanford Dogs breeds of the study: official folder names, readable names, ImageNet indices."""

# Official Stanford Dogs folder names (``<WordNet id>-<name>``), in the order of the 2023 study.
FOLDERS = (
    "n02085936-Maltese_dog",
    "n02086240-Shih-Tzu",
    "n02088094-Afghan_hound",
    "n02090721-Irish_wolfhound",
    "n02092002-Scottish_deerhound",
    "n02095889-Sealyham_terrier",
    "n02096051-Airedale",
    "n02097474-Tibetan_terrier",
    "n02107683-Bernese_mountain_dog",
    "n02108000-EntleBucher",
    "n02110806-basenji",
    "n02111129-Leonberg",
    "n02111500-Great_Pyrenees",
    "n02111889-Samoyed",
    "n02112018-Pomeranian",
)

# Index of each breed among the 1,000 ImageNet-1k classes. ImageNet numbers its classes in the
# sorted order of their WordNet ids, and the 118 dog classes occupy indices 151 (Chihuahua) to
# 268 (Mexican hairless); Stanford Dogs was built from exactly those synsets.
IMAGENET_INDEX = {
    "n02085936": 153,
    "n02086240": 155,
    "n02088094": 160,
    "n02090721": 170,
    "n02092002": 177,
    "n02095889": 190,
    "n02096051": 191,
    "n02097474": 200,
    "n02107683": 239,
    "n02108000": 241,
    "n02110806": 253,
    "n02111129": 255,
    "n02111500": 257,
    "n02111889": 258,
    "n02112018": 259,
}


def wnid(folder: str) -> str:
    """WordNet id of a folder name: ``n02085936-Maltese_dog`` -> ``n02085936``."""
    return folder.split("-", 1)[0]


def readable(folder: str) -> str:
    """Name for humans: ``n02085936-Maltese_dog`` -> ``Maltese dog``; ``basenji`` -> ``Basenji``."""
    name = folder.split("-", 1)[1].replace("_", " ")
    return name[0].upper() + name[1:]


NAMES = tuple(readable(folder) for folder in FOLDERS)

# French names for the report, in the same order (a breed keeps one name everywhere).
FRENCH = ("Bichon maltais", "Shih tzu", "Lévrier afghan", "Lévrier irlandais", "Lévrier écossais",
          "Sealyham terrier", "Airedale", "Terrier du Tibet", "Bouvier bernois", "Entlebucher", "Basenji",
          "Leonberg", "Montagne des Pyrénées", "Samoyède", "Poméranien")
FRENCH_BY_NAME = dict(zip(NAMES, FRENCH))

# Breeds that look alike, as the report's introduction announces them: the three sighthounds; the
# small long-coated dogs; the two Swiss mountain dogs with the same tricolour coat; the Samoyed and the
# Great Pyrenees, the Leonberg and the Great Pyrenees. A confusion inside one group is the expected one.
LOOKALIKES = (
    ("n02088094-Afghan_hound", "n02090721-Irish_wolfhound", "n02092002-Scottish_deerhound"),
    ("n02085936-Maltese_dog", "n02086240-Shih-Tzu", "n02097474-Tibetan_terrier"),
    ("n02107683-Bernese_mountain_dog", "n02108000-EntleBucher"),
    ("n02111889-Samoyed", "n02111500-Great_Pyrenees"),
    ("n02111129-Leonberg", "n02111500-Great_Pyrenees"),
)

def lookalikes(a: str, b: str) -> bool:
    """Are the two breeds (folder names) announced as look-alikes?"""
    return a != b and any(a in group and b in group for group in LOOKALIKES)
