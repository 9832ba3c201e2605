"""The finder's groups of options tell a screen reader what is wrong with them."""

from __future__ import annotations

from bs4 import BeautifulSoup


def test_a_refused_choice_is_named_by_its_group_of_options(client, mistral):
    response = client.get("/finder/", {"hosting": "bogus", "modalities": "nothing"})

    soup = BeautifulSoup(response.content, "lxml")
    for name, label in (("hosting", "Where it runs"), ("modalities", "Modalities it must handle")):
        option = soup.find("input", attrs={"name": name})
        assert option["aria-invalid"] == "true"
        group = option.find_parent(attrs={"role": "group"})
        assert group is not None, name
        assert group["aria-label"] == label
        [error] = [soup.find(id=ref) for ref in group["aria-describedby"].split()]
        assert "Select a valid choice." in error.get_text(), name
