"""Parties: states and organisations, found by name, short name, demonym, adjective or metonym.

States come from pycountry plus a curated table of the ways news and official texts name them:
short names ("U.S."), demonyms and adjectives ("Nigerien" is Niger, "Nigerian" is Nigeria),
capitals and seats of government used as metonyms ("Washington", "the Kremlin"). Lookup works on
word tokens, not one giant regex alternation, so a 10 MB text costs a few dictionary probes per
word.
"""

from __future__ import annotations

from dataclasses import dataclass

import pycountry

from . import fastre
from .model import PartyRef

# Names whose pycountry form reads badly in a report.
DISPLAY_NAMES = {
    "BO": "Bolivia",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "CI": "Ivory Coast",
    "FM": "Micronesia",
    "GB": "United Kingdom",
    "IR": "Iran",
    "KP": "North Korea",
    "KR": "South Korea",
    "LA": "Laos",
    "MD": "Moldova",
    "PS": "Palestine",
    "RU": "Russia",
    "SU": "Soviet Union",
    "SY": "Syria",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "US": "United States",
    "VE": "Venezuela",
    "VN": "Vietnam",
    "XK": "Kosovo",
}

# code: extra names / demonyms and adjectives / capitals and seats of power (metonyms).
# Adjectives are the words that make "French troops" or "Nigerien junta" name a party.
STATE_ALIASES = """
AF: Afghanistan / Afghan, Afghans / Kabul
AL: / Albanian, Albanians / Tirana
DZ: / Algerian, Algerians / Algiers
AO: / Angolan, Angolans / Luanda
AR: / Argentine, Argentinian, Argentines / Buenos Aires
AM: / Armenian, Armenians / Yerevan
AU: / Australian, Australians / Canberra
AT: / Austrian, Austrians / Vienna
AZ: / Azerbaijani, Azeri, Azerbaijanis / Baku
BH: / Bahraini, Bahrainis / Manama
BD: / Bangladeshi, Bangladeshis / Dhaka
BY: / Belarusian, Belarusians / Minsk
BE: / Belgian, Belgians / Brussels
BJ: / Beninese / Porto-Novo, Cotonou
BO: / Bolivian, Bolivians / La Paz, Sucre
BA: Bosnia, Bosnia-Herzegovina / Bosnian, Bosnians / Sarajevo
BW: / Botswanan, Batswana, Motswana / Gaborone
BR: / Brazilian, Brazilians / Brasilia, Brasília
BG: / Bulgarian, Bulgarians / Sofia
BF: Burkina / Burkinabe, Burkinabè, Burkinabes / Ouagadougou
BI: / Burundian, Burundians / Gitega, Bujumbura
KH: / Cambodian, Cambodians / Phnom Penh
CM: / Cameroonian, Cameroonians / Yaounde, Yaoundé
CA: / Canadian, Canadians / Ottawa
CF: CAR / Central African / Bangui
TD: / Chadian, Chadians / N'Djamena, N’Djamena, Ndjamena
CL: / Chilean, Chileans / Santiago
CN: People's Republic of China, PRC / Chinese / Beijing
CO: / Colombian, Colombians / Bogota, Bogotá
CD: Congo, DR Congo, DRC, D.R. Congo, Democratic Republic of Congo, Congo-Kinshasa /
    Congolese / Kinshasa
CG: Congo-Brazzaville, Republic of Congo / / Brazzaville
CI: Ivory Coast, Cote d'Ivoire, Côte d’Ivoire / Ivorian, Ivorians / Abidjan, Yamoussoukro
HR: / Croatian, Croats / Zagreb
CU: / Cuban, Cubans / Havana
CY: / Cypriot, Cypriots / Nicosia
CZ: Czech Republic / Czech, Czechs / Prague
DK: / Danish, Danes / Copenhagen
DJ: / Djiboutian, Djiboutians /
EG: / Egyptian, Egyptians / Cairo
ER: / Eritrean, Eritreans / Asmara
EE: / Estonian, Estonians / Tallinn
ET: / Ethiopian, Ethiopians / Addis Ababa
FI: / Finnish, Finns / Helsinki
FR: / French, Frenchmen / Paris, Elysee, Élysée
GA: / Gabonese / Libreville
GM: The Gambia / Gambian, Gambians / Banjul
GE: / Georgian, Georgians / Tbilisi
DE: / German, Germans / Berlin
GH: / Ghanaian, Ghanaians / Accra
GR: / Greek, Greeks / Athens
GN: Guinea-Conakry / Guinean, Guineans / Conakry
GW: / Bissau-Guinean / Bissau
HT: / Haitian, Haitians / Port-au-Prince
HU: / Hungarian, Hungarians / Budapest
IN: / Indian, Indians / New Delhi
ID: / Indonesian, Indonesians / Jakarta
IR: Islamic Republic of Iran / Iranian, Iranians / Tehran
IQ: / Iraqi, Iraqis / Baghdad
IE: / Irish / Dublin
IL: / Israeli, Israelis / Jerusalem
IT: / Italian, Italians / Rome
JP: / Japanese / Tokyo
JO: / Jordanian, Jordanians / Amman
KZ: / Kazakh, Kazakhstani, Kazakhs / Astana
KE: / Kenyan, Kenyans / Nairobi
XK: Kosovo / Kosovar, Kosovars / Pristina
KW: / Kuwaiti, Kuwaitis / Kuwait City
KG: Kyrgyzstan / Kyrgyz / Bishkek
LV: / Latvian, Latvians / Riga
LB: / Lebanese / Beirut
LR: / Liberian, Liberians / Monrovia
LY: / Libyan, Libyans / Tripoli
LT: / Lithuanian, Lithuanians / Vilnius
MG: / Malagasy / Antananarivo
MW: / Malawian, Malawians / Lilongwe
MY: / Malaysian, Malaysians / Kuala Lumpur
ML: / Malian, Malians / Bamako
MR: / Mauritanian, Mauritanians / Nouakchott
MX: / Mexican, Mexicans / Mexico City
MD: / Moldovan, Moldovans / Chisinau, Chișinău
MN: / Mongolian, Mongolians / Ulaanbaatar
ME: / Montenegrin / Podgorica
MA: / Moroccan, Moroccans / Rabat
MZ: / Mozambican, Mozambicans / Maputo
MM: Burma / Myanmar, Burmese / Naypyidaw
NA: / Namibian, Namibians / Windhoek
NP: / Nepalese, Nepali / Kathmandu
NL: Holland, the Netherlands / Dutch / Amsterdam, The Hague
NZ: / New Zealander, New Zealanders / Wellington
NI: / Nicaraguan, Nicaraguans / Managua
NE: / Nigerien, Nigeriens / Niamey
NG: / Nigerian, Nigerians / Abuja
KP: North Korea, DPRK / North Korean, North Koreans / Pyongyang
MK: North Macedonia, Macedonia / Macedonian / Skopje
NO: / Norwegian, Norwegians / Oslo
OM: / Omani, Omanis / Muscat
PK: / Pakistani, Pakistanis / Islamabad
PS: Palestine, Palestinian territories / Palestinian, Palestinians / Ramallah
PA: / Panamanian, Panamanians / Panama City
PH: the Philippines / Filipino, Philippine, Filipinos / Manila
PL: / Polish, Poles / Warsaw
PT: / Portuguese / Lisbon
QA: / Qatari, Qataris / Doha
RO: / Romanian, Romanians / Bucharest
RU: Russian Federation / Russian, Russians / Moscow, Kremlin
RW: / Rwandan, Rwandans / Kigali
SA: / Saudi, Saudis / Riyadh
SN: / Senegalese / Dakar
RS: / Serbian, Serbs / Belgrade
SL: / Sierra Leonean, Sierra Leoneans / Freetown
SG: / Singaporean, Singaporeans /
SK: / Slovak, Slovaks / Bratislava
SI: / Slovenian, Slovene, Slovenes / Ljubljana
SO: / Somali, Somalis / Mogadishu
ZA: / South African, South Africans / Pretoria
KR: South Korea, ROK / South Korean, South Koreans / Seoul
SS: / South Sudanese / Juba
ES: / Spanish, Spaniards / Madrid
LK: / Sri Lankan, Sri Lankans / Colombo
SD: / Sudanese / Khartoum
SE: / Swedish, Swedes / Stockholm
CH: / Swiss / Bern
SY: Syria / Syrian, Syrians / Damascus
TW: Taiwan / Taiwanese / Taipei
TJ: / Tajik, Tajikistani, Tajiks / Dushanbe
TZ: Tanzania / Tanzanian, Tanzanians / Dodoma, Dar es Salaam
TH: / Thai / Bangkok
TL: East Timor / Timorese / Dili
TG: / Togolese / Lome, Lomé
TN: / Tunisian, Tunisians / Tunis
TR: Turkey, Türkiye / Turkish, Turks / Ankara
TM: / Turkmen / Ashgabat
UG: / Ugandan, Ugandans / Kampala
UA: the Ukraine / Ukrainian, Ukrainians / Kyiv, Kiev
AE: UAE, U.A.E., Emirates / Emirati, Emiratis / Abu Dhabi
GB: UK, U.K., Britain, Great Britain, the United Kingdom / British, Britons / London,
    Downing Street, Whitehall
US: US, U.S., USA, U.S.A., United States, the United States, America,
    United States of America / American, Americans / Washington, Washington D.C., Pentagon,
    White House
UY: / Uruguayan, Uruguayans / Montevideo
UZ: / Uzbek, Uzbeks / Tashkent
VE: Venezuela / Venezuelan, Venezuelans / Caracas
VN: Vietnam, Viet Nam / Vietnamese / Hanoi
EH: Western Sahara / Sahrawi / Laayoune
YE: / Yemeni, Yemenis / Sanaa, Sana'a
ZM: / Zambian, Zambians / Lusaka
ZW: / Zimbabwean, Zimbabweans / Harare
SU: Soviet Union, USSR, U.S.S.R., Union of Soviet Socialist Republics / Soviet, Soviets /
"""

