"""The extraction engine on short texts of our own, one phenomenon at a time.

Plain pytest functions: no Django, no database. Time is injected (`published=`, `today=`).
"""

import datetime
import re
from pathlib import Path

import pytest

from tracker.extraction import (
    ExtractionError,
    choose,
    date_roles,
    dates,
    extract,
    extractor,
    fastre,
    force_size,
    negatives,
    numbers,
    parties,
    places,
    records,
    sentences,
    triggers,
)
from tracker.extraction.dates import DateContext, find_dates
from tracker.extraction.numbers import find_force_sizes
from tracker.extraction.places import find_parties

TEXTS = Path(__file__).parent / "extraction_texts"
TODAY = datetime.date(2026, 11, 27)


def day(value: str) -> datetime.date:
    return datetime.date.fromisoformat(value)


def read(name: str) -> str:
    return (TEXTS / name).read_text(encoding="utf-8")


def run(name: str, published: str | None = None):
    text = read(name)
    result = extract(text, published=day(published) if published else None, today=TODAY)
    return text, result


def pairs(result) -> list[tuple[str, str]]:
    return [(w.deploying.code, w.host.code) for w in result.withdrawals]


def only(result, deploying: str, host: str):
    found = [w for w in result.withdrawals if (w.deploying.code, w.host.code) == (deploying, host)]
    assert len(found) == 1, pairs(result)
    return found[0]


def assert_date(fact, value: str, precision: str):
    assert fact is not None
    assert (fact.date, fact.precision) == (day(value), precision)


def assert_evidence_slices(text: str, result) -> None:
    evidences = []
    for w in result.withdrawals:
        for fact in (w.personnel, w.announced_on, w.deadline, w.completed_on):
            if fact is not None:
                evidences.append(fact.evidence)
        evidences.extend(m.evidence for m in w.milestones)
    assert evidences
    for evidence in evidences:
        assert text[evidence.start : evidence.end] == evidence.text


# -- Who and where ------------------------------------------------------------------------------
def party_codes(text: str) -> list[str]:
    return [m.code for m in find_parties(text)]


def test_it_reads_states_by_name_short_name_demonym_and_adjective():
    text = "American, U.S., French, Soviet and British officers met Nigerien and Nigerian envoys."
    assert party_codes(text) == ["US", "US", "FR", "SU", "GB", "NE", "NG"]


def test_it_reads_capitals_as_metonyms():
    assert party_codes("Washington, Paris and N'Djamena disagreed; N’Djamena left.") == [
        "US",
        "FR",
        "TD",
        "TD",
    ]


def test_it_reads_organisations():
    text = "MINUSMA, MONUSCO, NATO, ECOWAS and the US-led coalition, and Task Force Takuba."
    assert party_codes(text) == ["MINUSMA", "MONUSCO", "NATO", "ECOWAS", "COALITION", "TAKUBA"]


def test_it_does_not_read_lower_case_words_as_parties():
    assert party_codes("Let us chad the turkey; the US left.") == ["US"]


def test_it_keeps_the_longest_name():
    assert party_codes("Guinea-Bissau and Guinea, the U.S.S.R. and the U.S.") == [
        "GW",
        "GN",
        "SU",
        "US",
    ]


def test_it_finds_the_leaving_party_and_its_host_with_a_demonym_capital_and_passing_mention():
    text, result = run("niger_agreement.txt")
    assert pairs(result) == [("US", "NE"), ("FR", "NE")]
    assert result.withdrawals[0].host.name == "Niger"
    # "donated to the Nigerian army": Nigeria is no party to this withdrawal.
    assert all("NG" not in pair for pair in pairs(result))
    passing = only(result, "FR", "NE")
    assert (passing.personnel, passing.announced_on, passing.deadline, passing.completed_on) == (
        None,
        None,
        None,
        None,
    )
    assert_evidence_slices(text, result)


def test_it_reads_a_host_that_orders_the_departure():
    _, result = run("chad_handover.txt", published="2023-11-17")
    assert pairs(result) == [("FR", "TD")]


def test_it_reads_a_un_mission_as_the_leaving_party():
    text, result = run("mission_drawdown.txt", published="2023-11-17")
    assert pairs(result) == [("MONUSCO", "CD")]
    assert result.withdrawals[0].deploying.kind == "organisation"
    assert_evidence_slices(text, result)


def test_it_reads_a_coalition_as_the_leaving_party():
    _, result = run("coalition_iraq.txt", published="2023-11-17")
    assert pairs(result) == [("COALITION", "IQ")]


