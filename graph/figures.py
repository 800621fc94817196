"""Figure extractor: every number the report states, with its qualifier and classifier.

The coverage check (`graph.coverage`) and the consistency check (`graph.consistency`) read
figures through this module, so that "what counts as a figure" is decided in one place.
`dcdr extract FILE` calls `main(path)` to print a draft of candidate observations for a new
text, so that another part of the report can be curated the same way as Part 4.

Figures written in Chinese numerals are figures too: 三级以上 (at least three levels), 五级
(five levels), 连续第六年 (the sixth consecutive year: six years). A Chinese numeral counts only
when a classifier follows it, so that words built on numerals stay words: 一网通办, 一体化,
四大检察, 全国两会, 第四部分 and the (一) headings carry none. A lone 一 before a classifier is
the article "a" (一个, 一项), not a count, and is left out unless a qualifier makes it a figure.

What is left out on purpose: dates (2020年, 11月底, 2020年2月), numbers that are names
(12309中国检察网, 全国12315平台: a bare integer with neither multiplier, percent sign,
qualifier nor classifier) and ordinals (第6, 第四部分), except the count of a run of years
(连续第六年).
"""

import re
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD

from graph.namespaces import CURRENCY, DCDR, ID, PREFIXES, UNIT

# Longest alternatives first: the regex engine takes the first alternative that matches.
PREFIX_QUALIFIERS = ("超过", "突破", "将近", "大约", "超", "近", "约", "逾")
INFIX_QUALIFIERS = ("余", "多")
SUFFIX_QUALIFIERS = ("以上", "左右")
MULTIPLIERS = {"万亿": Decimal(10) ** 12, "亿": Decimal(10) ** 8, "万": Decimal(10) ** 4}
CLASSIFIERS = (
    "人次",
    "分钟",
    "个",
    "项",
    "条",
    "件",
    "份",
    "次",
    "户",
    "家",
    "种",
    "类",
    "场",
    "篇",
    "字",
    "人",
    "元",
    "名",
    "所",
    "台",
    "套",
    "部",
    "张",
    "页",
    "天",
    "小时",
    "秒",
)
# Calendar words after a number make it a date, not a figure.
DATE_WORDS = ("年", "月", "日", "号")
# Classifiers that follow Chinese numerals in the report but not Arabic ones: 级 (administrative
# levels: 省、市、县三级).
CHINESE_ONLY_CLASSIFIERS = ("级",)
CHINESE_DIGITS_VALUE = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CHINESE_POWERS = {"十": 10, "百": 100, "千": 1000}

COMPARATOR_OF_QUALIFIER = {
    "余": "moreThan",
    "多": "moreThan",
    "超": "moreThan",
    "超过": "moreThan",
    "突破": "moreThan",
    "逾": "moreThan",
    "以上": "atLeast",
    "近": "nearly",
    "将近": "nearly",
    "约": "approximately",
    "大约": "approximately",
    "左右": "approximately",
}

# Units the curated facts use for each classifier; `main` uses it to draft observations.
UNIT_OF_CLASSIFIER: dict[str, URIRef] = {
    "%": UNIT["PERCENT"],
    "分钟": UNIT["MIN"],
    "元": CURRENCY["CNY"],
    "个": ID["unit/item"],
    "项": ID["unit/matter"],
    "条": ID["unit/entry"],
    "件": ID["unit/case"],
    "份": ID["unit/document"],
    "次": ID["unit/occurrence"],
    "人次": ID["unit/person-time"],
    "户": ID["unit/entity"],
    "家": ID["unit/organisation"],
    "种": ID["unit/kind"],
    "类": ID["unit/category"],
    "场": ID["unit/session"],
    "篇": ID["unit/article"],
    "字": ID["unit/character"],
    "人": ID["unit/person"],
    "级": ID["unit/level"],
    "年": UNIT["YR"],
}