# Names that are also common words or persons' names when lower-case or mixed-case.
UPPERCASE_ONLY = {"US", "UK", "UN", "EU", "AU", "CAR", "DRC", "PRC", "ROK", "UAE", "USA"}

# code: name / aliases / host state (for missions deployed to one country).
ORGANISATIONS = """
UN: United Nations / UN, U.N., Security Council, UN Security Council, blue helmets, peacekeepers /
NATO: North Atlantic Treaty Organization / NATO, North Atlantic Treaty Organisation, ISAF,
    Resolute Support, Resolute Support Mission /
EU: European Union / EU, EUTM, EUTM Mali, EUFOR /
AU: African Union / AU, African Union Mission /
ECOWAS: Economic Community of West African States / ECOWAS, ECOMOG, CEDEAO /
SADC: Southern African Development Community / SADC, SAMIDRC /
EAC: East African Community / EAC, EACRF, East African Community Regional Force /
CSTO: Collective Security Treaty Organization / CSTO /
COALITION: Global Coalition to Defeat ISIS / coalition, Coalition, US-led coalition,
    U.S.-led coalition, Global Coalition, international coalition, anti-ISIS coalition /
CJTF-OIR: Combined Joint Task Force – Operation Inherent Resolve / CJTF-OIR,
    Operation Inherent Resolve, Combined Joint Task Force-Operation Inherent Resolve /
MINUSMA: United Nations Multidimensional Integrated Stabilization Mission in Mali / MINUSMA / ML
MONUSCO: United Nations Organization Stabilization Mission in the Democratic Republic
    of the Congo / MONUSCO / CD
MONUC: United Nations Organization Mission in the Democratic Republic of the Congo / MONUC / CD
MINUSCA: United Nations Multidimensional Integrated Stabilization Mission in the Central
    African Republic / MINUSCA / CF
UNIFIL: United Nations Interim Force in Lebanon / UNIFIL / LB
UNMISS: United Nations Mission in South Sudan / UNMISS / SS
UNAMID: African Union-United Nations Hybrid Operation in Darfur / UNAMID / SD
UNMIL: United Nations Mission in Liberia / UNMIL / LR
UNOCI: United Nations Operation in Côte d'Ivoire / UNOCI / CI
MINUSTAH: United Nations Stabilization Mission in Haiti / MINUSTAH / HT
UNAMSIL: United Nations Mission in Sierra Leone / UNAMSIL / SL
UNFICYP: United Nations Peacekeeping Force in Cyprus / UNFICYP / CY
UNDOF: United Nations Disengagement Observer Force / UNDOF / SY
MINURSO: United Nations Mission for the Referendum in Western Sahara / MINURSO / EH
UNMIK: United Nations Interim Administration Mission in Kosovo / UNMIK / XK
KFOR: Kosovo Force / KFOR / XK
UNMIT: United Nations Integrated Mission in Timor-Leste / UNMIT / TL
UNAMI: United Nations Assistance Mission for Iraq / UNAMI / IQ
UNAMA: United Nations Assistance Mission in Afghanistan / UNAMA / AF
UNSOM: United Nations Assistance Mission in Somalia / UNSOM / SO
AMISOM: African Union Mission in Somalia / AMISOM / SO
ATMIS: African Union Transition Mission in Somalia / ATMIS / SO
TAKUBA: Task Force Takuba / Takuba, Task Force Takuba / ML
BARKHANE: Operation Barkhane / Barkhane, Operation Barkhane /
"""


