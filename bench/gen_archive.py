#!/usr/bin/env python3
"""Deterministic generator of large, realistic news-event archives.

Writes the layout described in FORMAT.md::

    OUT_DIR/news/YYYY/MM/D/<slug>.md     one file per event
    OUT_DIR/news/YYYY/MM/D/index.md      one day page per day with events
    OUT_DIR/manifest.json                what was generated (outside news/)

Usage as a script::

    python bench/gen_archive.py OUT_DIR --events 100000 --seed 1 [--broken 200]

Usage as a module::

    from bench.gen_archive import generate        # or importlib from the file
    manifest = generate(Path("/tmp/arc"), events=2000, seed=1)

Properties:

* Same seed and arguments => byte-identical output (every random decision is
  drawn from ``random.Random`` instances seeded with strings derived from the
  seed; iteration is always over lists or sorted data; nothing depends on the
  clock, on ``hash()`` or on set order).
* Stdlib only, Python 3.10+.
* Every internal link resolves, except exactly the ones listed in
  ``manifest["broken_links"]`` (kinds ``missing``, ``padding``, ``typo``,
  ``wrong-day``, ``missing-day-page``), each with the 1-based line and column
  of the ``[`` that starts the link.
* ``manifest["search_patterns"]`` gives, for a few patterns, the exact number of
  files matching them, counted with Python ``re`` over the raw file text as
  ``rg -l PATTERN OUT_DIR/news`` would (``files``: every ``.md`` under news/,
  ``event_files``: event files only), plus ``event_files_decoded``: event files
  matching after HTML entities are decoded (``html.unescape``), which is what a
  reader that decodes entities for search should find.  None of the patterns
  can match across a line break, so searching the whole text equals searching
  line by line.

Slugs: headline lowercased, every run of characters outside ``[a-z0-9]``
(accented letters included) collapsed to ``-``, leading/trailing ``-``
stripped, cut to 150 characters, trailing ``-`` stripped again.  Headlines
(and therefore slugs) are unique within a day.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import html
import itertools
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time
from array import array
from bisect import bisect_right
from pathlib import Path

GENERATOR_VERSION = 1
SLUG_MAX = 150
END_DATE = _dt.date(2024, 12, 31)
FIRST_YEAR = 1995

# --------------------------------------------------------------------------
# Word material (fixed; the seed only decides how it is combined)
# --------------------------------------------------------------------------

# Roughly in frequency order; Zipf ranks follow this order, then generated words.
COMMON_WORDS = """
the of and to a in that is was for on with as by at from it his an were are
which be this has had have not but its after their they been who he more one
two also against over new people government said first other would all will
than when said three police into year during about where since between some
could under while there president minister state before forces military years
security country officials against report after least city including killed
people national public new city group former attack local four five national
members following election party leader say according announced capital
region northern southern eastern western central court law army troops
protest protesters talks deal agreement support united international
foreign economic economy crisis health hospital children women men civilians
water fire storm flood earthquake killed dead injured wounded missing
arrested charged sentenced released detained accused investigation trial
vote votes voters parliament opposition coalition ruling council committee
campaign candidate prime office power control border area province district
village town capital airport port bridge road railway train plane flight
ship vessel boat coast island sea river mountain desert forest oil gas
energy prices market markets bank banks trade exports imports tax budget
billion million percent rate rates inflation growth company companies firm
workers strike union industry production factory plant nuclear weapons
missile missiles rocket rockets drone drones airstrike airstrikes bombing
explosion blast bomb car suicide gunmen militants rebels fighters insurgents
soldiers officers commander general chief spokesman statement media
television newspaper journalists reporters internet social network website
data study scientists researchers university school students teachers
disease virus outbreak cases vaccine deaths patients doctors treatment
aid food refugees migrants camp camps shelter relief humanitarian agency
operation offensive siege ceasefire truce peace negotiations summit meeting
visit leaders delegation ambassador embassy sanctions resolution treaty
constitution referendum reform reforms policy plan program project system
service services network record records history first last largest second
third major senior top high low large small long short early late former
several many most both each every another such same own only other next
week month months weeks days day hours time times morning night evening
earlier later today yesterday recently continue continues remain remains
officially reportedly allegedly near across around through toward within
without despite amid among along behind beyond inside outside upon
""".split()

SYLLABLES = (
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge gi go gu "
    "ha he hi ho ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu pa "
    "pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za "
    "zo bra bre cra cre dra dri fra gra gre pra pre pro tra tre tri stra str "
    "an en in on un ar er ir or ur al el il ol am em im om ast est ist ost"
).split()
SUFFIXES = ("", "", "", "", "s", "ed", "ing", "tion", "ment", "al", "ity", "ic",
            "ous", "er", "ly", "ist", "ance", "ive", "ure", "ate")

COUNTRIES = """
Afghanistan|Albania|Algeria|Angola|Argentina|Armenia|Australia|Austria|Azerbaijan|
Bahrain|Bangladesh|Belarus|Belgium|Benin|Bolivia|Bosnia and Herzegovina|Botswana|
Brazil|Bulgaria|Burkina Faso|Burundi|Cambodia|Cameroon|Canada|Chad|Chile|China|
Colombia|Costa Rica|Côte d'Ivoire|Croatia|Cuba|Cyprus|Czech Republic|Denmark|
Ecuador|Egypt|El Salvador|Eritrea|Estonia|Ethiopia|Faroe Islands|Fiji|Finland|
France|Gabon|Georgia|Germany|Ghana|Greece|Guatemala|Guinea|Haiti|Honduras|Hungary|
Iceland|India|Indonesia|Iran|Iraq|Ireland|Israel|Italy|Jamaica|Japan|Jordan|
Kazakhstan|Kenya|Kosovo|Kuwait|Kyrgyzstan|Laos|Latvia|Lebanon|Liberia|Libya|
Lithuania|Madagascar|Malawi|Malaysia|Mali|Mauritania|Mexico|Moldova|Mongolia|
Montenegro|Morocco|Mozambique|Myanmar|Namibia|Nepal|Netherlands|New Zealand|
Nicaragua|Niger|Nigeria|North Korea|Norway|Oman|Pakistan|Panama|Paraguay|Peru|
Philippines|Poland|Portugal|Qatar|Romania|Russia|Rwanda|São Tomé and Príncipe|
Saudi Arabia|Senegal|Serbia|Sierra Leone|Singapore|Slovakia|Slovenia|Somalia|
South Africa|South Korea|South Sudan|Spain|Sri Lanka|Sudan|Sweden|Switzerland|
Syria|Taiwan|Tajikistan|Tanzania|Thailand|Togo|Tunisia|Turkey|Turkmenistan|
Uganda|Ukraine|United Kingdom|United States|Uruguay|Uzbekistan|Venezuela|
Vietnam|Yemen|Zambia|Zimbabwe
""".replace("\n", "").split("|")

CITIES = """
Aleppo|Homs|Palmyra|Damascus|Deir ez-Zor|Al-Raqqah|Idlib|Latakia|Mosul|Baghdad|
Kabul|Kandahar|Tehran|Beirut|Amman|Cairo|Tripoli|Benghazi|Tunis|Algiers|Lagos|
Abuja|Nairobi|Mogadishu|Addis Ababa|Khartoum|Kinshasa|Johannesburg|Cape Town|
São Paulo|Rio de Janeiro|Bogotá|Medellín|Caracas|Lima|Quito|Santiago|
Buenos Aires|Montevideo|Mexico City|Ciudad Juárez|Havana|Port-au-Prince|
Washington, D.C.|New York City|Los Angeles|Chicago|Houston|Toronto|Montreal|
London|Paris|Berlin|Munich|Zürich|Geneva|Brussels|Amsterdam|Madrid|Barcelona|
Lisbon|Rome|Milan|Athens|Istanbul|Ankara|Kyiv|Donetsk|Moscow|Saint Petersburg|
Minsk|Warsaw|Łódź|Kraków|Prague|Vienna|Budapest|Bucharest|Sofia|Belgrade|
Sarajevo|Zagreb|Tórshavn|Reykjavík|Oslo|Stockholm|Helsinki|Copenhagen|Tallinn|
Riga|Vilnius|Tbilisi|Yerevan|Baku|Tashkent|Almaty|Karachi|Lahore|Islamabad|
New Delhi|Mumbai|Kolkata|Dhaka|Kathmandu|Colombo|Yangon|Bangkok|Hanoi|
Ho Chi Minh City|Phnom Penh|Kuala Lumpur|Jakarta|Manila|Hong Kong|Beijing|
Shanghai|Wuhan|Taipei|Seoul|Pyongyang|Tokyo|Osaka|Fukushima|Sydney|Melbourne|
Auckland|Christchurch|Suva|Nouméa|Dakar|Bamako|Niamey|N'Djamena|Ouagadougou
""".replace("\n", "").split("|")

REGIONS = """
Homs Governorate|Aleppo Governorate|Idlib Governorate|Latakia Governorate|
Deir ez-Zor Governorate|Raqqa Governorate|Daraa Governorate|Nineveh Governorate|
Anbar Governorate|Helmand Province|Balochistan|Khyber Pakhtunkhwa|Kashmir|
Punjab|Sindh|Xinjiang|Tibet|Crimea|Donbas|Catalonia|Basque Country|Bavaria|
Sicily|Corsica|Scotland|Wales|Northern Ireland|Quebec|Ontario|California|Texas|
Florida|Queensland|Patagonia|Amazonas|Chiapas|Darfur|Tigray|Sahel|Kurdistan|
Gaza Strip|West Bank|Golan Heights|Sinai Peninsula|Borno State|Cabo Delgado
""".replace("\n", "").split("|")

ORGS = """
Syrian Army|Syrian Observatory for Human Rights|United Nations|European Union|
NATO|African Union|Arab League|ASEAN|World Health Organization|UNICEF|UNHCR|
International Monetary Fund|World Bank|Red Cross|Amnesty International|
Human Rights Watch|Médecins Sans Frontières|ISIL|Al-Nusra Front|Hezbollah|
Hamas|Taliban|Al-Shabaab|Boko Haram|Kurdistan Workers' Party|
Free Syrian Army|Russian Air Force|Iraqi Army|Peshmerga|Houthis|
International Criminal Court|European Commission|European Parliament|
U.S. Supreme Court|Federal Reserve|European Central Bank|OPEC|Interpol|
International Atomic Energy Agency|Greenpeace|FIFA|International Olympic Committee|
Nobel Committee|Bundestag|House of Commons|Knesset|Duma|Lok Sabha|Congress
""".replace("\n", "").split("|")

FIRST_NAMES = """
Aleksi Vladimir Bashar Angela Emmanuel Narendra Recep Xi Shinzo Justin Jacinda
Jair Andrés Cristina Evo Nicolás Hugo Juan María José Ana Fatima Mohammed Ahmed
Ali Hassan Omar Amina Nadia Olena Volodymyr Sergei Dmitri Igor Elena Anna Sofia
Lars Ingrid Søren Bjørn Jóannes Magnus Henrik Élodie François Jürgen Zoltán
Tomasz Agnieszka Kofi Abdel Ellen Paul Cyril Uhuru Abiy Yoweri Thabo Chen Li
Wang Kim Park Nguyen Rodrigo Imran Benazir Ashraf Hamid Jalal Nouri Haider
""".split()

LAST_NAMES = """
Borodavkin Putin al-Assad Merkel Macron Modi Erdoğan Jinping Abe Trudeau Ardern
Bolsonaro López Kirchner Morales Maduro Chávez Guaidó Santos Fernández Rahman
Haddad Khalil Nasser Kovalenko Zelenskyy Lavrov Medvedev Ivanova Petrov
Johansen Lindqvist Nielsen Hansen Johannesen Thorsen Dubois Lefèvre Schäfer
Müller Orbán Kowalski Nowak Annan Sirleaf Kagame Ramaphosa Kenyatta Ahmed
Museveni Mbeki Shui Wei Jong-un Geun-hye Duterte Khan Bhutto Ghani Karzai
Talabani al-Maliki al-Abadi Sánchez Rajoy Conte Draghi Tsipras Kurz Babiš
""".split()

CONFLICTS = """
Syrian Civil War|Iraqi Civil War|War in Afghanistan|War in Donbas|
Russian invasion of Ukraine|Yemeni Civil War|Libyan Civil War|Boko Haram insurgency|
Somali Civil War|Mexican drug war|Colombian conflict|Israeli–Palestinian conflict|
Kashmir conflict|Nagorno-Karabakh conflict|Tigray War|Mali War|Kivu conflict|
Rohingya genocide|Arab Spring|Syrian refugee crisis|European migrant crisis|
COVID-19 pandemic|2008 financial crisis|Eurozone crisis|Brexit|Climate change|
Global warming|Ebola virus epidemic in West Africa|Zika virus|Cholera outbreak
""".replace("\n", "").split("|")

SEED_TOPICS = [
    "Syrian Army", "Syrian Civil War", "Russia", "ISIL", "Homs Governorate",
    "Palmyra", "Faroese general election, 2015", "United Nations",
    "Vladimir Putin", "Bashar al-Assad", "European Union", "São Paulo",
    "Côte d'Ivoire", "Israeli–Palestinian conflict", "COVID-19 pandemic",
]

TOPIC_TEMPLATES = (
    "{C}", "{C}", "{C}", "Politics of {C}", "Economy of {C}", "Elections in {C}",
    "{C} general election, {Y}", "{Cadj} general election, {Y}",
    "{C} presidential election, {Y}", "{C}–{C2} relations", "Protests in {C}",
    "Human rights in {C}", "Terrorism in {C}", "{Y} {C} earthquake",
    "{Y} floods in {C}", "COVID-19 pandemic in {C}", "Corruption in {C}",
    "{CITY}", "{CITY}", "{REG}", "{PERSON}", "{PERSON}", "{ORG}", "{CONF}",
    "{Y} in {C}", "Cyclone {NAME}", "Hurricane {NAME}", "{Y} Summer Olympics",
    "{Y} FIFA World Cup", "Freedom of the press in {C}", "LGBT rights in {C}",
)

VERBS = """
announces|says|kills|retakes control of|approves|rejects|signs|launches|
condemns|arrests|releases|suspends|bans|calls for|warns of|denies|confirms|
agrees to|votes to end|begins|ends|orders|investigates|seizes|captures|
withdraws from|criticizes|accuses|elects|appoints|dismisses|imposes|lifts|
halts|resumes|extends|postpones|cancels|reports|discovers|unveils|opens|closes
""".replace("\n", "").split("|")

PUBLISHERS = [
    "AFP via Yahoo", "Reuters", "BBC News", "Al Jazeera", "The Guardian", "CNN",
    "Associated Press", "Le Monde", "Der Spiegel", "NHK World", "El País",
    "The New York Times", "The Washington Post", "Deutsche Welle", "France 24",
    "RTÉ", "Kyodo News", "Xinhua", "TASS", "Anadolu Agency", "Haaretz",
    "The Times of India", "Dawn", "The Hindu", "ABC News (Australia)",
    "CBC News", "Folha de S.Paulo", "Clarín", "Mail & Guardian", "Daily Nation",
    "Kringvarp Føroya", "The Straits Times", "Radio Free Europe/Radio Liberty",
]

SECTIONS = ("news", "world", "politics", "article", "story", "en", "international")

RARE_WORD = "zugzwang"   # injected into a few bodies only

# Search patterns with exact counts in the manifest:
# (pattern, fixed_string, note, hint).  For regexes, hint is a literal that must
# occur in text.lower() whenever the regex matches our text (a cheap prefilter).
SEARCH_PATTERNS = (
    ("Syrian Army", True, "common phrase (body, headlines, contexts)", None),
    ("(?i)syrian army", False, "case-insensitive phrase", "syrian army"),
    ("Palmy?ra", False, "regex", "palm"),
    (RARE_WORD, True, "rare word (a few bodies)", None),
    ("Syria's", True, "written Syria&#x27;s in bodies: compare event_files_decoded", None),
    ("São Paulo", True, "non-ASCII phrase", None),
    ("Faroese general election, 2015", True, "topic containing a comma", None),
    (r"\bceasefire\b", False, "word-boundary regex", "ceasefire"),
    ("&amp;", True, "raw HTML entity", None),
)

_BIG_ENDIAN = sys.byteorder == "big"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_NONALNUM = re.compile(r"[^a-z0-9]+")


def slugify(headline: str) -> str:
    """Slug rule of the generated archives (see module docstring)."""
    s = _NONALNUM.sub("-", headline.lower()).strip("-")
    return s[:SLUG_MAX].rstrip("-")


def day_dir(d: _dt.date, pad_day: bool = False) -> str:
    """'news/YYYY/MM/D' (day not padded unless pad_day)."""
    day = f"{d.day:02d}" if pad_day else str(d.day)
    return f"news/{d.year}/{d.month:02d}/{day}"


def _zipf_table(items: list[str], s: float) -> list[str]:
    """65536-slot inverse-CDF table for Zipf(s) sampling; every item gets >= 1 slot."""
    size = 1 << 16
    w = [1.0 / (r ** s) for r in range(1, len(items) + 1)]
    tot = sum(w)
    slots = [max(1, round(x / tot * size)) for x in w]
    slots[0] += size - sum(slots)        # the head absorbs the rounding
    tbl: list[str] = []
    for item, n in zip(items, slots):
        tbl.extend([item] * n)
    assert len(tbl) == size
    return tbl


def _zipf_cum(n: int, s: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1.0 / (r ** s) for r in range(1, n + 1)))


def _sub(seed: int, name: str) -> random.Random:
    # str seeds are hashed with SHA-512 by random.Random: stable across runs.
    return random.Random(f"newsarc-gen:{seed}:{name}")


def _yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_flow_item(s: str) -> str:
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9 .\-]*", s) and not s.endswith(" "):
        return s
    return _yaml_str(s)


# --------------------------------------------------------------------------
# Vocabulary / topics
# --------------------------------------------------------------------------

class _Material:
    def __init__(self, seed: int, n_vocab: int = 4000, n_topics: int = 2000):
        r = _sub(seed, "vocab")
        words: dict[str, None] = dict.fromkeys(COMMON_WORDS)
        while len(words) < n_vocab:
            w = "".join(r.choice(SYLLABLES) for _ in range(r.choice((1, 2, 2, 2, 3, 3, 4))))
            w += r.choice(SUFFIXES)
            if 3 <= len(w) <= 14 and w != RARE_WORD:
                words.setdefault(w, None)
        self.vocab = list(words)
        self.vocab_tbl = _zipf_table(self.vocab, 1.02)
        # content words (skip the most frequent function words) for headlines
        self.content_tbl = _zipf_table(self.vocab[60:], 0.9)

        persons = list(dict.fromkeys(
            f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}" for _ in range(260)))
        persons[:0] = ["Vladimir Putin", "Bashar al-Assad", "Aleksi Borodavkin"]
        persons = list(dict.fromkeys(persons))
        self.persons = persons

        # Proper nouns used in running text (Zipf by this order, shuffled tail).
        tail = sorted(set(CITIES + REGIONS + ORGS + COUNTRIES + persons[3:]))
        r.shuffle(tail)
        # Fixed ranks for the names the manifest's search patterns rely on.
        fixed = {"United States": 0, "China": 1, "Russia": 3, "United Nations": 4,
                 "European Union": 6, "Syria": 9, "ISIL": 14, "Vladimir Putin": 18,
                 "Syrian Army": 30, "São Paulo": 45, "Bashar al-Assad": 50,
                 "Homs Governorate": 70, "Syrian Observatory for Human Rights": 90,
                 "Palmyra": 120, "Aleppo": 130, "Côte d'Ivoire": 150}
        tail = [t for t in tail if t not in fixed]
        for name, rank in sorted(fixed.items(), key=lambda x: x[1]):
            tail.insert(rank, name)
        self.propn = tail
        self.propn_tbl = _zipf_table(self.propn, 0.9)
        self.places = [p for p in self.propn if p in set(CITIES + REGIONS + COUNTRIES)]

        # Topics: seeds + templated names, ~n_topics unique.
        gen: dict[str, None] = {}
        names = ["Ana", "Bopha", "Dorian", "Haiyan", "Idai", "Irma", "Katrina",
                 "Maria", "Nargis", "Pam", "Sandy", "Winston", "Yolanda", "Zeta"]
        adjs = {"Faroe Islands": "Faroese", "France": "French", "Germany": "German",
                "Spain": "Spanish", "Italy": "Italian", "Japan": "Japanese",
                "Iceland": "Icelandic", "Denmark": "Danish", "Norway": "Norwegian",
                "Sweden": "Swedish", "Finland": "Finnish", "Poland": "Polish"}
        guard = 0
        while len(gen) < n_topics - len(SEED_TOPICS) and guard < 200000:
            guard += 1
            c, c2 = r.sample(COUNTRIES, 2)
            if c > c2:
                c, c2 = c2, c
            cadj = adjs.get(c)
            t = r.choice(TOPIC_TEMPLATES)
            if "{Cadj}" in t and cadj is None:
                continue
            name = t.format(C=c, C2=c2, Cadj=cadj, Y=r.randint(FIRST_YEAR, 2024),
                            CITY=r.choice(CITIES), REG=r.choice(REGIONS),
                            PERSON=r.choice(persons), ORG=r.choice(ORGS),
                            CONF=r.choice(CONFLICTS), NAME=r.choice(names))
            if name not in SEED_TOPICS:
                gen.setdefault(name, None)
        rest = list(gen)
        r.shuffle(rest)
        topics = list(rest)
        # Seed topics get high (but not all top) Zipf ranks.
        for i, t in enumerate(SEED_TOPICS):
            topics.insert(min(len(topics), 12 + i * 9), t)
        self.topics = topics
        self.topic_cum = _zipf_cum(len(topics), 1.0)
        # Storylines: a topic's cluster; seeds form one Syria storyline.
        self.cluster = [0] * len(topics)
        idx = {t: i for i, t in enumerate(topics)}
        order = list(range(len(topics)))
        r.shuffle(order)
        for k, ti in enumerate(order):
            self.cluster[ti] = 1 + k // 6
        syria = ["Syrian Army", "Syrian Civil War", "Russia", "ISIL",
                 "Homs Governorate", "Palmyra", "Vladimir Putin", "Bashar al-Assad"]
        for t in syria:
            self.cluster[idx[t]] = 0
        self.cluster_members: dict[int, list[int]] = {}
        for ti, c in enumerate(self.cluster):
            self.cluster_members.setdefault(c, []).append(ti)
        # 1: a name that can be a headline subject; 2: a name that can appear in text
        pset, cset = set(self.propn), set(CONFLICTS)
        self.topic_textual = [1 if t in pset else 2 if t in cset else 0 for t in topics]


# --------------------------------------------------------------------------
# Text generation
# --------------------------------------------------------------------------

class _Text:
    def __init__(self, m: _Material, r: random.Random):
        self.m = m
        self.r = r

    # Word draws dominate the run time: draw k 16-bit table indices from one
    # getrandbits() call instead of k random() + bisect calls.
    def words(self, k: int) -> list[str]:
        tbl = self.m.vocab_tbl
        a = array("H", self.r.getrandbits(16 * k).to_bytes(2 * k, "little"))
        if _BIG_ENDIAN:
            a.byteswap()
        return [tbl[i] for i in a]

    def content(self, k: int) -> list[str]:
        tbl = self.m.content_tbl
        a = array("H", self.r.getrandbits(16 * k).to_bytes(2 * k, "little"))
        if _BIG_ENDIAN:
            a.byteswap()
        return [tbl[i] for i in a]

    def propn(self) -> str:
        return self.m.propn_tbl[self.r.getrandbits(16)]

    def sentence(self, entities: bool, extra: list[str] | None = None) -> str:
        rand = self.r.random
        n = 6 + int(rand() * 21)                      # 6..26 words
        w = self.words(n)
        if rand() < 0.55:
            p = extra[int(rand() * len(extra))] if extra and rand() < 0.5 else self.propn()
            if entities:
                if rand() < 0.2:
                    p += "'s"
                p = p.replace("'", "&#x27;")
            w.insert(int(rand() * n), p)
        if rand() < 0.25:
            num = 2 + int(rand() * 59) if rand() < 0.5 else 100 + int(rand() * 9900)
            w.insert(int(rand() * n), str(num))
        if entities:
            if rand() < 0.01:
                i = int(rand() * n)
                w[i] = w[i] + " &amp; " + w[(i + 3) % n]
            if rand() < 0.015:
                i = int(rand() * (n - 2))
                w[i] = "&quot;" + w[i]
                w[i + 2] = w[i + 2] + "&quot;"
        if n > 10:
            w[3 + int(rand() * (n - 6))] += ","
        s = " ".join(w)
        return s[0].upper() + s[1:] + "."

    def headline(self, subjects: list[str]) -> str:
        r = self.r
        rand = r.random
        subj = r.choice(subjects) if subjects and rand() < 0.8 else self.propn()
        if rand() < 0.015 and "Syrian Army" not in subj:
            subj = "The Syrian army" if rand() < 0.3 else "The Syrian Army"
        parts = [subj, r.choice(VERBS)]
        if rand() < 0.35:
            parts.append(str(r.randint(2, 300)))
        if rand() < 0.5:
            parts.append(r.choice(("the", "a", "its", "new", "all", "two")))
        parts.extend(self.content(r.randint(1, 5)))
        if rand() < 0.6:
            parts.append(r.choice(("in", "near", "in northern", "in the east of", "outside")))
            parts.append(r.choice(self.m.places))
        h = " ".join(parts)
        if rand() < 0.3:
            if rand() < 0.5:
                h += ", according to " + self.propn()
            else:
                h += ", after " + " ".join(self.content(r.randint(2, 6)))
        h = h[0].upper() + h[1:] + "."
        if rand() < 0.35:
            h += " " + self.sentence(entities=False, extra=subjects)
        return h


# --------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------

_WRITER_CODE = r"""
import os, struct, sys
root, inp, hdr = sys.argv[1], sys.stdin.buffer, struct.Struct(">BII")
while True:
    h = inp.read(9)
    if not h:
        break
    kind, pl, dl = hdr.unpack(h)
    path = root + "/" + inp.read(pl).decode("utf-8")
    if kind == 1:
        os.makedirs(path, exist_ok=True)
    else:
        with open(path, "wb") as fh:
            fh.write(inp.read(dl))
