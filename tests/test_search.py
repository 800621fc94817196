"""Label search: substring matches on Chinese and English labels, ranked, as HTML or JSON."""

from __future__ import annotations

import html5lib
from flask.testing import FlaskClient

from server.pages import search, text_search
from tests import pages_fixtures as fx

NS = "{http://www.w3.org/1999/xhtml}"


def found(client: FlaskClient, query: str) -> list[dict[str, object]]:
    response = client.get("/search", query_string={"q": query, "format": "json"})
    assert response.status_code == 200
    results: list[dict[str, object]] = response.get_json()["results"]
    return results


def test_match_rank() -> None:
    assert search.match_rank("法院", "法院") == search.EXACT
    assert search.match_rank("中国", "中国裁判文书网") == search.PREFIX
    assert search.match_rank("法院", "杭州互联网法院") == search.SUBSTRING
    assert search.match_rank("court", "Supreme People's COURT") == search.SUBSTRING
    assert search.match_rank("法官", "杭州互联网法院") is None


def test_rank_orders_exact_prefix_substring_then_shorter() -> None:
    candidates = [
        search.Candidate("a", "杭州互联网法院", "zh"),
        search.Candidate("b", "法院系统", "zh"),
        search.Candidate("c", "法院", "zh"),
        search.Candidate("d", "最高人民法院", "zh"),
        search.Candidate("b", "Court system", "en"),
    ]
    ranked = [c.iri for _, c in search.rank("法院", candidates)]
    assert ranked == ["c", "b", "d", "a"]


def test_chinese_substring_finds_every_court(client: FlaskClient) -> None:
    iris = {hit["iri"] for hit in found(client, "法院")}
    assert {str(fx.AGENCY), str(fx.HANGZHOU)} <= iris
    assert str(fx.JUDGEMENTS) not in iris


def test_exact_match_comes_first(client: FlaskClient) -> None:
    hits = found(client, "中国裁判文书网")
    assert hits[0]["iri"] == str(fx.JUDGEMENTS)
    assert hits[0]["match"] == "exact"


def test_prefix_before_substring(client: FlaskClient) -> None:
    hits = found(client, "中国")
    kinds = [hit["match"] for hit in hits]
    order = ["exact", "prefix", "substring"]
    assert kinds == sorted(kinds, key=lambda kind: order.index(str(kind)))
    assert {hit["iri"] for hit in hits} >= {str(fx.JUDGEMENTS), str(fx.TRIALS)}


def test_english_search_ignores_case(client: FlaskClient) -> None:
    hits = found(client, "SUPREME people")
    assert [hit["iri"] for hit in hits] == [str(fx.AGENCY)]


def test_alt_labels_are_searched(client: FlaskClient) -> None:
    hits = found(client, "裁判文书网")
    assert hits[0]["iri"] == str(fx.JUDGEMENTS)
    assert hits[0]["match"] in ("exact", "prefix")


def test_json_by_accept(client: FlaskClient) -> None:
    response = client.get("/search?q=法院", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    assert response.get_json()["query"] == "法院"


def test_html_results_link_to_pages(client: FlaskClient) -> None:
    response = client.get("/search?q=法院", headers={"Accept": "text/html"})
    tree = html5lib.parse(response.data)
    links = [a.get("href") for a in tree.iter(NS + "a")]
    assert "/id/agency/hangzhou-internet-court" in links


def test_quotes_and_backslashes_cannot_break_the_query(client: FlaskClient) -> None:
    assert [hit["iri"] for hit in found(client, '"onerror=')] == [str(fx.XSS)]
    for text in ["\\", '") } } DROP ALL #', "'''"]:
        assert found(client, text) == []


def test_bad_input_is_a_clear_400(client: FlaskClient) -> None:
    empty = client.get("/search?format=json")
    assert empty.status_code == 400
    assert "q=" in empty.get_json()["detail"]
    long = client.get("/search", query_string={"q": "法" * 500, "format": "json"})
    assert long.status_code == 400
    assert "longer" in long.get_json()["detail"]
    html = client.get("/search", query_string={"q": "法" * 500}, headers={"Accept": "text/html"})
    assert html.status_code == 400


def test_no_match_says_the_words_occur_nowhere(client: FlaskClient) -> None:
    response = client.get("/search?q=量子计算机&lang=en", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "does not occur in the report" in response.get_data(as_text=True)


def test_sentence_hit_is_marked_in_the_page(client: FlaskClient) -> None:
    response = client.get("/search?q=执行", headers={"Accept": "text/html"})
    assert "审判<mark>执行</mark>全流程" in response.get_data(as_text=True)


def test_no_match_counts_each_word_that_occurs(client: FlaskClient) -> None:
    body = client.get("/search", query_string={"q": "执行 量子", "format": "json"}).get_json()
    assert body["occurrences"] == [
        {"word": "执行", "sentences": 1},
        {"word": "量子", "sentences": 0},
    ]


def test_sentences_are_searched_by_chinese_substring(client: FlaskClient) -> None:
    body = client.get("/search", query_string={"q": "执行", "format": "json"}).get_json()
    assert [hit["iri"] for hit in body["sentences"]] == [str(fx.SENTENCES[0])]
    assert body["sentences"][0]["hits"] == ["执行"]


def test_sentence_hit_links_to_its_figures(client: FlaskClient) -> None:
    body = client.get("/search", query_string={"q": "在线开庭", "format": "json"}).get_json()
    figures = {figure["iri"] for hit in body["sentences"] for figure in hit["figures"]}
    assert figures and all("/id/observation/" in iri for iri in figures)


def test_traditional_characters_find_simplified_names(client: FlaskClient) -> None:
    hits = found(client, "中國裁判文書網")
    assert hits[0]["iri"] == str(fx.JUDGEMENTS)


def test_british_spelling_finds_american(client: FlaskClient) -> None:
    assert search_forms("Judgement") >= {"judgment"}
    assert search_forms("organisation") >= {"organization"}
    assert search_forms("licenses") >= {"licences"}


def search_forms(text: str) -> set[str]:
    return set(text_search.forms(text))


def test_highlight_cuts_every_hit() -> None:
    pieces = text_search.cut("法院和法院", ["法院"])
    assert pieces == [("法院", True), ("和", False), ("法院", True)]


def test_several_words_find_a_sentence_holding_each(client: FlaskClient) -> None:
    body = client.get("/search", query_string={"q": "法院 在线", "format": "json"}).get_json()
    assert [hit["iri"] for hit in body["sentences"]] == [str(fx.SENTENCES[2])]
    assert set(body["sentences"][0]["hits"]) == {"法院", "在线"}


def test_several_words_find_a_name_holding_each(client: FlaskClient) -> None:
    hits = found(client, "people court")
    assert hits[0]["iri"] == str(fx.AGENCY)
    assert hits[0]["match"] == "words"