@dataclass(frozen=True)
class Party:
    """One entry of the gazetteer: who a mention names, and how it names it."""

    ref: PartyRef
    form: str  # "name", "adjective" or "metonym"
    mission_host: str | None = None  # UN and AU missions are deployed to one country


@dataclass(frozen=True)
class PartyMention:
    party: Party
    start: int
    end: int

    @property
    def code(self) -> str:
        return self.party.ref.code


# Word tokens: dotted abbreviations ("U.S.", "U.S.S.R."), then words with inner apostrophes
# ("N'Djamena") but not the possessive "'s".
TOKEN_RE = fastre.compile(r"(?:[A-Za-z]\.){2,}|\w+(?:['’](?![sS]\b)\w+)*")
MAX_NAME_TOKENS = 8


def _key(tokens: list[str]) -> str:
    return " ".join(t.replace("’", "'").lower() for t in tokens)


def _tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def _table_rows(table: str) -> list[str]:
    """Rows of a table above; an indented line continues the row before it."""
    rows: list[str] = []
    for line in table.strip().splitlines():
        if line.startswith(" ") and rows:
            rows[-1] += " " + line.strip()
        else:
            rows.append(line)
    return rows


def _build_gazetteer() -> dict[str, Party]:
    gazetteer: dict[str, Party] = {}

    def add(name: str, party: Party, *, replace: bool = False) -> None:
        name = name.strip()
        if not name:
            return
        key = _key(_tokens(name))
        if key and (replace or key not in gazetteer):
            gazetteer[key] = party

    states: dict[str, PartyRef] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        name = DISPLAY_NAMES.get(code) or getattr(country, "common_name", None) or country.name
        states[code] = PartyRef(code=code, name=name, kind="state")
    states["SU"] = PartyRef(code="SU", name=DISPLAY_NAMES["SU"], kind="state")
    states["XK"] = PartyRef(code="XK", name=DISPLAY_NAMES["XK"], kind="state")
    for country in pycountry.countries:
        party = Party(states[country.alpha_2], "name")
        for name in (
            country.name,
            getattr(country, "common_name", ""),
            states[country.alpha_2].name,
        ):
            # "Korea, Republic of" only reads as a name before the comma.
            if "," not in name and "(" not in name:
                add(name, party)
        official = getattr(country, "official_name", "")
        if official:
            add(official, party)
    for line in _table_rows(STATE_ALIASES):
        code, rest = line.split(":", 1)
        names, adjectives, capitals = (part.split(",") for part in (rest.split("/") + ["", ""])[:3])
        ref = states[code.strip()]
        for name in names:
            add(name, Party(ref, "name"), replace=True)
        for adjective in adjectives:
            add(adjective, Party(ref, "adjective"), replace=True)
        for capital in capitals:
            add(capital, Party(ref, "metonym"), replace=True)
    for line in _table_rows(ORGANISATIONS):
        code, rest = line.split(":", 1)
        name, aliases, host = (part.strip() for part in rest.split("/"))
        party = Party(PartyRef(code=code, name=name, kind="organisation"), "name", host or None)
        add(name, party, replace=True)
        for alias in aliases.split(","):
            add(alias, party, replace=True)
    return gazetteer