def test_it_finds_the_host_of_an_unnamed_place_elsewhere_in_the_text():
    _, result = run("kyiv_retreat.txt", published="2023-11-17")
    assert pairs(result) == [("RU", "UA")]


def test_it_reads_several_withdrawals_in_one_sentence_with_their_own_dates():
    _, result = run("several_withdrawals.txt", published="2023-11-17")
    assert pairs(result) == [("DK", "ML"), ("DK", "AF"), ("DK", "IQ")]
    assert_date(only(result, "DK", "ML").completed_on, "2023-01-31", "month")
    assert_date(only(result, "DK", "AF").completed_on, "2021-12-31", "year")
    assert_date(only(result, "DK", "IQ").completed_on, "2021-12-31", "month")
    # "a small team of trainers remains in Estonia" is no withdrawal.
    assert ("DK", "EE") not in pairs(result)


def test_it_records_a_deployment_and_no_withdrawal():
    _, result = run("deployment_exercise.txt", published="2023-11-17")
    assert result.withdrawals == []
    assert [(d.deploying.code, d.host.code) for d in result.deployments] == [("US", "JO")]
    assert (result.deployments[0].personnel.value, result.deployments[0].personnel.qualifier) == (
        2000,
        "approximately",
    )


# -- How many -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "phrase, value, qualifier",
    [
        ("about 1,000 troops", 1000, "approximately"),
        ("roughly a thousand soldiers", 1000, "approximately"),
        ("some 2,500 soldiers", 2500, "approximately"),
        ("more than 12,000 troops and police", 12000, "more than"),
        ("at least one thousand troops", 1000, "at least"),
        ("up to 350 French personnel", 350, "up to"),
        ("4,500 U.S. service members", 4500, "exact"),
        ("a force of some 5,000", 5000, "approximately"),
    ],
)
def test_it_reads_force_sizes_with_their_qualifier(phrase, value, qualifier):
    sizes = find_force_sizes(phrase)
    assert [(s.value, s.qualifier) for s in sizes] == [(value, qualifier)]


@pytest.mark.parametrize(
    "phrase",
    ["the September 11 deadline to bring troops home", "in 2013 troops arrived", "300 vehicles"],
)
def test_it_reads_no_force_size_from_dates_or_other_things(phrase):
    assert find_force_sizes(phrase) == []


def test_it_takes_the_force_being_withdrawn_not_the_peak_or_the_level_that_remains():
    text, result = run("coalition_iraq.txt", published="2023-11-17")
    personnel = result.withdrawals[0].personnel
    assert (personnel.value, personnel.qualifier) == (2500, "approximately")
    assert text[personnel.evidence.start : personnel.evidence.end] == personnel.evidence.text


def test_it_ignores_a_peak_from_years_before():
    _, result = run("soviet_hungary.txt", published="1990-03-12")
    personnel = result.withdrawals[0].personnel
    assert (personnel.value, personnel.qualifier) == (49000, "approximately")


def test_it_ignores_convoys_casualties_and_evacuees():
    _, result = run("kyiv_retreat.txt", published="2023-11-17")
    assert result.withdrawals[0].personnel is None


def test_it_reads_at_least_one_thousand_beside_an_older_peak():
    _, result = run("chad_handover.txt", published="2023-11-17")
    personnel = result.withdrawals[0].personnel
    assert (personnel.value, personnel.qualifier) == (1000, "at least")


# -- When ---------------------------------------------------------------------------------------
def dates_in(text: str, reference: str, **context) -> list[tuple]:
    ctx = DateContext(reference=day(reference), **context)
    return [
        (m.phrase, m.resolve("past"), m.resolve("future"), m.precision, m.duration)
        for m in find_dates(text, 0, ctx)
    ]


def test_it_reads_partial_dates_with_both_readings_of_the_year():
    assert dates_in("on 15 September", "2023-06-30") == [
        ("on 15 September", day("2022-09-15"), day("2023-09-15"), "day", None)
    ]
    assert dates_in("by May 20th", "2024-05-21")[0][:4] == (
        "by May 20th",
        day("2024-05-20"),
        day("2024-05-20"),
        "day",
    )


def test_it_reads_weekdays_and_day_words_relative_to_publication():
    # 2022-11-11 is a Friday.
    assert [d[1] for d in dates_in("on Monday, early Sunday, last night, today", "2022-11-11")] == [
        day("2022-11-07"),
        day("2022-11-06"),
        day("2022-11-10"),
        day("2022-11-11"),
    ]


def test_it_reads_relative_periods():
    found = dates_in("last year, next month, last April, in January", "1989-02-15")
    assert [(d[0], d[1], d[3]) for d in found] == [
        ("last year", day("1988-12-31"), "year"),
        ("next month", day("1989-03-31"), "month"),
        ("last April", day("1988-04-30"), "month"),
        ("in January", day("1989-01-31"), "month"),
    ]


