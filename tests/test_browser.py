"""The pages in a real browser: Debian's chromium driven by Playwright against a live server.

Few and quick on purpose (CI runs them on two cores). Each test fails on any Content
Security Policy violation the page reports.
"""

import datetime as dt
import os
import warnings
from pathlib import Path

import pytest
from conftest import IN_CI
from django.core.management import call_command

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "a-long-test-password"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


CONTRAST_PROBLEMS = """() => {
  // WCAG AA: 4.5:1 for text, 3:1 for large text, against the first opaque background up
  // the tree (the pages use no background images under text).
  function rgb(value) { return (value.match(/[\\d.]+/g) || []).map(Number); }
  function luminance([r, g, b]) {
    const c = [r, g, b].map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function background(el) {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  }
  const problems = [];
  let checked = 0;
  for (const el of document.body.querySelectorAll("*")) {
    const text = Array.from(el.childNodes).filter(n => n.nodeType === 3)
      .map(n => n.textContent).join("").trim();
    if (!text || !el.getClientRects().length) continue;
    if (el.closest(".visually-hidden, .skip-link, [aria-hidden=true]")) continue;
    checked++;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    const fg = luminance(rgb(style.color)), bg = luminance(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) problems.push(`${el.tagName}.${el.className} ${ratio.toFixed(2)}`);
  }
  return {checked, problems};
}"""


def assert_readable(page) -> None:
    """AA contrast everywhere, and no sideways scrolling at phone width."""
    contrast = page.evaluate(CONTRAST_PROBLEMS)
    assert contrast["checked"] > 20
    assert contrast["problems"] == []
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    # Charts resize on the next frames.
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size(size)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI needs chromium: {reason}")
        warnings.warn(f"SKIPPING: {reason}", stacklevel=2)
        pytest.skip(f"SKIPPING: {reason}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread while it is started; the ORM
    # calls of these tests and their database set-up are still plain synchronous calls.
    # Only for this module, so no later test (or a subprocess it starts) inherits it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    yield page
    context.close()
    assert not problems, problems


@pytest.fixture
def world(transactional_db):
    """The seed articles read by the real pipeline, plus one withdrawal still running."""
    from tracker.models import Milestone, Party, Withdrawal

    try:
        from tracker import extraction

        assert callable(extraction.extract)
    except (ImportError, AssertionError):
        pytest.fail("the extraction engine is needed to load the seeds")
    call_command("load_seeds", stdout=open(os.devnull, "w"))
    assert Withdrawal.objects.count() >= 5
    minusma = Party.objects.create(code="MINUSMA", name="MINUSMA", kind="organisation")
    mali = Party.objects.get_or_create(code="ML", defaults={"name": "Mali"})[0]
    today = dt.date.today()
    running = Withdrawal.objects.create(
        party=minusma,
        host=mali,
        announced_on=today - dt.timedelta(days=150),
        started_on=today - dt.timedelta(days=120),
        deadline=today + dt.timedelta(days=20),
        personnel=12000,
        personnel_withdrawn=7400,
    )
    Milestone.objects.create(
        withdrawal=running,
        kind="base_handover",
        title="Ber camp handed over",
        date=today - dt.timedelta(days=60),
        status="done",
    )
    Milestone.objects.create(
        withdrawal=running,
        kind="completion",
        title="Last convoy leaves Gao",
        date=today + dt.timedelta(days=18),
        status="planned",
    )
    return {"running": running}


def test_it_renders_the_seeds_ticks_a_countdown_and_draws_the_timeline(live_server, page, world):
    from tracker.models import Withdrawal

    page.goto(live_server.url + "/")
    for withdrawal in Withdrawal.objects.all():
        assert page.locator(f"#withdrawal-{withdrawal.pk}").is_visible(), withdrawal

    countdown = page.locator(f"#withdrawal-{world['running'].pk} .countdown")
    first = countdown.inner_text()
    assert "left" in first
    page.wait_for_function(
        "([el, text]) => el.textContent !== text", arg=[countdown.element_handle(), first],
        timeout=2000,
    )  # fmt: skip

    painted = page.evaluate(
        """() => {
          const canvas = document.getElementById("timeline");
          const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          let count = 0;
          for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) count++; }
          return count;
        }"""
    )
    assert painted > 2000

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert_readable(page)

    # Stays current: a change on the server reaches the card at the next poll (the page
    # polls when it becomes visible again; here we say it did).
    milestone = world["running"].milestones.get(kind="completion")
    milestone.status = "done"
    milestone.save()
    card = page.locator(f"#withdrawal-{world['running'].pk}")
    assert "1 of 2 done" in card.inner_text()
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function(
        "(id) => document.getElementById(id).textContent.includes('2 of 2 done')",
        arg=f"withdrawal-{world['running'].pk}",
        timeout=5000,
    )
    assert page.locator("#refresh-status").inner_text() == "1 withdrawal was updated."

    # A click on a bar opens its withdrawal.
    index = page.evaluate(
        "(pk) => Chart.getChart('timeline').$rows.findIndex(r => r.id === pk)",
        world["running"].pk,
    )
    x, y = page.evaluate(
        """(index) => {
          const bar = Chart.getChart('timeline').getDatasetMeta(0).data[index];
          // A quarter along the bar, away from its milestone points.
          return [bar.base + (bar.x - bar.base) / 4, bar.y];
        }""",
        index,
    )
    # Hovering shows the details; a click opens the withdrawal.
    page.locator("#timeline").hover(position={"x": x, "y": y})
    page.wait_for_function("() => Chart.getChart('timeline').tooltip.opacity > 0")
    title = page.evaluate("() => Chart.getChart('timeline').tooltip.title.join(' ')")
    assert title == "MINUSMA → Mali"
    page.locator("#timeline").click(position={"x": x, "y": y})
    page.wait_for_url(f"**/withdrawals/{world['running'].pk}/")


def test_it_narrows_the_list_with_a_filter_and_keeps_it_in_the_url(live_server, page, world):
    page.goto(live_server.url + "/")
    everything = page.locator("article.card").count()
    # From the keyboard: the skip link comes first, then the search and the filters.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_q"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_party"
    page.keyboard.press("Tab")
    page.keyboard.type("M")  # a select picks the first option starting with M: Mali
    assert page.locator("#id_host").input_value() == "ML"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Apply filters
    page.wait_for_url("**/?*host=ML*")
    assert page.locator("article.card").count() == 1
    assert page.locator(f"#withdrawal-{world['running'].pk}").is_visible()

    page.reload()
    assert page.locator("#id_host").input_value() == "ML"
    assert page.locator("article.card").count() == 1
    page.get_by_role("link", name="Clear").click()
    assert page.locator("article.card").count() == everything


def test_it_highlights_the_evidence_sentence_on_a_detail_page(live_server, page, world):
    from tracker.models import Evidence

    evidence = Evidence.objects.filter(field="deadline").select_related("withdrawal").first()
    page.goto(f"{live_server.url}/withdrawals/{evidence.withdrawal_id}/")
    mark = page.locator("mark").filter(has_text=evidence.quote.strip()[:40]).first
    assert mark.is_visible()
    background = mark.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    # The paragraph around it is there too, not only the sentence.
    paragraph = mark.locator("xpath=..").inner_text()
    assert len(paragraph) > len(evidence.quote)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "detail.png"), full_page=True)
    assert_readable(page)


