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
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    assert rows[0]["party.code"] == "FR" and rows[0]["host.code"] == "TD"
    assert rows[0]["deadline"] == "2025-01-31" and rows[0]["deadline_precision"] == "month"
    assert rows[0]["status"]
    everything = client.get("/api/withdrawals/?format=csv").content.decode()
    assert len(list(csv.DictReader(io.StringIO(everything)))) == 2


@pytest.mark.django_db
def test_it_exports_milestones_as_csv(client, chad):
    response = client.get("/api/milestones/?format=csv&host=NE")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
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
    response = client.get("/feeds/deadlines.ics")
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
    # A month-precision deadline spans its month.
    france = by_uid[f"withdrawal-{chad.pk}-deadline@troop-withdrawal-tracker"]
    assert france["DTSTART;VALUE=DATE"] == "20250101"
    assert france["DTEND;VALUE=DATE"] == "20250201"
    assert "N'Djamena\\, Faya and Abéché" in france["DESCRIPTION"]
    milestone_uids = [uid for uid in by_uid if uid.startswith("milestone-")]
    assert len(milestone_uids) == 3
    assert all("DTSTAMP" in event and "SEQUENCE" in event for event in by_uid.values())


@pytest.mark.django_db
def test_it_keeps_calendar_uids_stable_and_raises_the_sequence_on_change(client, niger_withdrawal):
    before = {e["UID"]: e for e in events(client.get("/feeds/deadlines.ics").content.decode())}
    niger_withdrawal.deadline = dt.date(2024, 9, 30)
    niger_withdrawal.save()
    after = {e["UID"]: e for e in events(client.get("/feeds/deadlines.ics").content.decode())}
    assert set(before) == set(after)
    uid = f"withdrawal-{niger_withdrawal.pk}-deadline@troop-withdrawal-tracker"
    assert after[uid]["DTSTART;VALUE=DATE"] == "20240930"
    assert int(after[uid]["SEQUENCE"]) >= int(before[uid]["SEQUENCE"])


@pytest.mark.django_db
def test_it_filters_the_calendar_by_party_and_host(client, chad, niger_withdrawal):
    body = client.get("/feeds/deadlines.ics?party=US&host=NE").content.decode()
    uids = [e["UID"] for e in events(body)]
    assert len(uids) == 3 and not any(str(chad.pk) + "-deadline" in uid for uid in uids)
    assert events(client.get("/feeds/deadlines.ics?party=ZZ").content.decode()) == []
    bad = client.get("/feeds/deadlines.ics?party=U%00S")
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
    assert "New withdrawal: France from Chad by January 2025" in titles
    assert "Deadline: United States from Niger by 30 September 2024" in titles
    assert "Milestone done: France from Chad: Faya-Largeau base handed over" in titles
    assert "Conflict on United States from Niger: personnel 1000 vs 1100" in titles
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
    # 1: withdrawals with a deadline, joined with party and host; 2: milestones with a date,
    # joined with their withdrawal's party and host.
    with django_assert_num_queries(2):
        client.get("/feeds/deadlines.ics")
    # One query per kind of change: withdrawals, revisions, done milestones, conflicts.
    with django_assert_num_queries(4):
        client.get("/feeds/changes.atom")
