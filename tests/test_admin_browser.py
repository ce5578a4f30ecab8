"""The admin as an editor uses it, in Debian's chromium: correcting a milestone on one screen,
its history, and accessibility (axe-core, vendored under tests/vendor/, never from a CDN)."""

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from test_browser import ARGS, ARTIFACTS, CHROMIUM, PASSWORD, browser, world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    rule: v.id,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""


@pytest.fixture
def editor(django_user_model):
    """A person who edits records: staff in the Editors role (tracker/permissions.py)."""
    from django.contrib.auth.models import Group, Permission

    from tracker.permissions import ROLES

    # The group comes from a data migration, which a transactional test's flush removes.
    name, granted = ROLES["editor"]
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="tracker", codename__in=[p.split(".")[1] for p in granted]
        )
    )

    user = django_user_model.objects.create_user(
        username="amina",
        first_name="Amina",
        last_name="Diallo",
        password=PASSWORD,
        is_staff=True,
    )
    user.groups.add(group)
    return user


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_user(
        username="admin", password=PASSWORD, is_staff=True, is_superuser=True
    )


def signed_in(browser, live_server, user, **options):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return context, page, errors


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_it_lets_an_editor_correct_a_milestone_on_one_screen(
    live_server,
    browser,  # noqa: F811
    world,  # noqa: F811
    editor,
):
    from tracker import services
    from tracker.models import Conflict, Milestone, Source, Withdrawal

    niger = Withdrawal.objects.get(party__code="US", host__code="NE")
    handover = niger.milestones.get(kind="base_handover")
    assert handover.date == dt.date(2024, 7, 7)
    context, page, errors = signed_in(browser, live_server, editor)

    # Find it as an editor would: search, then the row in the site's words.
    page.goto(f"{live_server.url}/admin/tracker/withdrawal/?q=Niger")
    page.get_by_role("link", name="United States → Niger").click()
    page.wait_for_url(re.compile(rf"/admin/tracker/withdrawal/{niger.pk}/change/(\?.*)?$"))
    assert scroll_width(page) <= 1280
    page.set_viewport_size({"width": 1024, "height": 900})
    assert scroll_width(page) <= 1024
    page.set_viewport_size({"width": 1280, "height": 900})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-change.png"), full_page=True)

    card = page.locator(".inline-related").filter(has=page.locator(f"h3:has-text('{handover}')"))
    # Its evidence is on the same screen, with the source and its date.
    assert "Air Base 101" in card.locator(".field-evidence_display").inner_text()
    assert "5 August 2024" in card.locator(".field-evidence_display").inner_text()
    card.locator("input[name$='-date']").fill("2024-07-08")
    page.fill("#id_history_note", "The handover ceremony was on 8 July (AFP, 9 July 2024)")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/tracker/withdrawal/(\?.*)?$"))

    handover.refresh_from_db()
    assert (handover.date, handover.locked) == (dt.date(2024, 7, 8), True)

    page.goto(f"{live_server.url}/withdrawals/{niger.pk}/")
    item = page.locator(".tl-item").filter(has_text=handover.title)
    assert "8 July 2024" in item.inner_text()

    page.goto(f"{live_server.url}/admin/tracker/withdrawal/{niger.pk}/history/")
    assert scroll_width(page) <= 1280
    row = page.locator("#change-history tbody tr").first
    text = row.inner_text()
    assert handover.title in text
    assert "7 July 2024 → 8 July 2024" in text
    assert "Amina Diallo" in text
    assert "The handover ceremony was on 8 July (AFP, 9 July 2024)" in text
    page.screenshot(path=str(ARTIFACTS / "admin-history.png"), full_page=True)

    # The same article read again (another site's copy) suggests 7 July: a conflict for a
    # person to review, never a silent change back.
    seed = Source.objects.get(title="US completes withdrawal from Niger")
    services.source_submit_text(
        text=f"NIAMEY (Reuters) - {seed.text}",
        origin="pasted",
        title="US completes pull-out from Niger",
        publisher="Reuters",
        published_on=seed.published_on,
    )
    handover.refresh_from_db()
    assert handover.date == dt.date(2024, 7, 8)
    assert Milestone.objects.filter(withdrawal=niger, kind="base_handover").count() == 1
    conflict = Conflict.objects.get(milestone=handover, state="open")
    assert conflict.proposed_value == "2024-07-07"

    page.goto(f"{live_server.url}/admin/tracker/withdrawal/{niger.pk}/change/")
    conflicts = page.locator("fieldset[aria-labelledby='conflicts-heading']").inner_text()
    assert "8 July 2024" in conflicts and "7 July 2024" in conflicts and "Reuters" in conflicts
    context.close()
    assert errors == []


