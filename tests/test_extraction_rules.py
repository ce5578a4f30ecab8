"""Rules for real-world wording, one test per rule, each on a sentence like those in real texts
(UN press releases, DoD statements, Hansard, wire copy, encyclopedia articles).

Plain pytest functions: no Django, no database. Time is injected.
"""

import datetime

from tracker.extraction import extract

TODAY = datetime.date(2026, 11, 27)


def day(value: str) -> datetime.date:
    return datetime.date.fromisoformat(value)


def read(text: str, published: str | None = "2024-05-20"):
    return extract(text, published=day(published) if published else None, today=TODAY)


def pairs(text: str, published: str | None = "2024-05-20") -> list[tuple[str, str]]:
    return [(w.deploying.code, w.host.code) for w in read(text, published).withdrawals]


def only(text: str, published: str | None = "2024-05-20"):
    [withdrawal] = read(text, published).withdrawals
    return withdrawal


# -- Withdrawals worded without "withdraw" -------------------------------------------------------
def test_it_reads_troops_redeployed_out_of_a_country_as_a_withdrawal():
    text = (
        "The Secretary of Defense briefed the President yesterday on plans to redeploy 9,500 "
        "U.S. troops from Germany."
    )
    withdrawal = only(text, "2020-06-30")
    assert (withdrawal.deploying.code, withdrawal.host.code) == ("US", "DE")
    assert withdrawal.personnel.value == 9500


def test_it_reads_forces_repositioned_from_a_country_as_a_withdrawal():
    assert pairs("About 12,000 U.S. military personnel will be repositioned from Germany.") == [
        ("US", "DE")
    ]


def test_it_reads_a_move_inside_a_country_as_no_withdrawal():
    assert pairs("French troops moved from Gao to Timbuktu last week.") == []


def test_it_finds_the_leaving_party_elsewhere_when_a_sentence_leaves_it_unnamed():
    text = (
        "The United States has 25,000 troops in Vietnam. I have decided that a minimum of "
        "6,000 troops will be withdrawn from Vietnam by December 15. The United States will "
        "review the decision."
    )
    withdrawal = only(text, "1969-09-16")
    assert (withdrawal.deploying.code, withdrawal.host.code) == ("US", "VN")
    assert withdrawal.deadline.date == day("1969-12-15")


# -- Contributors to a mission, lists -----------------------------------------------------------
def test_it_reads_a_contingent_leaving_a_mission_as_its_state_leaving_the_host():
    text = "The UK contingent will be leaving MINUSMA earlier than planned, the minister said."
    assert pairs(text, "2022-11-14") == [("GB", "ML")]


def test_it_reads_a_list_of_states_withdrawing_as_one_withdrawal_each():
    text = (
        "Uganda, Angola, Zimbabwe and Rwanda withdrew their troops from the Democratic Republic "
        "of the Congo in 2002."
    )
    result = read(text, "2003-01-10")
    assert [(w.deploying.code, w.host.code) for w in result.withdrawals] == [
        ("UG", "CD"),
        ("AO", "CD"),
        ("ZW", "CD"),
        ("RW", "CD"),
    ]
    assert {w.completed_on.date for w in result.withdrawals} == {day("2002-12-31")}


def test_it_names_the_un_mission_deployed_to_the_host_in_that_year():
    text = (
        "The Security Council today authorized the third phase of a drawdown of the UN "
        "peacekeeping mission in Liberia."
    )
    assert pairs(text, "2015-04-02") == [("UNMIL", "LR")]


def test_it_reads_a_mission_deployed_to_two_countries_as_two_withdrawals():
    text = "The UN Mission in Ethiopia and Eritrea is withdrawn, the Security Council decided."
    assert sorted(pairs(text, "2008-07-30")) == [("UNMEE", "ER"), ("UNMEE", "ET")]


# -- Force size ---------------------------------------------------------------------------------
def test_it_reads_number_words_as_the_force():
    withdrawal = only("Britain will withdraw two thousand five hundred troops from Iraq by May.")
    assert withdrawal.personnel.value == 2500
    withdrawal = only("Italy will pull a thousand soldiers out of Lebanon next month.")
    assert withdrawal.personnel.value == 1000


