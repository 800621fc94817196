"""Citations: "Cite this" on resource pages and `/cite` in text, BibTeX, RIS and CSL-JSON."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import html5lib
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import pages_fixtures as fx

NS = "{http://www.w3.org/1999/xhtml}"
OBS = str(fx.OBS_JUDGEMENT_VISITS)
TODAY = datetime.datetime.now(datetime.UTC).date().isoformat()


@pytest.fixture()
def client(workbench_app: Flask) -> FlaskClient:
    return workbench_app.test_client()


def cite(client: FlaskClient, fmt: str, iri: str = OBS, lang: str = "en") -> Any:
    response = client.get("/cite", query_string={"iri": iri, "format": fmt, "lang": lang})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


@pytest.mark.parametrize(
    ("fmt", "media", "extension"),
    [
        ("text", "text/plain", "txt"),
        ("bibtex", "application/x-bibtex", "bib"),
        ("ris", "application/x-research-info-systems", "ris"),
        ("csl-json", "application/vnd.citationstyles.csl+json", "json"),
    ],
)
def test_formats_are_downloads_of_their_media_type(
    client: FlaskClient, fmt: str, media: str, extension: str
) -> None:
    response = cite(client, fmt)
    assert response.mimetype == media
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith(f'.{extension}"')


def test_text_names_report_publisher_date_part_section_sentence_iri_version_and_access(
    client: FlaskClient,
) -> None:
    text = cite(client, "text").get_data(as_text=True)
    for part in (
        "Cyberspace Administration of China",
        "Digital China Development Report (2020)",
        "2021-04-25",
        "Part 4",
        "section 4",
        "sentence 2",
        OBS,
        "version test-1",
        f"accessed {TODAY}",
    ):
        assert part in text, part
    chinese = cite(client, "text", lang="zh").get_data(as_text=True)
    for part in (
        "国家互联网信息办公室",
        "《数字中国发展报告(2020年)》",
        "第4节",
        "第2句",
        "访问日期",
    ):
        assert part in chinese, part


def test_bibtex_entry_is_balanced_with_the_fields(client: FlaskClient) -> None:
    entry = cite(client, "bibtex").get_data(as_text=True)
    assert entry.startswith("@misc{dcdr-observation-china-judgements-online-visits-2020,")
    assert entry.count("{") == entry.count("}")
    fields = dict(re.findall(r"^  (\w+) = \{(.*)\},?$", entry, re.MULTILINE))
    assert fields["url"] == OBS
    assert (fields["year"], fields["date"], fields["urldate"]) == ("2021", "2021-04-25", TODAY)
    assert fields["author"] == "{Cyberspace Administration of China}"
    assert fields["chapter"] == "Part 4, section 4, sentence 2"


def test_ris_record(client: FlaskClient) -> None:
    body = cite(client, "ris").get_data(as_text=True)
    lines = body.split("\r\n")
    assert lines[0] == "TY  - DATA" and lines[-2] == "ER  - " and lines[-1] == ""
    tags = dict(line.split("  - ", 1) for line in lines if line)
    assert tags["UR"] == OBS and tags["PY"] == "2021" and tags["DA"] == "2021/04/25"
    assert tags["Y2"] == TODAY.replace("-", "/")


def test_csl_json_item(client: FlaskClient) -> None:
    items = json.loads(cite(client, "csl-json").data)
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "dataset" and item["URL"] == OBS and item["version"] == "test-1"
    assert item["issued"] == {"date-parts": [[2021, 4, 25]]}
    assert item["author"] == [{"literal": "Cyberspace Administration of China"}]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({}, 400),
        ({"iri": "http://example.org/x"}, 400),
        ({"iri": str(fx.ID["agency/nobody"])}, 404),
        ({"iri": OBS, "format": "endnote"}, 400),
    ],
)
def test_bad_requests(client: FlaskClient, query: dict[str, str], status: int) -> None:
    response = client.get("/cite", query_string=query, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.get_json()["message"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    "path",
    [
        "/id/observation/china-judgements-online-visits-2020",
        "/id/platform/china-judgements-online",
        "/id/sentence/p4-s4-02",
        "/id/section/p4-s4",
    ],
)
def test_every_page_kind_offers_cite_this(client: FlaskClient, path: str, lang: str) -> None:
    response = client.get(path, query_string={"lang": lang}, headers={"Accept": "text/html"})
    tree = html5lib.parse(response.data, namespaceHTMLElements=True)
    block = next(s for s in tree.iter(NS + "section") if s.get("class") == "cite")
    text = "".join(block.itertext())
    assert "https://w3id.org/dcdr" + path in text
    assert ("引用本页" if lang == "zh" else "Cite this") in text
    formats = {a.get("data-format") for a in block.iter(NS + "a")} - {None}
    assert formats == {"text", "bibtex", "ris", "csl-json"}


def test_observation_page_is_titled_in_words(client: FlaskClient) -> None:
    response = client.get(
        "/id/observation/china-judgements-online-visits-2020?lang=zh",
        headers={"Accept": "text/html"},
    )
    tree = html5lib.parse(response.data, namespaceHTMLElements=True)
    assert (
        "".join(next(tree.iter(NS + "h1")).itertext())
        == "中国裁判文书网 访问量 截至2020-12-31: 530亿人次"
    )


def test_cite_page_shows_every_format(client: FlaskClient) -> None:
    response = client.get("/cite", query_string={"iri": OBS}, headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    tree = html5lib.parse(response.data, namespaceHTMLElements=True)
    shown = ["".join(pre.itertext()) for pre in tree.iter(NS + "pre")]
    assert len(shown) == 4 and shown[1].startswith("@misc{") and shown[2].startswith("TY  - DATA")


def test_hostile_label_stays_text_in_citations(client: FlaskClient) -> None:
    iri = str(fx.XSS)
    page = client.get("/cite", query_string={"iri": iri}, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert b"<script>" not in page.data and b"<img src=x" not in page.data
    entry = cite(client, "bibtex", iri=iri).get_data(as_text=True)
    assert entry.count("{") == entry.count("}")