def test_it_reads_period_ends_as_the_last_day_with_month_precision():
    found = dates_in(
        "by the end of the year and no later than the end of September 2025", "2023-09-24"
    )
    assert [(d[0], d[1], d[3]) for d in found] == [
        ("by the end of the year", day("2023-12-31"), "month"),
        ("no later than the end of September 2025", day("2025-09-30"), "month"),
    ]


def test_it_reads_durations():
    found = dates_in("within one month, over the next twelve months", "2023-01-23")
    assert [(d[0], d[4]) for d in found] == [
        ("within one month", (1, "month")),
        ("over the next twelve months", (12, "month")),
    ]


def test_it_lets_a_weekday_pick_the_year_without_a_publication_date():
    found = dates_in("On Friday, March 15th", "2026-11-27", weekday_picks_year=True, today=TODAY)
    assert found[0][1] == day("2024-03-15")


def test_it_resolves_a_duration_deadline_from_the_announcement():
    text, result = run("chad_handover.txt", published="2023-11-17")
    withdrawal = result.withdrawals[0]
    assert_date(withdrawal.announced_on, "2023-11-16", "day")
    assert withdrawal.announced_on.phrase == "on Thursday"


def test_it_dates_a_text_without_publication_date_from_its_weekday_and_date():
    text, result = run("niger_agreement.txt")
    assert result.reference_date == day("2024-03-15")
    withdrawal = only(result, "US", "NE")
    assert_date(withdrawal.announced_on, "2024-03-15", "day")
    assert_date(withdrawal.deadline, "2024-08-31", "day")
    assert withdrawal.deadline.phrase == "by August 31st"
    assert (withdrawal.personnel.value, withdrawal.personnel.qualifier) == (1000, "approximately")
    evidence = withdrawal.deadline.evidence
    assert evidence.start == 0
    assert text[evidence.start : evidence.end] == evidence.text
    assert evidence.text.endswith("by August 31st.")


# -- Which date is which ------------------------------------------------------------------------
def test_it_tells_announcement_deadline_and_start_apart():
    _, result = run("soviet_hungary.txt", published="1990-03-12")
    withdrawal = result.withdrawals[0]
    assert pairs(result) == [("SU", "HU")]
    assert_date(withdrawal.announced_on, "1990-03-31", "month")  # the agreement "in March"
    assert_date(withdrawal.deadline, "1990-06-30", "day")
    assert withdrawal.completed_on is None
    starts = [m for m in withdrawal.milestones if m.kind == "withdrawal_start"]
    assert [m.date.date for m in starts] == [day("1990-03-12")]


def test_it_keeps_a_superseded_deadline_as_a_milestone():
    _, result = run("britain_deadline_moved.txt", published="2023-11-17")
    withdrawal = only(result, "GB", "ML")
    assert_date(withdrawal.deadline, "2023-12-31", "month")
    old = [m for m in withdrawal.milestones if m.kind == "deadline" and m.date.date.month == 6]
    assert [m.date.date for m in old] == [day("2024-06-30")]
    assert (withdrawal.personnel.value, withdrawal.personnel.qualifier) == (300, "approximately")


def test_it_ignores_civilians_deadlines_and_hopes_of_christmas():
    _, result = run("chad_handover.txt", published="2023-11-17")
    withdrawal = result.withdrawals[0]
    assert_date(withdrawal.deadline, "2024-01-31", "day")
    assert all(m.date is None or m.date.date.month != 12 for m in withdrawal.milestones)


def test_it_ignores_elections_and_keeps_a_phase_deadline_as_a_milestone():
    _, result = run("mission_drawdown.txt", published="2023-11-17")
    withdrawal = result.withdrawals[0]
    assert (withdrawal.personnel.value, withdrawal.personnel.qualifier) == (15000, "more than")
    assert_date(withdrawal.announced_on, "2023-11-16", "day")
    assert_date(withdrawal.deadline, "2024-12-31", "month")
    assert day("2023-12-20") not in [m.date.date for m in withdrawal.milestones if m.date]


def test_it_ignores_a_coup_and_other_agreements_years():
    text = (
        "The junta, which seized power in a coup in 2023, ordered French troops to leave Niger "
        "on Monday, denouncing the 2013 defence agreement."
    )
    result = extract(text, published=day("2024-02-07"), today=TODAY)
    withdrawal = only(result, "FR", "NE")
    assert_date(withdrawal.announced_on, "2024-02-05", "day")
    assert [m.date.date for m in withdrawal.milestones if m.date] == [day("2024-02-05")]