# -- Not withdrawals ----------------------------------------------------------------------------
def test_it_reads_a_call_on_someone_else_to_withdraw_as_no_withdrawal():
    assert (
        pairs("The Security Council called on Eritrea to withdraw its troops from Djibouti.") == []
    )
    text = "The Resolution demanded once again that Eritrea withdraw its troops from Ethiopia."
    assert pairs(text) == []


def test_it_reads_a_hosts_own_request_to_leave_as_a_withdrawal():
    text = "Burkina Faso has asked France to withdraw its troops from the country within a month."
    assert pairs(text, "2023-01-23") == [("FR", "BF")]


def test_it_reads_a_hypothetical_as_no_withdrawal():
    assert pairs("If the talks fail, France could withdraw its troops from Mali.") == []
    assert pairs("Germany is considering withdrawing its soldiers from Niger.") == []


def test_it_reads_a_denial_or_a_negation_as_no_withdrawal():
    assert pairs("Russia denied that it was withdrawing troops from Syria.") == []
    assert pairs("The Pentagon has no plans to withdraw U.S. troops from Iraq.") == []


def test_it_reads_the_end_of_an_exercise_or_a_rotation_as_no_withdrawal():
    assert pairs("British troops left Estonia after the end of the exercise.") == []
    text = "The 101st Airborne left Iraq and was replaced by the 4th Infantry Division's troops."
    assert pairs(text) == []


# -- Dates ----------------------------------------------------------------------------------------
def test_it_reads_months_written_in_capitals():
    withdrawal = only("WASHINGTON — U.S. troops will leave Niger by SEPT. 15, officials said.")
    assert withdrawal.deadline.date == day("2024-09-15")


def test_it_reads_seasons_and_holidays_as_deadlines():
    withdrawal = only("Germany will withdraw its troops from Afghanistan by summer.")
    assert (withdrawal.deadline.date, withdrawal.deadline.precision) == (day("2024-08-31"), "month")
    withdrawal = only("The President said U.S. troops would be out of Iraq by Christmas.")
    assert (withdrawal.deadline.date, withdrawal.deadline.precision) == (day("2024-12-25"), "day")


def test_it_reads_the_end_of_next_year():
    withdrawal = only("Germany will withdraw its soldiers from Mali by the end of next year.")
    assert (withdrawal.deadline.date, withdrawal.deadline.precision) == (day("2025-12-31"), "month")


def test_it_reads_a_drawdown_to_a_level_against_the_level_stated_today():
    text = (
        "The United States will draw down forces in Afghanistan and Iraq by Jan. 15, 2021, "
        "the acting secretary said today. He announced the drawdown of troops to 2,500 in "
        "Afghanistan and 2,500 in Iraq. There are currently around 4,500 U.S. service members "
        "in Afghanistan and 3,000 in Iraq."
    )
    result = read(text, "2020-11-17")
    found = {(w.host.code, w.personnel.value, w.deadline.date) for w in result.withdrawals}
    assert found == {("AF", 2000, day("2021-01-15")), ("IQ", 500, day("2021-01-15"))}


def test_it_reads_the_level_a_force_is_cut_to_as_no_force_size():
    text = (
        "The Security Council authorized a drawdown of the UN peacekeeping mission in Liberia "
        "to 3,590 military personnel and 1,515 police personnel."
    )
    assert only(text, "2015-04-02").personnel is None


def test_it_prefers_the_remaining_force_to_a_part_that_left_before():
    text = (
        "By July 1990, some 15,000 Soviet soldiers had left Hungary. The remaining 40,000 "
        "Soviet troops left Hungary, with the last leaving on June 19, 1991."
    )
    withdrawal = only(text, None)
    assert withdrawal.personnel.value == 40000
    assert withdrawal.completed_on.date == day("1991-06-19")


def test_it_reads_the_fallen_as_no_force_size():
    text = (
        "MINUSMA withdraws from Mali. He paid tribute to the 309 MINUSMA personnel who lost "
        "their lives in the service of peace."
    )
    assert only(text, "2023-06-30").personnel is None