GAZETTEER = _build_gazetteer()
# The first words of every name ("the", "the united", "the united kingdom", ...): a name is
# looked up only while the words read so far can still begin one, so a common first word such
# as "the" costs one probe, not one per length of the longest name it starts.
NAME_PREFIXES: set[str] = set()
for _name in GAZETTEER:
    _words = _name.split(" ")
    NAME_PREFIXES.update(" ".join(_words[:_k]) for _k in range(1, len(_words) + 1))
_LONGEST_NAME = max(name.count(" ") + 1 for name in GAZETTEER)
# Words of one name are joined by spaces, hyphens or dashes, never by commas.
_GLUE_RE = fastre.compile(r"[\s\-–]{0,3}")
STATES = {p.ref.code: p.ref for p in GAZETTEER.values() if p.ref.kind == "state"}
ORGANISATION_PARTIES = {p.ref.code: p for p in GAZETTEER.values() if p.ref.kind == "organisation"}
# Lower-case common words that happen to be names ("coalition" is kept: it names a party).
_CASE_FREE = {"coalition", "peacekeepers", "blue helmets"}
_STOP_STARTS = {"the"}


def state(code: str) -> PartyRef:
    return STATES[code]


def find_parties(text: str, offset: int = 0) -> list[PartyMention]:
    """Every party mention in `text`, longest match first, as offsets into the full input."""
    lowered = text.replace("’", "'").lower()
    if len(lowered) != len(text):  # a rare letter whose lower case is longer: keep offsets
        lowered = "".join(c.lower()[:1] for c in text.replace("’", "'"))
    # The lower-cased text has the same tokens at the same offsets; findall runs in C, and the
    # offsets are only worked out when some word can start a name.
    keys = TOKEN_RE.findall(lowered)
    starts = [i for i, key in enumerate(keys) if key in NAME_PREFIXES]
    mentions: list[PartyMention] = []
    if not starts:
        return mentions
    # Every word character belongs to a token, so each key is found where its token is.
    tokens: list[tuple[int, int]] = []
    at = 0
    for key in keys[: starts[-1] + _LONGEST_NAME]:
        at = lowered.find(key, at)
        tokens.append((at, at + len(key)))
        at += len(key)
    taken_until = 0
    for i in starts:
        if i < taken_until:
            continue
        names: list[tuple[int, Party]] = []
        key, size = keys[i], 1
        while True:
            if key in GAZETTEER:
                names.append((size, GAZETTEER[key]))
            if i + size == len(keys):
                break
            key = f"{key} {keys[i + size]}"
            if key not in NAME_PREFIXES:
                break
            size += 1
        for size, party in reversed(names):  # the longest name first
            gaps = (text[tokens[j][1] : tokens[j + 1][0]] for j in range(i, i + size - 1))
            if not all(_GLUE_RE.fullmatch(gap) for gap in gaps):
                continue
            words = [text[start:end] for start, end in tokens[i : i + size]]
            if not _looks_like_name(words, text, tokens[i][0], tokens[i + size - 1][1]):
                continue
            mentions.append(
                PartyMention(party, offset + tokens[i][0], offset + tokens[i + size - 1][1])
            )
            taken_until = i + size
            break
    return mentions


def _looks_like_name(words: list[str], text: str, start: int, end: int) -> bool:
    phrase = " ".join(words)
    if phrase.lower() in _CASE_FREE:
        return True
    if words[0].lower() in _STOP_STARTS and len(words) > 1:
        words = words[1:]
    # Proper names start upper-case; "chad" or "us" in running text are not parties.
    if not words[0][:1].isupper():
        return False
    bare = phrase.replace(".", "").upper()
    if bare in UPPERCASE_ONLY and not words[0].replace(".", "").isupper():
        return False
    if phrase in ("US", "UN", "AU") and text[start:end].upper() != text[start:end]:
        return False
    return True