def test_it_reads_a_completion_reported_last_night():
    _, result = run("kyiv_retreat.txt", published="2023-11-17")
    withdrawal = result.withdrawals[0]
    assert_date(withdrawal.completed_on, "2023-11-16", "day")
    assert withdrawal.announced_on is None


def test_it_takes_the_latest_deadline_and_a_twelve_month_transition_as_a_milestone():
    _, result = run("coalition_iraq.txt", published="2023-11-17")
    withdrawal = result.withdrawals[0]
    assert_date(withdrawal.announced_on, "2023-11-17", "day")
    assert_date(withdrawal.deadline, "2025-09-30", "month")
    assert day("2024-11-17") in [m.date.date for m in withdrawal.milestones if m.date]


def test_it_resolves_within_one_month_from_the_order():
    text = (
        "Mali's junta ordered Danish troops to leave the country within one month on "
        "Wednesday, January 18."
    )
    result = extract(text, published=day("2023-01-23"), today=TODAY)
    withdrawal = only(result, "DK", "ML")
    assert_date(withdrawal.announced_on, "2023-01-18", "day")
    assert_date(withdrawal.deadline, "2023-02-18", "day")


# -- Contract and bad input ---------------------------------------------------------------------
def test_it_gives_the_contract_json():
    _, result = run("mission_drawdown.txt", published="2023-11-17")
    data = result.to_dict()
    assert data["reference_date"] == "2023-11-17"
    withdrawal = data["withdrawals"][0]
    assert withdrawal["deploying"] == {"code": "MONUSCO", "name": withdrawal["deploying"]["name"]}
    assert withdrawal["host"] == {"code": "CD", "name": "Democratic Republic of the Congo"}
    assert withdrawal["personnel"]["value"] == 15000
    assert withdrawal["deadline"]["date"] == "2024-12-31"
    assert withdrawal["deadline"]["precision"] == "month"
    assert set(withdrawal["deadline"]["evidence"]) == {"text", "start", "end"}
    assert withdrawal["completed_on"] is None
    assert 0 < withdrawal["confidence"] <= 1
    assert set(withdrawal) == {
        "deploying",
        "host",
        "personnel",
        "announced_on",
        "deadline",
        "completed_on",
        "milestones",
        "phases",
        "confidence",
    }


def test_it_summarises_as_text():
    _, result = run("mission_drawdown.txt", published="2023-11-17")
    summary = result.to_text()
    assert "withdrawal from Democratic Republic of the Congo" in summary
    assert "deadline: 2024-12-31 (month" in summary


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_it_refuses_empty_text(text):
    with pytest.raises(ExtractionError, match="empty"):
        extract(text)


def test_it_returns_an_empty_result_for_text_without_withdrawal():
    result = extract("The weather in Paris was mild on Monday.", published=day("2024-01-01"))
    assert result.withdrawals == []
    assert result.to_dict() == {
        "reference_date": "2024-01-01",
        "reference_source": "published",
        "withdrawals": [],
    }


def test_it_dates_an_announcement_by_its_verb_not_by_the_withdrawal_noun():
    text = (
        "The last Italian troops left Lebanon on March 3. The prime minister had announced "
        "the full withdrawal on January 9."
    )
    result = extract(text, published=day("2024-03-05"), today=TODAY)
    withdrawal = only(result, "IT", "LB")
    assert_date(withdrawal.announced_on, "2024-01-09", "day")
    assert_date(withdrawal.completed_on, "2024-03-03", "day")


def test_it_keeps_the_handover_of_one_base_as_a_milestone_not_the_completion():
    text = (
        "Spain has completed the withdrawal of its forces from Camp Alpha in Lebanon on June 2. "
        "The remaining Spanish troops must leave Lebanon by the end of August."
    )
    result = extract(text, published=day("2024-06-05"), today=TODAY)
    withdrawal = only(result, "ES", "LB")
    assert withdrawal.completed_on is None
    assert_date(withdrawal.deadline, "2024-08-31", "month")
    assert [(m.kind, m.date.date) for m in withdrawal.milestones if m.kind == "base_handover"] == [
        ("base_handover", day("2024-06-02"))
    ]


def test_it_keeps_another_countrys_dates_out_of_the_withdrawal():
    text = (
        "The coalition announced on Monday that its mission in Iraq will end by the end of "
        "September 2025. The coalition will stay in Syria until September 2026."
    )
    result = extract(text, published=day("2024-09-25"), today=TODAY)
    withdrawal = only(result, "COALITION", "IQ")
    assert_date(withdrawal.deadline, "2025-09-30", "month")
    assert_date(withdrawal.announced_on, "2024-09-23", "day")