def test_it_reads_a_date_opening_a_sentence_with_the_clause_after_it():
    text = (
        "WASHINGTON -- Today, after the Administration announced plans to withdraw nearly "
        "12,000 U.S. troops from Germany, Senator Reed criticised the decision."
    )
    withdrawal = only(text, "2020-07-29")
    assert withdrawal.announced_on.date == day("2020-07-29")


def test_it_reads_a_contributor_leaving_the_uns_mission():
    text = "In March, Sweden announced that it would be leaving the UN's MINUSMA mission."
    assert pairs(text, "2022-11-14") == [("SE", "ML")]


def test_it_reads_leaving_cities_or_handing_over_some_sites_as_no_completion():
    text = (
        "The United States withdrew its remaining combat troops from Iraqi cities today and "
        "will withdraw all American forces from Iraq by December 2011."
    )
    withdrawal = only(text, "2009-06-30")
    assert withdrawal.completed_on is None
    text = (
        "UNAMID, the peacekeeping mission in Darfur, today concluded the closure and handover "
        "of 10 team sites in Sudan."
    )
    assert only(text, "2018-12-20").completed_on is None
    text = "Today marks a critical step toward the withdrawal of American forces from Iraq."
    assert only(text, "2009-06-30").completed_on is None


def test_it_reads_a_likely_or_claimed_withdrawal_as_no_withdrawal():
    text = "One report claimed about half of the 70,000 U.S. troops in Germany would be withdrawn."
    assert pairs(text, "2004-06-10") == []
    text = (
        "An official said an announcement about U.S. troop withdrawals from Afghanistan was likely."
    )
    assert pairs(text, "2020-09-08") == []


def test_it_reads_who_reacts_to_a_withdrawal_as_no_party_to_it():
    text = (
        "Security Council members hail the planned withdrawal of Ugandan troops from the "
        "Democratic Republic of the Congo."
    )
    assert pairs(text, "2002-09-18") == [("UG", "CD")]


def test_it_reads_a_missions_civilian_staff_or_a_rotations_handover_as_no_withdrawal():
    text = "The Council endorsed a phased withdrawal of UNMIN staff, the mission said."
    assert pairs(text, "2009-01-23") == []
    text = "The UK's first rotation to MINUSMA has now completed its handover to its successors."
    assert pairs(text, "2021-06-30") == []


def test_it_reads_completed_by_a_date_as_the_completion_even_before_a_scheduled_one():
    text = (
        "The withdrawal of Cuban troops from Angola was completed by 25 May 1991, more than "
        "one month before the scheduled date."
    )
    withdrawal = only(text, "1991-06-06")
    assert withdrawal.completed_on.date == day("1991-05-25")
    assert withdrawal.deadline is None


def test_it_dates_the_announcement_by_the_statement_it_was_made_in():
    text = (
        "In a televised statement on Wednesday evening, Obama said 33,000 U.S. soldiers would "
        "be withdrawn from Afghanistan by the summer of next year."
    )
    withdrawal = only(text, "2011-06-23")
    assert withdrawal.announced_on.date == day("2011-06-22")
    assert withdrawal.deadline.date == day("2012-08-31")


def test_it_reads_hard_wrapped_lines_as_one_sentence():
    text = (
        "U.S. troops will leave Afghanistan by the end of next year, president Barack Obama\n"
        "has announced. In a televised statement on Wednesday evening,\n"
        "Obama said 10,000 soldiers would be withdrawn from Afghanistan by the end of this year."
    )
    withdrawal = only(text, "2011-06-23")
    assert withdrawal.announced_on.date == day("2011-06-22")


def test_it_takes_the_day_over_the_month_it_falls_in():
    text = (
        "The withdrawal of American forces from Iraq was completed by December 2011. The U.S. "
        "troop withdrawal from Iraq was completed on 18 December 2011 early Sunday morning."
    )
    withdrawal = only(text, None)
    assert (withdrawal.completed_on.date, withdrawal.completed_on.precision) == (
        day("2011-12-18"),
        "day",
    )


def test_it_reads_a_comma_between_month_and_ordinal_day():
    text = "President Biden will withdraw all U.S. troops from Afghanistan by September, 11th."
    assert only(text, "2021-04-13").deadline.date == day("2021-09-11")


