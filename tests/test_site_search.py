"""search.py: class pages whose name begins longer class names are boosted over those, and
nothing else in the index is touched."""

from __future__ import annotations

from docgen.site.search import MARGIN, rank_exact_names


def _page(name: str, text: str = "") -> dict[str, object]:
    return {"location": f"classes/torch.nn.{name}.html", "title": name, "text": text,
            "boost": 4}


def test_a_name_that_begins_longer_names_is_boosted_over_them() -> None:
    entries = [_page("RNN", "rnn rnn"), _page("RNNCell"), _page("RNNCellBase"), _page("GRU"),
               {"location": "classes/torch.nn.RNN.html#documentation", "title": "RNN",
                "text": "rnn"},
               {"location": "walk/rnn.html", "title": "RNN: what runs", "text": "rnn"},
               {"location": "classes/index.html", "title": "Classes", "text": "rnn"}]
    assert rank_exact_names(entries, r"[\s\-]+") == 2
    boosts = {e["location"]: e.get("boost") for e in entries}
    # the chain: RNN over RNNCell over RNNCellBase; GRU, sections and other pages untouched
    assert boosts["classes/torch.nn.RNN.html"] > boosts["classes/torch.nn.RNNCell.html"] > 4
    assert boosts["classes/torch.nn.RNNCellBase.html"] == boosts["classes/torch.nn.GRU.html"] == 4
    assert boosts["classes/torch.nn.RNN.html#documentation"] is None
    assert boosts["walk/rnn.html"] is None and boosts["classes/index.html"] is None
    assert MARGIN > 1
