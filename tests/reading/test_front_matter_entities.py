"""Front matter titles are written like the body, with HTML entities; they are shown and searched decoded."""

from __future__ import annotations

import json

TITLE = "Officials&#x27; statement on the &quot;Harvey&quot; floods"
SHOWN = 'Officials\' statement on the "Harvey" floods'


def test_title_from_front_matter_is_decoded_everywhere(cli, builder):
    builder.event(
        "2017-08-29", "Body headline", front_matter=f'title: "{TITLE}"\nrelated:\n  - {{title: "A&amp;B", url: /news/2017/08/28/x.md}}'
    )
    site = str(builder.root)
    shown = json.loads(cli("show", "body-headline", "--json", "-a", site).stdout)
    assert shown["title"] == SHOWN
    assert [r["title"] for r in shown["related"]] == ["A&B"]
    listed = cli("list-by-date", "2017-08-29", "--plain", "-a", site).stdout
    assert SHOWN in listed and "&#x27;" not in listed
    found = cli("search", "-F", "Officials' statement", "--in", "title", "-l", "-a", site)
    assert found.exit_code == 0
    assert found.stdout.strip().endswith("body-headline.md")