def test_it_reads_bringing_a_war_to_a_conclusion_with_troops_home_as_a_withdrawal():
    text = (
        "U.S. forces will bring the mission in Afghanistan to a successful and responsible "
        "conclusion."
    )
    assert pairs(text, "2020-11-17") == [("US", "AF")]


def test_it_reads_a_hosts_request_for_the_withdrawal_of_peacekeepers_as_a_withdrawal():
    text = "Sudan requested the withdrawal of the 10,400 peacekeepers of UNMIS, officials said."
    withdrawal = only(text, "2011-07-11")
    assert (withdrawal.deploying.code, withdrawal.host.code) == ("UNMIS", "SD")
    assert withdrawal.personnel.value == 10400


def test_it_reads_a_request_for_a_report_on_a_drawdown_as_no_demand():
    text = (
        "The Council requested the Secretary-General to provide an update on the phased "
        "drawdown of UNOCI by 31 January 2017."
    )
    assert pairs(text, "2016-06-30") == [("UNOCI", "CI")]


def test_it_reads_a_list_of_states_ending_with_the_before_the_verb():
    text = (
        "Spain, Honduras, and the Dominican Republic have announced they will be pulling their "
        "troops out of Iraq."
    )
    assert sorted(pairs(text, "2004-04-24")) == [("DO", "IQ"), ("ES", "IQ"), ("HN", "IQ")]


def test_it_reads_a_members_question_on_a_withdrawal_as_no_demand():
    text = (
        "Mr. Mills asked the Secretary of State for Defence if he will make a statement on the "
        "arrangements for withdrawal of British troops from Aden."
    )
    assert pairs(text, "1967-11-01") == [("GB", "YE")]


def test_it_reads_forces_withdrawn_from_their_stations_in_several_countries():
    text = (
        "We intend to withdraw British forces from their stations in Malaysia, Singapore, and "
        "the Persian Gulf by the end of 1971."
    )
    result = read(text, "1970-03-02")
    assert {(w.deploying.code, w.host.code) for w in result.withdrawals} == {
        ("GB", "MY"),
        ("GB", "SG"),
    }
    assert {w.deadline.date for w in result.withdrawals} == {day("1971-12-31")}


def test_it_reads_the_withdrawal_of_a_states_combat_forces_without_a_named_host_in_the_clause():
    text = (
        "The war in Vietnam goes on. We have adopted a plan for the complete withdrawal of all "
        "U.S. combat ground forces, the President said of Vietnam."
    )
    assert pairs(text, "1969-11-03") == [("US", "VN")]


def test_it_dates_the_councils_extension_that_decides_a_drawdown_as_its_announcement():
    text = (
        "The Security Council today extended the mandate of UNAMSIL for a final six months, "
        "noting that the drawdown should begin in mid-August and be completed by 31 December."
    )
    withdrawal = only(text, "2005-06-30")
    assert withdrawal.announced_on.date == day("2005-06-30")
    assert withdrawal.deadline.date == day("2005-12-31")


def test_it_reads_a_wartime_level_a_deployment_or_all_but_a_brigade_as_no_force_size():
    text = (
        "U.S. forces are leaving Saudi Arabia. There were about 10,000 American personnel in "
        "Saudi Arabia during the most recent Iraqi conflict."
    )
    assert only(text, "2003-04-29").personnel is None
    text = (
        "Britain will bring all its troops home from Germany by 2020, with all but the 4,400 "
        "troops of 20 Brigade home by Christmas 2016."
    )
    assert only(text, "2013-03-05").personnel is None


def test_it_reads_a_rundown_or_reductions_of_forces_as_a_withdrawal():
    text = "Malta objects to the proposed rundown of British forces in Malta, the minister said."
    assert pairs(text, "1967-01-30") == [("GB", "MT")]
    text = "The Government defended the reductions in British forces in Malta."
    assert pairs(text, "1967-01-30") == [("GB", "MT")]


def test_it_reads_old_and_local_names_of_places_left():
    text = "British forces stationed in Bahrein will be withdrawn at the end of 1971."
    assert pairs(text, "1971-03-11") == [("GB", "BH")]
    text = "British forces will be withdrawn from Sharjah at the end of 1971."
    assert pairs(text, "1971-03-11") == [("GB", "AE")]