"""


class _Writer:
    """Creates day folders and writes files.

    File creation is mostly kernel time (0.3-0.6 ms per file on a VM's ext4), so
    for large runs a child Python process (stdlib only, fed through a pipe) does
    it on another core while this process generates text.  Threads would not
    help: the GIL hand-off after each syscall costs more than it saves.  What
    is written, and where, does not depend on the mode.
    """

    _HDR = struct.Struct(">BII")

    def __init__(self, root: Path, use_child: bool):
        self.root = str(root)
        self.proc: subprocess.Popen | None = None
        if use_child and sys.executable:
            try:
                self.proc = subprocess.Popen(
                    [sys.executable, "-I", "-S", "-c", _WRITER_CODE, self.root],
                    stdin=subprocess.PIPE)
            except OSError:
                self.proc = None

    def put(self, ddir: str, files: list[tuple[str, bytes]]) -> None:
        if self.proc is None:
            os.makedirs(f"{self.root}/{ddir}", exist_ok=True)
            for rel, data in files:
                with open(f"{self.root}/{rel}", "wb") as fh:
                    fh.write(data)
            return
        pack = self._HDR.pack
        d = ddir.encode("utf-8")
        chunks = [pack(1, len(d), 0), d]
        for rel, data in files:
            r = rel.encode("utf-8")
            chunks += (pack(2, len(r), len(data)), r, data)
        try:
            self.proc.stdin.write(b"".join(chunks))
        except BrokenPipeError:
            self.close()
            raise

    def abort(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        rc = self.proc.wait()
        self.proc = None
        if rc != 0:
            raise RuntimeError(f"gen_archive writer process failed (exit status {rc})")


class _Event:
    __slots__ = ("date", "day_i", "headline", "slug", "topics", "fm", "crlf",
                 "cover", "nsrc", "related", "subjects", "mentions", "tpos")

    def rel_path(self) -> str:
        return f"{day_dir(self.date)}/{self.slug}.md"


def _span(events: int) -> tuple[_dt.date, _dt.date]:
    years = max(2, min(END_DATE.year - FIRST_YEAR + 1, -(-events // 1500)))
    return _dt.date(END_DATE.year - years + 1, 1, 1), END_DATE


def generate(out_dir: Path, events: int, seed: int = 1, broken: int | None = None,
             *, overwrite: bool = False, progress: bool = True,
             writer_process: bool | None = None) -> dict:
    """Generate an archive under out_dir; return (and write) the manifest.

    Refuses to write into an out_dir that already has news/ or manifest.json
    unless overwrite=True (then both are deleted first).  writer_process:
    write files from a child process (default: when events >= 5000); the
    output is the same either way.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    if events < 1:
        raise ValueError("events must be >= 1")
    if broken is None:
        broken = max(20, round(events * 0.002))
    if broken < 0:
        raise ValueError("broken must be >= 0")
    news = out_dir / "news"
    man_path = out_dir / "manifest.json"
    if news.exists() or man_path.exists():
        if not overwrite:
            raise FileExistsError(f"{news} or {man_path} exists (use overwrite)")
        if news.exists():
            shutil.rmtree(news)
        if man_path.exists():
            man_path.unlink()

    def say(msg: str) -> None:
        if progress:
            print(f"gen_archive: {msg} [{time.perf_counter() - t0:.1f}s]", file=sys.stderr)

    m = _Material(seed)
    topics = m.topics

    # ---- calendar: per-day counts ------------------------------------------
    rc = _sub(seed, "calendar")
    start, end = _span(events)
    ndays = (end - start).days + 1
    all_days = [start + _dt.timedelta(days=i) for i in range(ndays)]
    weights = []
    for d in all_days:
        if rc.random() < 0.07:
            weights.append(0.0)
        else:
            growth = 0.5 + (d.year - start.year + d.month / 12) / (end.year - start.year + 1)
            weights.append(rc.gammavariate(1.4, 1.0) * growth)
    cum = list(itertools.accumulate(weights))
    counts = [0] * ndays
    for i in rc.choices(range(ndays), cum_weights=cum, k=events):
        counts[i] += 1
    day_idx = [i for i in range(ndays) if counts[i]]

    # ---- events: headlines, slugs, topics, flags ----------------------------
    re_ = _sub(seed, "events")
    tx = _Text(m, re_)
    evs: list[_Event] = []
    day_events: dict[int, list[int]] = {}      # day index -> event indices
    day_slugs: dict[_dt.date, set[str]] = {}
    tcum = m.topic_cum
    ttot = tcum[-1]
    ntop = len(topics)
    for di in day_idx:
        d = all_days[di]
        seen = day_slugs.setdefault(d, set())
        lst = day_events.setdefault(di, [])
        for _ in range(counts[di]):
            e = _Event()
            e.date = d
            e.day_i = di
            k = re_.choices((1, 2, 3, 4), weights=(3, 4, 2, 1))[0]
            first = bisect_right(tcum, re_.random() * ttot)
            ts = [first]
            members = m.cluster_members[m.cluster[first]]
            while len(ts) < k:
                if re_.random() < 0.7 and len(members) > len(ts):
                    t = members[re_.randrange(len(members))]
                else:
                    t = min(ntop - 1, bisect_right(tcum, re_.random() * ttot))
                if t not in ts:
                    ts.append(t)
            e.topics = tuple(sorted(ts))
            e.subjects = [topics[t] for t in e.topics if m.topic_textual[t] == 1]
            e.mentions = [topics[t] for t in e.topics if m.topic_textual[t]]
            while True:
                h = tx.headline(e.subjects)
                s = slugify(h)
                if s and s != "index" and s not in seen:
                    break
            seen.add(s)
            e.headline, e.slug = h, s
            e.fm = re_.random() < 0.01
            e.crlf = re_.random() < 0.005
            e.cover = re_.random() < 0.5
            e.nsrc = re_.choices((1, 2, 3, 4), weights=(5, 3, 1, 1))[0]
            lst.append(len(evs))
            evs.append(e)
    say(f"planned {len(evs)} events over {len(day_idx)} days")

    # ---- related links -------------------------------------------------------
    rr = _sub(seed, "related")
    topic_events: list[list[int]] = [[] for _ in range(ntop)]
    for i, e in enumerate(evs):
        e.tpos = []
        for t in e.topics:
            e.tpos.append(len(topic_events[t]))
            topic_events[t].append(i)
    nrel_w = (8, 6, 8, 10, 11, 11, 10, 9, 9, 8, 10)
    window_back, window_fwd = 400, 120
    nev = len(evs)
    for i, e in enumerate(evs):
        want = rr.choices(range(11), weights=nrel_w)[0]
        chosen: list[int] = []
        tries = 0
        while len(chosen) < want and tries < want * 10:
            tries += 1
            if rr.random() < 0.05:
                j = rr.randrange(nev)
            else:
                ti = rr.randrange(len(e.topics))
                lst = topic_events[e.topics[ti]]
                if len(lst) < 2:
                    continue
                p = e.tpos[ti] + rr.randint(-window_back, window_fwd)
                j = lst[min(len(lst) - 1, max(0, p))]
            if j != i and j not in chosen:
                chosen.append(j)
        e.related = chosen

    # ---- broken links ---------------------------------------------------------
    rb = _sub(seed, "broken")
    kinds = ("missing", "padding", "typo", "wrong-day")
    missing_days: list[int] = []
    mdp_target = broken // 5 if broken >= 5 else 0
    cand = list(day_idx)
    rb.shuffle(cand)
    need = mdp_target
    for di in cand:
        if need <= 0:
            break
        c = counts[di]
        if c <= need and len(missing_days) < len(day_idx) - 1:
            missing_days.append(di)
            need -= c
    n_mdp = mdp_target - need
    rest = broken - n_mdp
    per_kind = {k: rest // 4 + (1 if n < rest % 4 else 0) for n, k in enumerate(kinds)}
    small_day_events = [i for i, e in enumerate(evs) if e.date.day < 10]
    inject: dict[int, list[tuple[int, tuple[str, str, str, str]]]] = {}

    def make_broken(kind: str) -> tuple[int, tuple[str, str, str, str]]:
        host = rb.randrange(nev)
        h = evs[host]
        ctx = ", ".join(sorted(topics[t] for t in h.topics))
        if kind == "missing":
            d = all_days[rb.choice(day_idx)]
            while True:
                fake = tx.headline(h.subjects)
                fs = slugify(fake)
                if fs and fs not in day_slugs.get(d, ()):
                    break
            text, target = fake, f"/{day_dir(d)}/{fs}.md"
        else:
            if kind == "padding" and small_day_events:
                tj = rb.choice(small_day_events)
            else:
                tj = rb.randrange(nev)
            t = evs[tj]
            text = t.headline
            if kind == "padding":
                target = f"/{day_dir(t.date, pad_day=True)}/{t.slug}.md"
                if t.date.day >= 10:      # no single-digit day at all: fall back
                    kind = "missing"
                    fs = t.slug + "-x"
                    while fs in day_slugs[t.date]:
                        fs += "x"
                    target = f"/{day_dir(t.date)}/{fs}.md"
            elif kind == "typo":
                letters = [i for i, ch in enumerate(t.slug) if "a" <= ch <= "z"] or [0]
                while True:
                    pos = rb.choice(letters)
                    ch = t.slug[pos]
                    new = rb.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != ch])
                    ts = t.slug[:pos] + new + t.slug[pos + 1:]
                    if ts not in day_slugs[t.date]:
                        break
                target = f"/{day_dir(t.date)}/{ts}.md"
            else:  # wrong-day: a neighbouring day (the nearest one without that slug)
                step = rb.choice((-1, 1))
                for off in itertools.count(1):
                    nd = t.date + _dt.timedelta(days=step * off)
                    if t.slug not in day_slugs.get(nd, ()):
                        break
                target = f"/{day_dir(nd)}/{t.slug}.md"
            shared = sorted(set(topics[x] for x in t.topics) & set(topics[x] for x in h.topics))
            if shared:
                ctx = ", ".join(shared)
        return host, (text, target, ctx, kind)

    used: set[tuple[int, str]] = set()
    for kind0 in kinds:
        for _ in range(per_kind[kind0]):
            kind = kind0
            for attempt in itertools.count():
                if attempt >= 50:          # tiny archives: few distinct targets left
                    kind = "missing"
                host, item = make_broken(kind)
                if (host, item[1]) not in used:
                    break
            used.add((host, item[1]))
            pos = rb.randint(0, len(evs[host].related))
            inject.setdefault(host, []).append((pos, item))
    missing_day_set = set(missing_days)

    # ---- render + write -------------------------------------------------------
    rt = _sub(seed, "render")
    tx = _Text(m, rt)
    rand = rt.random
    broken_links: list[dict] = []
    pats = [(pat, fixed, note, hint, None if fixed else re.compile(pat))
            for pat, fixed, note, hint in SEARCH_PATTERNS]
    cnt_files = [0] * len(pats)
    cnt_events = [0] * len(pats)
    cnt_dec = [0] * len(pats)

    def match(text: str) -> list[bool]:
        low = text.lower()
        return [(p in text) if fixed else
                ((hint is None or hint in low) and rx.search(text) is not None)
                for p, fixed, _n, hint, rx in pats]

    if writer_process is None:
        writer_process = events >= 5000
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = _Writer(out_dir, writer_process)

    total_bytes = 0
    n_links = 0
    fm_paths: list[str] = []
    crlf_paths: list[str] = []
    rare_p = max(0.0003, 4.0 / nev)
    written = 0
    next_report = 10000
    try:
        for di in day_idx:
            d = all_days[di]
            ddir = day_dir(d)
            batch: list[tuple[str, bytes]] = []
            iso = d.isoformat()
            for ei in day_events[di]:
                e = evs[ei]
                rel = f"{ddir}/{e.slug}.md"
                lines: list[str] = []
                if e.fm:
                    tags = ", ".join(_yaml_flow_item(topics[t]) for t in e.topics)
                    lines += ["---", f"title: {_yaml_str(e.headline)}", f"date: {iso}",
                              f"tags: [{tags}]", "---"]
                    fm_paths.append(rel)
                if di in missing_day_set:
                    broken_links.append({"path": rel, "line": len(lines) + 1, "column": 5,
                                         "target": f"/{ddir}/index.md",
                                         "kind": "missing-day-page"})
                lines.append(f"### [{iso}](/{ddir}/index.md)")
                lines.append("")
                lines.append(f"# {e.headline} ")
                lines.append("")
                npara = rt.choices((1, 2, 3, 4, 5), weights=(2, 3, 3, 2, 1))[0]
                for pi in range(npara):
                    nsent = rt.randint(3, 11)
                    para = " ".join(tx.sentence(True, e.mentions) for _ in range(nsent))
                    if pi == npara - 1 and rand() < 0.6:
                        # excerpt cut mid-sentence
                        cut = para.rfind(" ", 0, max(20, len(para) - rt.randint(5, 60)))
                        para = para[:cut] if cut > 0 else para
                        para = para.rstrip(",") if para.endswith(",") else para
                    if rand() < rare_p:
                        para = para.replace(" ", f" {RARE_WORD} ", 1)
                    lines.append(para)
                    lines.append("")
                lines.append("")
                lines.append("### Source:")
                lines.append("")
                ypath = f"{d.year}/{d.month:02d}/{d.day:02d}"
                pubs = rt.sample(PUBLISHERS, e.nsrc)
                for pub in pubs:
                    dom = slugify(pub)
                    lines.append(f"1. [{pub}](https://www.example-{dom}.com/"
                                 f"{rt.choice(SECTIONS)}/{ypath}/{e.slug[:70].rstrip('-')}"
                                 f"-{rt.randrange(10**5, 10**9)}.html)")
                if e.cover:
                    tok = "".join(rt.choices(_B64, k=22))
                    hx = "%040x" % rt.getrandbits(160)
                    cover = f"1. [Cover Image](https://img.example.com/uu/api/res/1.2/{tok}--/{hx}.jpg)"
                    # usually last, sometimes among the sources
                    at = len(lines) - (rt.randrange(len(pubs)) if rand() < 0.2 else 0)
                    lines.insert(at, cover)
                items: list[tuple[str, str, str, str | None]] = []
                etopics = set(e.topics)
                for j in e.related:
                    t = evs[j]
                    shared = [topics[x] for x in t.topics if x in etopics]
                    ctx = ", ".join(sorted(shared or [topics[x] for x in t.topics]))
                    items.append((t.headline, f"/{day_dir(t.date)}/{t.slug}.md", ctx, None))
                for pos, item in sorted(inject.get(ei, ()), key=lambda x: x[0], reverse=True):
                    items.insert(pos, item)
                if items:
                    lines.append("")
                    lines.append("### Related:")
                    lines.append("")
                    for n, (text, target, ctx, kind) in enumerate(items, 1):
                        if kind is not None:
                            broken_links.append({"path": rel, "line": len(lines) + 1,
                                                 "column": len(str(n)) + 3,
                                                 "target": target, "kind": kind})
                        lines.append(f"{n}. [{text} ]({target}) _Context: {ctx}_")
                n_links += 1 + len(items)
                text = "\n".join(lines) + "\n"
                hits = match(text)
                dec_hits = match(html.unescape(text)) if "&" in text else hits
                for k in range(len(pats)):
                    if hits[k]:
                        cnt_files[k] += 1
                        cnt_events[k] += 1
                    if dec_hits[k]:
                        cnt_dec[k] += 1
                if e.crlf:
                    text = text.replace("\n", "\r\n")
                    crlf_paths.append(rel)
                data = text.encode("utf-8")
                total_bytes += len(data)
                batch.append((rel, data))
                written += 1
                if written >= next_report:
                    say(f"{written}/{nev} events written")
                    next_report += 10000
            # day page
            if di not in missing_day_set:
                parts = [f"# {iso}", ""]
                for ei in day_events[di]:
                    e = evs[ei]
                    parts.append(f"1. [{e.headline} ](/{ddir}/{e.slug}.md)")
                n_links += len(day_events[di])
                text = "\n".join(parts) + "\n"
                for k, hit in enumerate(match(text)):
                    if hit:
                        cnt_files[k] += 1
                data = text.encode("utf-8")
                total_bytes += len(data)
                batch.append((f"{ddir}/index.md", data))
            writer.put(ddir, batch)
    except BaseException:
        writer.abort()
        raise
    writer.close()

    broken_links.sort(key=lambda b: (b["path"], b["line"], b["column"]))
    kinds_count: dict[str, int] = {}
    for b in broken_links:
        kinds_count[b["kind"]] = kinds_count.get(b["kind"], 0) + 1
    n_day_pages = len(day_idx) - len(missing_days)
    per_day = [counts[i] for i in range(ndays)]
    manifest = {
        "generator": "bench/gen_archive.py",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "events": nev,
        "files": {"events": nev, "day_pages": n_day_pages, "total": nev + n_day_pages},
        "total_bytes": total_bytes,
        "date_range": {"first": all_days[day_idx[0]].isoformat(),
                       "last": all_days[day_idx[-1]].isoformat(),
                       "span_start": start.isoformat(), "span_end": end.isoformat()},
        "days": {"in_span": ndays, "with_events": len(day_idx),
                 "empty": ndays - len(day_idx), "max_events_per_day": max(per_day)},
        "topics": len(topics),
        "internal_links": n_links,
        "broken": len(broken_links),
        "broken_by_kind": dict(sorted(kinds_count.items())),
        "broken_links": broken_links,
        "missing_day_pages": sorted(f"{day_dir(all_days[di])}/index.md" for di in missing_days),
        "front_matter_files": sorted(fm_paths),
        "crlf_files": sorted(crlf_paths),
        "search_patterns": [
            {"pattern": p, "fixed_string": fixed, "note": note,
             "files": cnt_files[k], "event_files": cnt_events[k],
             "event_files_decoded": cnt_dec[k]}
            for k, (p, fixed, note, _h, _rx) in enumerate(pats)],
        "notes": {
            "paths": "relative to OUT_DIR, posix; link targets are site-absolute as written",
            "column": "1-based column of the '[' that starts the link",
            "files_count": "files = what `rg -l [-F] PATTERN OUT_DIR/news | wc -l` prints "
                           "(event files and day pages); event_files excludes index.md",
            "slug_rule": "lowercase; runs of [^a-z0-9] -> '-'; strip '-'; cut to 150; strip '-'",
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(man_path, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(manifest, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    say(f"done: {nev} events, {nev + n_day_pages} files, {total_bytes / 1e6:.1f} MB, "
        f"{len(broken_links)} broken links")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path, help="writes OUT_DIR/news/... and OUT_DIR/manifest.json")
    ap.add_argument("--events", type=int, default=100000, help="number of events (default 100000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--broken", type=int, default=None,
                    help="number of broken internal links (default: 0.2%% of events, >= 20)")
    ap.add_argument("--force", action="store_true",
                    help="delete an existing OUT_DIR/news and manifest.json first")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    a = ap.parse_args(argv)
    try:
        generate(a.out_dir, a.events, a.seed, a.broken, overwrite=a.force, progress=not a.quiet)
    except (FileExistsError, ValueError) as exc:
        print(f"gen_archive: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