def test_it_shows_a_milestone_a_staff_member_edits_in_the_admin(
    live_server, page, world, django_user_model
):
    django_user_model.objects.create_user(
        username="editor", password=PASSWORD, is_staff=True, is_superuser=True
    )
    milestone = world["running"].milestones.get(kind="completion")
    page.goto(f"{live_server.url}/admin/tracker/milestone/{milestone.pk}/change/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.fill("#id_title", "Last convoy left Gao")
    page.select_option("#id_status", "done")
    page.fill("#id_history_note", "The convoy left on schedule")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/tracker/milestone/")

    page.goto(f"{live_server.url}/withdrawals/{world['running'].pk}/")
    item = page.locator(".tl-item").filter(has_text="Last convoy left Gao")
    assert item.is_visible()
    assert "edited by a person" in item.inner_text()
    assert page.get_by_role("link", name="Edit in admin").is_visible()


def test_it_follows_an_ingest_job_to_what_changed(live_server, page, world, django_user_model):
    django_user_model.objects.create_user(username="editor", password=PASSWORD, is_staff=True)
    page.goto(f"{live_server.url}/ingest/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.fill(
        "#id_text-text",
        "Germany said on Tuesday it would withdraw its 1,100 troops from Mali by May 2024. "
        "<script>document.title='owned'</script>",
    )
    page.get_by_role("button", name="Read this text").click()
    page.wait_for_url("**/ingest/jobs/*/")
    link = page.locator("a.changed-link").first
    link.wait_for(timeout=8000)
    link.click()
    page.wait_for_url("**/withdrawals/*/")
    assert page.title() != "owned"
    assert "<script>" in page.locator("body").inner_text()