def _alternation(words: tuple[str, ...] | list[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


FIGURE_PATTERN = re.compile(
    rf"(?P<pre>{_alternation(PREFIX_QUALIFIERS)})?"
    r"(?P<num>(?<![\d.])\d+(?:\.\d+)?)"
    rf"(?P<infix>{_alternation(INFIX_QUALIFIERS)})?"
    rf"(?P<mult>{_alternation(list(MULTIPLIERS))})?"
    rf"(?P<post>{_alternation(INFIX_QUALIFIERS)})?"
    r"(?P<pct>%)?"
    rf"(?P<cls>{_alternation(CLASSIFIERS)})?"
    rf"(?P<suffix>{_alternation(SUFFIX_QUALIFIERS)})?"
)


# 〇 and 零 are left out of the numeral: they write years digit by digit (二〇二〇年), and the
# report writes no figure with them.
CHINESE_NUMERAL = "[一二两三四五六七八九十百千]+"
CHINESE_FIGURE_PATTERN = re.compile(
    r"(?P<run>连续第)?"
    rf"(?P<pre>{_alternation(PREFIX_QUALIFIERS)})?"
    rf"(?P<num>{CHINESE_NUMERAL})"
    rf"(?P<infix>{_alternation(INFIX_QUALIFIERS)})?"
    rf"(?P<mult>{_alternation(list(MULTIPLIERS))})?"
    rf"(?P<post>{_alternation(INFIX_QUALIFIERS)})?"
    rf"(?P<cls>{_alternation([*CLASSIFIERS, *CHINESE_ONLY_CLASSIFIERS, '年'])})"
    rf"(?P<suffix>{_alternation(SUFFIX_QUALIFIERS)})?"
)


class FigureError(ValueError):
    """A text that cannot be read as a figure (raised by `parse_figure`)."""


@dataclass(frozen=True)
class Figure:
    """One figure as written, and what it means once expanded."""

    text: str  # as written: qualifiers, number, multiplier, classifier ("300余万项")
    start: int  # offset of `text` in the string searched (code points)
    end: int
    number: str  # the digits as written ("1.1")
    multiplier: str  # "", "万", "亿" or "万亿"
    value: Decimal  # fully expanded (1.1亿 → 110000000); a percentage stays as shown
    qualifier: str | None  # the word that makes it approximate ("余", "超过", "以上" …)
    comparator: str  # local name of the dcdr:Comparator individual
    classifier: str | None  # "份", "人次" … or "%" for a percentage

    @property
    def is_percent(self) -> bool:
        return self.classifier == "%"

    @property
    def decimals_shown(self) -> int:
        """How many decimals the writer showed: the rounding a share is stated with."""
        return len(self.number.partition(".")[2])


def expand(number: str, multiplier: str = "") -> Decimal:
    """The full value of a number written with 万/亿 (1775.1, 万 → 17751000)."""
    try:
        value = Decimal(number) * MULTIPLIERS.get(multiplier, Decimal(1))
    except InvalidOperation as error:
        raise FigureError(f"not a number: {number!r}") from error
    # Integral values are given without a fractional part so that 1.1亿 compares as 110000000.
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def chinese_number(numeral: str) -> int:
    """The value of a Chinese numeral below 10,000 (三 → 3, 十二 → 12, 一百二十 → 120)."""
    total = 0
    digit: int | None = None
    for char in numeral:
        if char in "零〇" and digit is None:
            continue  # a place holder between powers: 两千零五
        if char in CHINESE_DIGITS_VALUE:
            if digit is not None:
                raise FigureError(f"not a Chinese numeral: {numeral!r}")
            digit = CHINESE_DIGITS_VALUE[char]
        elif char in CHINESE_POWERS:
            total += (1 if digit is None else digit) * CHINESE_POWERS[char]
            digit = None
        else:
            raise FigureError(f"not a Chinese numeral: {numeral!r}")
    return total + (digit or 0)


def _chinese_is_excluded(text: str, match: re.Match[str]) -> bool:
    before = text[match.start() - 1 : match.start()] if match.start() > 0 else ""
    run = match.group("run") is not None
    if match.group("cls") == "年":
        # 连续第六年 counts years; any other numeral before 年 is part of a date.
        return not run
    if run:
        return True
    if before == "第":
        return True  # an ordinal: 第四部分
    # A numeral glued to another numeral word (十一五, 二〇二〇) is a name or a date.
    if before in CHINESE_DIGITS_VALUE or before in CHINESE_POWERS:
        return True
    approximate = match.group("pre") or match.group("infix") or match.group("post")
    return match.group("num") == "一" and not (approximate or match.group("suffix"))


def _is_excluded(text: str, match: re.Match[str]) -> bool:
    start, end = match.start("num"), match.end("num")
    after = text[end : end + 1]
    before = text[start - 1 : start] if start > 0 else ""
    if not match.group("mult") and not match.group("pct") and after in DATE_WORDS:
        return True
    if before == "第" and not match.group("pre"):
        return True
    approximate = match.group("pre") or match.group("infix") or match.group("post")
    bare = not (match.group("mult") or match.group("pct") or match.group("cls") or approximate)
    # A bare integer glued to a name (12309中国检察网) is an identifier, not a quantity.
    return bare


def _figure(match: re.Match[str], value: Decimal, classifier: str | None) -> Figure:
    """The figure a match of FIGURE_PATTERN or CHINESE_FIGURE_PATTERN writes, worth `value`."""
    qualifiers = [
        match.group(name)
        for name in ("pre", "infix", "post", "suffix")
        if match.group(name) is not None
    ]
    # The first qualifier decides: the text never stacks two that disagree.
    comparator = COMPARATOR_OF_QUALIFIER[qualifiers[0]] if qualifiers else "exactly"
    return Figure(
        text=match.group(0),
        start=match.start(),
        end=match.end(),
        number=match.group("num"),
        multiplier=match.group("mult") or "",
        value=value,
        qualifier=qualifiers[0] if qualifiers else None,
        comparator=comparator,
        classifier=classifier,
    )


def find_figures(text: str) -> list[Figure]:
    """Every figure in `text`, in Arabic or Chinese numerals, in order, without dates, names and
    ordinals."""
    figures = [
        _figure(
            match,
            expand(match.group("num"), match.group("mult") or ""),
            "%" if match.group("pct") else match.group("cls"),
        )
        for match in FIGURE_PATTERN.finditer(text)
        if not _is_excluded(text, match)
    ]
    figures += [
        _figure(
            match,
            expand(str(chinese_number(match.group("num"))), match.group("mult") or ""),
            match.group("cls"),
        )
        for match in CHINESE_FIGURE_PATTERN.finditer(text)
        if not _chinese_is_excluded(text, match)
    ]
    return sorted(figures, key=lambda figure: figure.start)


def parse_figure(stated: str) -> Figure:
    """Read one figure as written ("超过319亿人次"); the whole string must be that figure."""
    figures = find_figures(stated)
    if len(figures) != 1 or figures[0].text != stated:
        raise FigureError(f"{stated!r} is not exactly one figure")
    return figures[0]


@dataclass(frozen=True)
class Sentence:
    """A sentence of a part: its IRI suffix (p4-s4-07) and its span in the part's text."""

    slug: str
    section: int
    number: int
    begin: int
    end: int
    text: str


SECTION_HEADING = re.compile(r"^\([一二三四五六七八九十]+\).*$", re.MULTILINE)
PART_HEADING = re.compile(r"^.*第(?P<part>[一二三四五六七八九十]+)部分[::].*$", re.MULTILINE)


def part_context(source: str) -> tuple[int, str]:
    """The part number and the part's text, from its heading line to the end of the file.

    A file without a part heading (第N部分:) is read whole, as part 0.
    """
    heading = PART_HEADING.search(source)
    if heading is None:
        return 0, source
    return chinese_number(heading.group("part")), source[heading.start() :]


def split_sentences(context: str, part: int = 4) -> list[Sentence]:
    """Sentences of a part, numbered from 01 within each section, split after each `。`.

    Offsets are code points into `context`; heading lines are not sentences.
    """
    headings = list(SECTION_HEADING.finditer(context))
    if headings:
        bodies = [
            (h.end(), headings[i + 1].start() if i + 1 < len(headings) else len(context))
            for i, h in enumerate(headings)
        ]
    else:
        bodies = [(0, len(context))]
    sentences = []
    for section, (body_start, body_end) in enumerate(bodies, start=1):
        number = 0
        for line in re.finditer(r"[^\n]+", context[body_start:body_end]):
            # A line without a full stop is a heading or a title, not running text.
            if "。" not in line.group(0):
                continue
            for match in re.finditer(r"[^。]+。?", line.group(0)):
                raw = match.group(0)
                text = raw.strip()
                if not text:
                    continue
                begin = body_start + line.start() + match.start() + raw.index(text)
                number += 1
                sentences.append(
                    Sentence(
                        slug=f"p{part}-s{section}-{number:02d}",
                        section=section,
                        number=number,
                        begin=begin,
                        end=begin + len(text),
                        text=text,
                    )
                )
    return sentences


def _numeric_literal(value: Decimal) -> Literal:
    if value == value.to_integral_value():
        return Literal(int(value), datatype=XSD.integer)
    return Literal(value, datatype=XSD.decimal)


def draft_observations(source: str) -> Graph:
    """Candidate observations for every figure of a text: value, comparator, unit, statedAs
    and sentence are read off the text; `about` and `metric` are left for the curator."""
    part, context = part_context(source)
    draft = Graph()
    for prefix, namespace in PREFIXES.items():
        draft.bind(prefix, namespace)
    for sentence in split_sentences(context, part):
        for index, figure in enumerate(find_figures(sentence.text), start=1):
            node = ID[f"observation/draft-{sentence.slug}-{index}"]
            draft.add((node, RDF.type, DCDR.Observation))
            draft.add((node, DCDR.value, _numeric_literal(figure.value)))
            draft.add((node, DCDR.comparator, DCDR[figure.comparator]))
            draft.add((node, DCDR.statedAs, Literal(figure.text, lang="zh")))
            draft.add((node, PROV.wasDerivedFrom, ID[f"sentence/{sentence.slug}"]))
            unit = UNIT_OF_CLASSIFIER.get(figure.classifier or "")
            if unit is not None:
                draft.add((node, DCDR.unit, unit))
            offset = sentence.begin + figure.start
            draft.add(
                (
                    node,
                    RDFS.comment,
                    Literal(
                        "TODO dcdr:about, dcdr:metric, asOf/period, refDate, timeBasis; "
                        f"context offset {offset}"
                    ),
                )
            )
    return draft


def main(path: str | Path) -> int:
    """`dcdr extract FILE`: print a Turtle draft of candidate observations for FILE."""
    file = Path(path)
    try:
        source = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"dcdr extract: no such file: {file}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as error:
        print(f"dcdr extract: cannot read {file} as UTF-8 text: {error}", file=sys.stderr)
        return 2
    draft = draft_observations(source)
    count = len(set(draft.subjects(RDF.type, DCDR.Observation)))
    print(f"# {count} candidate observation(s) drafted from {file.name}")
    print(draft.serialize(format="turtle"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]) if len(sys.argv) == 2 else 2)