def test_it_reads_a_deadline_in_the_tail_of_a_sentence():
    text = (
        "Kenya said today that its troops in Somalia will withdraw within six months, "
        "and no later than the end of June."
    )
    result = extract(text, published=day("2024-01-10"), today=TODAY)
    withdrawal = only(result, "KE", "SO")
    assert_date(withdrawal.deadline, "2024-07-10", "day")  # six months after today is later
    phrases = sorted(m.date.phrase for m in withdrawal.milestones if m.kind == "deadline")
    assert phrases == ["no later than the end of June", "within six months"]


def test_it_reads_an_encyclopedia_entry_without_a_host_beside_the_verb():
    text = (
        "The Soviet–Afghan War ended with the withdrawal of Soviet forces. Mikhail Gorbachev "
        "announced the withdrawal in February 1988, and the Geneva Accords were signed on "
        "14 April 1988. The withdrawal began on 15 May 1988 and was completed on "
        "15 February 1989."
    )
    result = extract(text, today=TODAY)
    withdrawal = only(result, "SU", "AF")
    assert_date(withdrawal.announced_on, "1988-02-29", "month")  # the announcement, not the accord
    assert_date(withdrawal.completed_on, "1989-02-15", "day")
    kinds = [(m.kind, m.date.date) for m in withdrawal.milestones]
    assert ("agreement", day("1988-04-14")) in kinds
    assert ("withdrawal_start", day("1988-05-15")) in kinds


def test_it_dates_a_press_release_from_its_dateline():
    text = (
        "GOMA, 30 June 2024 – MONUSCO today completed its withdrawal from South Kivu, "
        "handing over its last base to the Congolese army."
    )
    result = extract(text, today=TODAY)
    assert result.reference_date == day("2024-06-30")
    withdrawal = only(result, "MONUSCO", "CD")
    assert_date(withdrawal.completed_on, "2024-06-30", "day")
    assert withdrawal.completed_on.phrase == "today"


@pytest.mark.parametrize(
    "text",
    [
        "Russia suspended its part in the arms treaty on Tuesday. Moscow said it would withdraw "
        "from the treaty if American troops stayed in Poland.",
        "Britain left the European Union on January 31, 2020. British troops remain in Estonia.",
        "About 3,000 U.S. Marines arrived in Norway on Monday for an exercise, which ends on "
        "March 30. The troops will return home after the drills.",
        "Israeli forces withdrew from the refugee camp on Wednesday after a two-day operation.",
    ],
)
def test_it_finds_no_withdrawal_in_treaties_unions_exercises_or_raids(text):
    result = extract(text, published=day("2023-07-06"), today=TODAY)
    assert pairs(result) == []


def test_it_takes_the_cut_not_the_level_before_or_after_a_reduction():
    text = (
        "The defence minister announced on Tuesday that Portugal will reduce its forces in "
        "Mozambique from about 450 troops to 150 by March 1. A reduced presence in Angola "
        "is not affected."
    )
    result = extract(text, published=day("2024-11-14"), today=TODAY)
    assert pairs(result) == [("PT", "MZ")]
    withdrawal = result.withdrawals[0]
    assert (withdrawal.personnel.value, withdrawal.personnel.qualifier) == (300, "approximately")
    assert_date(withdrawal.deadline, "2025-03-01", "day")
    assert_date(withdrawal.announced_on, "2024-11-12", "day")


def test_it_accepts_a_datetime_as_the_publication_date():
    text = "Danish troops left Mali on Monday, completing their withdrawal."
    published = datetime.datetime(2022, 8, 17, 9, 30, tzinfo=datetime.UTC)
    result = extract(text, published=published, today=TODAY)
    assert result.reference_date == day("2022-08-17")
    assert_date(only(result, "DK", "ML").completed_on, "2022-08-15", "day")


def test_it_refuses_bytes():
    with pytest.raises(ExtractionError, match="str"):
        extract(b"French troops left Mali.")


# -- Deadlines set, moved and counted from an event ---------------------------------------------
def test_it_reads_a_date_set_as_the_deadline_for_the_departure():
    _, result = run("deadline_set_as.txt", published="2024-02-06")
    withdrawal = only(result, "BE", "GA")
    assert_date(withdrawal.deadline, "2024-03-15", "day")
    assert withdrawal.deadline.phrase == "March 15"
    assert_date(withdrawal.announced_on, "2024-02-06", "day")
    assert (withdrawal.personnel.value, withdrawal.personnel.qualifier) == (400, "approximately")