def test_it_edits_a_milestone_with_the_keyboard_alone(
    live_server,
    browser,  # noqa: F811
    world,  # noqa: F811
    editor,
):
    milestone = world["running"].milestones.get(kind="completion")
    context, page, errors = signed_in(browser, live_server, editor)
    page.goto(f"{live_server.url}/admin/tracker/milestone/{milestone.pk}/change/")
    # Tab from the title to the status select and the note, typing as a person would.
    page.focus("#id_title")
    page.keyboard.press("Control+a")
    page.keyboard.type("Last convoy left Gao")
    focused = ""
    for _ in range(15):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        if focused == "id_status":
            break
    assert focused == "id_status"
    page.keyboard.press("ArrowDown")  # planned → done
    for _ in range(25):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        if focused == "id_history_note":
            break
    assert focused == "id_history_note"
    page.keyboard.type("Convoy seen leaving on the 18th")
    page.keyboard.press("Enter")  # submits the form, as the Save button would
    page.wait_for_url(re.compile(r"/admin/tracker/milestone/(\?.*)?$"))
    milestone.refresh_from_db()
    assert (milestone.title, milestone.status, milestone.locked) == (
        "Last convoy left Gao",
        "done",
        True,
    )
    context.close()
    assert errors == []


def admin_pages(live_server) -> list[str]:
    """The list, change and history page of every tracker model the admin shows."""
    from django.contrib import admin
    from django.urls import reverse

    pages = []
    for model in admin.site._registry:
        if model._meta.app_label != "tracker":
            continue
        name = f"admin:tracker_{model._meta.model_name}"
        obj = model.objects.order_by("pk").first()
        assert obj is not None, f"the test world has no {model._meta.verbose_name}"
        pages += [
            reverse(f"{name}_changelist"),
            reverse(f"{name}_change", args=[obj.pk]),
            reverse(f"{name}_history", args=[obj.pk]),
        ]
    return pages


def test_it_has_no_accessibility_violations_on_any_tracker_admin_page(
    live_server,
    browser,  # noqa: F811
    world,  # noqa: F811
    admin_user,
):
    from tracker import services
    from tracker.models import Deployment, Feed, Party, Withdrawal
    from tracker.services import alerts

    # One of everything, so every change page has something to show.
    niger = Withdrawal.objects.get(party__code="US", host__code="NE")
    Deployment.objects.get_or_create(
        party=niger.party, host=Party.objects.get(code="TD"), defaults={"personnel": 100}
    )
    Feed.objects.create(url="https://example.org/feed.xml", title="Example feed", active=False)
    # The alerts' pages too: a watch on Niger, its owner's email channel and a test delivery.
    admin_user.email = admin_user.email or "admin@example.org"
    admin_user.save(update_fields=["email"])
    services.watch_create(user=admin_user, kind="withdrawal", withdrawal=niger)
    services.channel_send_test(channel=alerts.channel_email_ensure(user=admin_user))
    seed = niger.evidence.first().source
    services.source_submit_text(
        text=seed.text.replace("about 1,000", "about 1,100").replace("1,000", "1,100"),
        origin="pasted",
        publisher="Other wire",
        published_on=seed.published_on,
    )
    assert niger.conflicts.exists()

    # axe is injected by the test (a CSP would rightly refuse it as a page script).
    context, page, errors = signed_in(browser, live_server, admin_user, bypass_csp=True)
    source = AXE.read_text()
    found = {}
    pages = admin_pages(live_server) + [
        "/admin/",
        "/admin/tracker/withdrawal/add/",
        "/admin/tracker/milestone/add/",
        "/admin/tracker/withdrawal/?status=overdue&deadline__gte=2024-01-01",
    ]
    for path in pages:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.evaluate(source)
        violations = page.evaluate(AXE_RUN)
        if violations:
            found[path] = violations
    context.close()
    assert found == {}, json.dumps(found, indent=1)
    assert errors == []