def test_it_reads_until_a_date_to_leave_and_the_date_deadline():
    _, result = run("deadline_until_to_leave.txt", published="2024-04-12")
    withdrawal = only(result, "NL", "MW")
    assert_date(withdrawal.deadline, "2024-06-30", "day")
    assert_date(withdrawal.announced_on, "2024-04-12", "day")
    assert [m.date.date for m in withdrawal.milestones if m.kind == "deadline"] == [
        day("2024-06-30")
    ]


def test_it_takes_a_deadline_moved_forward_and_keeps_the_first_one_as_a_milestone():
    _, result = run("deadline_moved_forward.txt", published="2024-10-27")
    withdrawal = only(result, "CA", "MN")
    assert_date(withdrawal.deadline, "2024-10-31", "day")
    assert_date(withdrawal.completed_on, "2024-10-27", "day")
    assert_date(withdrawal.announced_on, "2024-03-31", "month")
    deadlines = sorted(m.date.date for m in withdrawal.milestones if m.kind == "deadline")
    assert deadlines == [day("2024-10-31"), day("2024-12-15")]


def test_it_takes_a_deadline_pushed_back():
    _, result = run("deadline_pushed_back.txt", published="2024-05-09")
    withdrawal = only(result, "NO", "XK")
    assert_date(withdrawal.deadline, "2024-09-30", "day")
    assert withdrawal.deadline.phrase == "to September 30"
    deadlines = sorted(m.date.date for m in withdrawal.milestones if m.kind == "deadline")
    assert deadlines == [day("2024-05-31"), day("2024-09-30")]


def test_it_prefers_an_explicit_date_to_a_duration_in_the_same_clause():
    _, result = run("mandate_duration.txt", published="2025-06-04")
    withdrawal = only(result, "UNMIL", "LR")
    assert_date(withdrawal.deadline, "2027-09-30", "day")
    assert withdrawal.deadline.phrase == "by September 30, 2027"
    assert_date(withdrawal.announced_on, "2025-06-04", "day")
    # The mandate's end is a milestone, not a superseded deadline; the duration is no milestone.
    kinds = {(m.kind, m.date.date) for m in withdrawal.milestones}
    assert ("other", day("2027-03-31")) in kinds
    assert [m.date.date for m in withdrawal.milestones if m.kind == "deadline"] == [
        day("2027-09-30")
    ]


def test_it_counts_a_duration_from_the_event_it_names():
    _, result = run("mandate_duration_only.txt", published="2025-06-04")
    withdrawal = only(result, "UNMIL", "LR")
    # Six months after the mandate ends on March 31, 2027, not after publication.
    assert_date(withdrawal.deadline, "2027-09-30", "day")
    assert withdrawal.deadline.phrase == "within six months"


def test_it_keeps_a_word_ending_in_a_preposition_out_of_the_phrase():
    found = find_dates(
        "are to withdraw from Lebanon within one year after the mandate ends",
        0,
        DateContext(reference=day("2025-08-28")),
    )
    assert [(m.phrase, m.lead, m.duration, m.runs_from) for m in found] == [
        ("within one year", "", (1, "year"), "mandate")
    ]


def test_it_reads_a_completion_dated_in_the_attribution_clause():
    _, result = run("completion_attributed.txt", published="2026-03-04")
    withdrawal = only(result, "PT", "MZ")
    assert_date(withdrawal.completed_on, "2026-03-04", "day")
    assert withdrawal.completed_on.phrase == "on Wednesday, March 4"
    assert withdrawal.deadline is None
    assert withdrawal.announced_on is None


# -- Speed without changing what is read --------------------------------------------------------
_MODULES = (
    extractor,
    triggers,
    parties,
    places,
    dates,
    date_roles,
    numbers,
    force_size,
    negatives,
    choose,
    records,
    sentences,
)
_GATE_RE = re.compile(r"^\(\?=\(\?i:\[.*?\]\)\)\(\?:(?P<pattern>.*)\)$", re.DOTALL)


def _module_patterns():
    for module in _MODULES:
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                yield f"{module.__name__}.{name}", value
    for kind, pattern in dates._PATTERNS:
        yield f"dates.{kind}", pattern
    for kind, pattern in date_roles.CUE_RES:
        yield f"cue.{kind}", pattern


def test_it_gates_patterns_on_their_first_characters_without_changing_their_matches():
    texts = [path.read_text(encoding="utf-8") for path in sorted(TEXTS.glob("*.txt"))]
    texts.append("Withdrawal ſoon; KELVIN ſigns, İstanbul and ١٢ digits: ALL CAPS TROOPS LEFT.")
    gated = 0
    for name, pattern in _module_patterns():
        unwrapped = _GATE_RE.match(pattern.pattern)
        if not unwrapped:
            continue
        gated += 1
        plain = re.compile(unwrapped.group("pattern"), pattern.flags)
        for text in texts:
            expected = [m.span() for m in plain.finditer(text)]
            assert [m.span() for m in pattern.finditer(text)] == expected, name
    assert gated > 40


def test_it_leaves_patterns_it_cannot_gate_as_they_are():
    assert fastre.compile(r"troops?").pattern == r"troops?"  # already scanned in C
    assert fastre.compile(r"\w+\s").pattern == r"\w+\s"  # any word character: no gate
    assert fastre.compile(r"(?:x)?").pattern == r"(?:x)?"  # can match the empty string
    assert fastre.compile(r"\bwith|\bout", re.I).pattern.startswith("(?=(?i:[ow]))")


def test_it_keeps_a_deadline_the_withdrawal_goes_past_as_a_milestone():
    _, result = run("deadline_passed_over.txt", published="2025-03-12")
    withdrawal = only(result, "EE", "LB")
    assert_date(withdrawal.deadline, "2025-10-15", "day")
    assert_date(withdrawal.announced_on, "2025-03-12", "day")
    deadlines = sorted(m.date.date for m in withdrawal.milestones if m.kind == "deadline")
    assert deadlines == [day("2025-06-01"), day("2025-10-15")]


def test_it_takes_a_deadline_moved_up_after_one_set_as_the_deadline():
    _, result = run("deadline_set_then_moved_up.txt", published="2024-01-12")
    withdrawal = only(result, "SE", "ML")
    assert_date(withdrawal.deadline, "2024-01-15", "day")
    assert_date(withdrawal.announced_on, "2024-01-08", "day")
    deadlines = sorted(m.date.date for m in withdrawal.milestones if m.kind == "deadline")
    assert deadlines == [day("2024-01-15"), day("2024-01-31")]


def test_it_takes_a_deadline_extended_by_a_month_to_a_date():
    _, result = run("deadline_extended_by.txt", published="2023-10-06")
    withdrawal = only(result, "BE", "NE")
    assert_date(withdrawal.deadline, "2024-01-22", "day")
    assert_date(withdrawal.announced_on, "2023-10-06", "day")
    deadlines = sorted(m.date.date for m in withdrawal.milestones if m.kind == "deadline")
    assert deadlines == [day("2023-12-22"), day("2024-01-22")]


def test_it_counts_a_duration_from_the_end_of_the_event_dated_elsewhere():
    _, result = run("mandate_end_of.txt", published="2025-06-06")
    withdrawal = only(result, "UNMIL", "LR")
    # Three months from the end of the mandate on March 31, 2027.
    assert_date(withdrawal.deadline, "2027-06-30", "day")
    assert_date(withdrawal.announced_on, "2025-06-06", "day")


def test_it_dates_the_vote_that_extends_a_mandate_a_last_time_as_the_announcement():
    text = (
        "The Security Council voted on Tuesday, March 3, to extend the mandate of UNIFIL one "
        "final time, until June 30, 2027. Its peacekeepers must then withdraw from Lebanon by "
        "June 30, 2028."
    )
    result = extract(text, published=day("2026-03-03"), today=TODAY)
    withdrawal = only(result, "UNIFIL", "LB")
    assert_date(withdrawal.announced_on, "2026-03-03", "day")
    assert_date(withdrawal.deadline, "2028-06-30", "day")
    # Extending the mandate moves no deadline: its end is a milestone of its own.
    assert [(m.kind, m.date.date) for m in withdrawal.milestones if m.kind != "announcement"] == [
        ("other", day("2027-06-30")),
        ("deadline", day("2028-06-30")),
    ]


def test_it_leaves_verbose_patterns_and_global_flags_as_they_are():
    assert fastre.compile(r"(?i)\bwith").pattern == r"(?i)\bwith"
    assert fastre.compile(r"\bwith  # a comment", re.VERBOSE).pattern == r"\bwith  # a comment"


# -- Dates with an unknown reference ------------------------------------------------------------
def test_it_marks_a_relative_date_unanchored_when_the_text_gives_no_day_to_count_from():
    text = "France said on Thursday that its troops would withdraw from Mali by next month."
    result = extract(text, today=TODAY)
    assert result.reference_source == "today"
    withdrawal = only(result, "FR", "ML")
    assert withdrawal.deadline is not None and withdrawal.announced_on is not None
    for fact in (withdrawal.deadline, withdrawal.announced_on):
        assert fact.anchored is False
        assert fact.confidence < 0.5  # flagged: a reading against the day of processing
    data = result.to_dict()["withdrawals"][0]
    assert data["deadline"]["anchored"] is False
    # Not silently resolved against today: no date, only the reading, marked as such.
    assert data["deadline"]["date"] is None
    assert data["deadline"]["reading"] == withdrawal.deadline.date.isoformat()


def test_it_anchors_relative_dates_on_the_publication_date():
    text = "France said on Thursday that its troops would withdraw from Mali by next month."
    result = extract(text, published=day("2022-02-17"), today=TODAY)
    withdrawal = only(result, "FR", "ML")
    assert_date(withdrawal.announced_on, "2022-02-17", "day")
    assert withdrawal.announced_on.anchored and withdrawal.deadline.anchored
    assert withdrawal.announced_on.confidence >= 0.5


def test_it_counts_relative_dates_from_the_latest_day_a_narrative_text_states():
    text = (
        "On 15 February 1989 the last Soviet troops left Afghanistan. The Soviet Union had "
        "announced on 14 April 1988 that it would withdraw its forces within nine months."
    )
    result = extract(text, today=TODAY)
    assert result.reference_source == "text"
    assert result.reference_date == day("1989-02-15")
    withdrawal = only(result, "SU", "AF")
    assert withdrawal.completed_on.anchored
    assert_date(withdrawal.completed_on, "1989-02-15", "day")


def test_it_reads_the_reference_day_from_a_dateline():
    text = (
        "BAMAKO, 31 December 2023 — The last peacekeepers of MINUSMA left Mali today, the "
        "mission said."
    )
    result = extract(text, today=TODAY)
    assert (result.reference_source, result.reference_date) == ("dateline", day("2023-12-31"))
    withdrawal = only(result, "MINUSMA", "ML")
    assert_date(withdrawal.completed_on, "2023-12-31", "day")
    assert withdrawal.completed_on.anchored


# -- Phases -------------------------------------------------------------------------------------
def test_it_reads_two_places_left_by_two_dates_as_phases_of_one_withdrawal():
    text = (
        "Under the agreement, coalition forces will leave Baghdad and federal Iraq by "
        "September 2025 and the Kurdistan region by September 2026, the ministry said."
    )
    result = extract(text, published=day("2024-09-27"), today=TODAY)
    withdrawal = only(result, "COALITION", "IQ")
    assert [(p.scope, p.deadline.date) for p in withdrawal.phases] == [
        ("Baghdad and federal Iraq", day("2025-09-30")),
        ("the Kurdistan region", day("2026-09-30")),
    ]
    # The whole is due when its last phase is; no phase becomes a superseded deadline.
    assert_date(withdrawal.deadline, "2026-09-30", "month")
    assert not [m for m in withdrawal.milestones if m.kind == "deadline"]


def test_it_reads_a_first_group_with_its_size_and_date_as_a_phase_not_the_deadline():
    text = (
        "Germany will withdraw its troops from Mali. The first 200 soldiers will leave by the "
        "end of January, a defence ministry spokesman said."
    )
    result = extract(text, published=day("2022-11-22"), today=TODAY)
    withdrawal = only(result, "DE", "ML")
    [phase] = withdrawal.phases
    assert phase.scope == "The first 200 soldiers"
    assert phase.personnel.value == 200
    assert_date(phase.deadline, "2023-01-31", "month")
    assert withdrawal.deadline is None  # the date of one part is not when the whole is due


def test_it_reads_numbered_phases_with_their_own_sizes():
    text = (
        "MONUSCO will carry out a phase two drawdown of 3,000 peacekeepers from the Congo by "
        "31 December, and phase three of 4,000 by 30 June 2025."
    )
    result = extract(text, published=day("2024-06-20"), today=TODAY)
    withdrawal = only(result, "MONUSCO", "CD")
    assert [(p.scope, p.personnel.value, p.deadline.date) for p in withdrawal.phases] == [
        ("phase two", 3000, day("2024-12-31")),
        ("phase three", 4000, day("2025-06-30")),
    ]
    assert_date(withdrawal.deadline, "2025-06-30", "day")


def test_it_keeps_the_last_troops_leaving_as_the_end_of_the_whole_not_a_phase():
    text = "The last French troops left Chad in January, after N'Djamena ended a defence accord."
    result = extract(text, published=day("2025-07-17"), today=TODAY)
    withdrawal = only(result, "FR", "TD")
    assert withdrawal.phases == []
    assert_date(withdrawal.completed_on, "2025-01-31", "month")
    data = result.to_dict()["withdrawals"][0]
    assert data["phases"] == []
