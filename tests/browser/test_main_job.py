"""The whole main job, in Debian's Chromium against a live server, for every
sheet in the registry (a sheet added later gets this test for free):

the rep signs in, opens the project, picks the sheet from the project page's
own menu, fills it by its paper labels (tables get two rows, files are
uploaded), saves, submits (choosing the signers the chain asks for); every
signer of the chain signs in with their own browser and approves from
待我审批 in place; the rep downloads the sealed PDF, whose seal pyHanko finds
intact and ours, whose text holds every printed label and every value typed,
and which 文件验证 in the browser reports as the archived file. A sheet that
lands in the implementation worklist (the handover) then goes through it; a
customer-level sheet is opened from the customer page instead. One sheet (phone_log)
is also returned with a reason, revised and signed again."""
from __future__ import annotations

import hashlib
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field as dc_field

import pytest

from salestrack import archive
from salestrack.formkit import registry
from salestrack.formkit.spec import Field, FormSpec, Table, parse_signer
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.formkit.formkit_samples import TEXTS, row_count, sample, scoring_cell
from tests.sheet_samples import NOTE, UPLOADS

# Final approvals are sealed by the job queue: its worker runs beside the live server, as in production.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]

SPECS = registry.all_specs()
TIMEOUT = 15_000  # ms; generous for a loaded 2-core machine, never a fixed sleep
SIGN_TIMEOUT = 30_000  # the last signature; then the queue's worker renders, seals and archives the PDF


# ── the people ────────────────────────────────────────────────────────────
@dataclass
class Office:
    """The rep who files, his team, and everyone a chain may name."""
    manager: object
    rep: object
    rep2: object
    others: list  # everyone else, by role
    project: object
    customer: object

    def everyone(self) -> list:
        return [self.manager, self.rep, self.rep2, *self.others]

    def holders(self, role: str) -> list:
        """Who the submit page offers for a role (the author never)."""
        return sorted((u for u in self.everyone() if u.role == role and u.id != self.rep.id), key=lambda u: u.name)


@pytest.fixture
def office(factory) -> Office:
    team = factory.team("华东片区")
    manager = factory.user("manager", team, username="wangfang", name="王芳")
    rep = factory.user("rep", team, username="liming", name="李明")
    rep2 = factory.user("rep", team, username="zhaolei", name="赵磊")
    others = [
        factory.user("director", username="wugang", name="吴刚"),
        factory.user("gm", username="sunjianguo", name="孙建国"),
        factory.user("hr", username="zhouting", name="周婷"),
        factory.user("implementation", username="wulei", name="吴磊", title="项目经理"),
        factory.user("implementation", username="zhenghao", name="郑浩", title="技术工程师"),
    ]
    # Whatever role a (future) sheet's chain names gets a holder too.
    have = {u.role for u in [manager, rep2, *others]}
    for spec in SPECS:
        for slot in spec.slots:
            how, arg = parse_signer(slot.signer)
            if how in ("role", "chosen") and arg not in have:
                others.append(factory.user(arg))
                have.add(arg)
    customer = factory.customer(rep, name="苏州恒力精密机械有限公司")
    project = factory.project(rep, customer, name="恒力精机 MES 系统")
    return Office(manager, rep, rep2, others, project, customer)


@pytest.fixture
def person(browser, live_server):
    """person(user): a page in that user's own browser context, signed in
    (one context per person for the test). Whatever the
    Content-Security-Policy blocked on any page fails the test."""
    contexts, pages, blocked = [], {}, []

    def open_for(user):
        if user.id not in pages:
            context = browser.new_context(locale="zh-CN", base_url=live_server,
                                          viewport={"width": 1280, "height": 900})
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT)
            page.set_default_navigation_timeout(TIMEOUT)
            page.dialogs = []
            page.on("dialog", lambda d, p=page: (p.dialogs.append((d.type, d.message)), d.accept()))
            page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
            sign_in(page, user.username, PASSWORD)
            pages[user.id] = page
        return pages[user.id]

    yield open_for
    for context in contexts:
        context.close()
    assert blocked == []


# ── values from the sheet's definition ───────────────────────────────────
@dataclass
class Typed:
    """What was put into the sheet: label → printed text (fields), table key →
    rows of printed cells; the signers the chain will name, in order."""
    fields: dict = dc_field(default_factory=dict)
    tables: dict = dc_field(default_factory=dict)
    users: dict = dc_field(default_factory=dict)  # table key → {column key: [user per row]}
    sources: dict = dc_field(default_factory=dict)  # label → value the sheet takes from the project
    n: int = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def text_value(spec: FormSpec, field: Field, typed: Typed, row: int | None = None) -> str:
    """A realistic single-line text that contains no label of the sheet, so
    that finding a label in the PDF never rides on a typed value."""
    n = typed.next()
    value = TEXTS.get(field.key) or f"恒力{spec.prefix}{n:02d}号"
    if row:
        value = f"{value}（{row + 1}）"
    return value


def user_for(field: Field, office: Office, row: int):
    """A person a user field names: of the field's role, never the author;
    a table column that signs ('table:' slot) names a different person per row."""
    pool = [u for u in office.everyone() if u.id != office.rep.id and field.role in (None, u.role)]
    if field.role is None:  # prefer people outside the rest of the chain
        pool.sort(key=lambda u: (u.role not in ("rep", "hr", "director"), u.name))
    return pool[row % len(pool)]


def value_of(spec: FormSpec, field: Field, typed: Typed, office: Office, table: Table | None = None,
             row: int = 0):
    """(what to type or pick, what the page and the PDF print) for one input."""
    kind = field.kind
    if kind in ("text", "contact"):
        value = text_value(spec, field, typed, row)
        return value, value
    if kind == "textarea":
        value = f"{sample(field)[1]}\n第{typed.next()}条：恒力精机现场确认。"
        return value, value
    if kind == "int":
        value = str(row + 1 if table else typed.next() + 10)
        return value, value
    if kind == "date":
        value = f"2026-03-{18 + row:02d}"
        return value, value
    if kind == "user":
        user = user_for(field, office, row)
        return user, user.name
    if kind in ("datetime", "time", "money", "percent", "score", "choice", "checks"):
        posted, _, shown = sample(field)
        return posted, shown
    raise AssertionError(f"no value for kind {kind!r}")


# ── filling the form by its labels ───────────────────────────────────────
def by_label(page, label: str):
    """The input a paper label names (a required field's label ends in *; a
    money field's label names its unit, （万元）)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(（万元）)?\*?$"))


def put(page, input_, field: Field, value):
    kind = field.kind
    if kind in ("choice",):
        input_.select_option(value[0] if isinstance(value, list) else value)
    elif kind == "user":
        input_.select_option(label=value.name)
    else:
        input_.fill(value if isinstance(value, str) else value[0])


def fill_checks(page, field: Field, values: list[str]):
    # the group's accessible name is its label alone, not its options run together
    box = page.get_by_role("group", name=re.compile(rf"^{re.escape(field.label)}\*?$"))
    for choice in values:
        box.get_by_label(choice, exact=True).check()
    if field.has_other and "其他" in values:
        page.get_by_role("textbox", name=f"{field.label}：其他说明", exact=True).fill(NOTE)


def fill_sheet(page, spec: FormSpec, office: Office) -> Typed:
    """Every input of the sheet filled by its label: fields, two rows of
    every table, choices, people, an uploaded file."""
    typed = Typed()
    for item in spec.items():
        if isinstance(item, Table):
            fill_table(page, spec, item, office, typed)
        elif item.source:  # shown read-only, from the project (or its contract review)
            value = by_label(page, item.label).input_value()
            known = {"project.name": office.project.name, "customer.name": office.customer.name,
                     "customer.customer_no": office.customer.customer_no}
            assert value == known.get(item.source, value), (item.label, value)
            if value:
                typed.sources[item.label] = value
        elif item.kind == "files":
            by_label(page, item.label).set_input_files(
                [{"name": name, "mimeType": "application/pdf" if name.endswith(".pdf") else "image/png",
                  "buffer": content} for name, content in UPLOADS])
            typed.fields[item.label] = "、".join(name for name, _ in UPLOADS)
        elif item.kind == "checks":
            posted, _, shown = sample(item)
            fill_checks(page, item, posted)
            typed.fields[item.label] = shown
        else:
            value, shown = value_of(spec, item, typed, office)
            put(page, by_label(page, item.label), item, value)
            typed.fields[item.label] = shown
    return typed


def fill_table(page, spec, table: Table, office: Office, typed: Typed):
    """Two rows, or every row the paper preprints (their labels are printed,
    not typed); a 权重 column gets weights adding up to 100 %."""
    rows = []
    count = row_count(table, 2)
    for row in range(count):
        typed_cols = [c for c in table.columns if scoring_cell(table, c, row, count) is None
                      or c.key == table.weights]
        head = typed_cols[0]
        first = page.get_by_label(f"{table.label} 第{row + 1}行 {head.label}{f'（{head.unit}）' if head.unit else ''}",
                                  exact=True)
        if first.count() == 0:
            page.locator(f"#field-{table.key}").get_by_role("button", name="＋ 添加一行").click()
            first.wait_for()
        cells = []
        for col in table.columns:
            decided = scoring_cell(table, col, row, count)
            if decided is not None and not decided[0]:  # a preprinted label: printed, nothing to type
                cells.append(decided[2])
                continue
            unit = f"（{col.unit}）" if col.unit else ""  # a money cell names its unit (万元)
            cell = page.get_by_label(f"{table.label} 第{row + 1}行 {col.label}{unit}", exact=True)
            if col.kind == "checks":
                raise AssertionError("checks columns in tables are not supported by this test yet")
            value, shown = (decided[0][0], decided[2]) if decided else value_of(spec, col, typed, office, table, row)
            put(page, cell, col, value)
            if col.kind == "user":
                typed.users.setdefault(table.key, {}).setdefault(col.key, []).append(value)
            cells.append(shown)
        rows.append(cells)
    typed.tables[table.key] = rows


# ── the chain ─────────────────────────────────────────────────────────────
def chosen_signer(slot, role: str, office: Office, taken: set):
    """Whom the rep picks for a 'chosen:' slot: the holder whose title the
    slot names (技术工程师, 项目经理), else the first not yet picked."""
    holders = office.holders(role)
    titled = [u for u in holders if getattr(u, "title", None) and u.title in slot.label]
    free = [u for u in titled + holders if u.id not in taken]
    return (free or holders)[0]


def expected_chain(spec: FormSpec, office: Office, typed: Typed) -> tuple[list, dict]:
    """[(slot, signer)] in signing order, and {slot key: user} picked on the submit page."""
    chain, picks, taken = [], {}, set()
    for slot in spec.slots:
        how, arg = parse_signer(slot.signer)
        if how == "team_manager":
            chain.append((slot, office.manager))
        elif how == "project_owner":  # the project is the rep's: he signs as its 客户经理
            chain.append((slot, office.rep))
        elif how == "role" and len(office.holders(arg)) == 1:
            chain.append((slot, office.holders(arg)[0]))
        elif how in ("role", "chosen"):
            user = chosen_signer(slot, arg, office, taken)
            taken.add(user.id)
            picks[slot.key] = user
            chain.append((slot, user))
        else:
            table, column = arg
            seen = []
            for user in typed.users[table][column]:
                if user.id not in [u.id for u in seen]:
                    seen.append(user)
            chain += [(slot, user) for user in seen]
    return chain, picks


# ── steps ─────────────────────────────────────────────────────────────────
def open_sheet_from_project(page, office: Office, spec: FormSpec):
    """The sheet's new page from where it is filed: the project page, or the
    customer page for a customer-level sheet (FormSpec.filed_on)."""
    if spec.filed_on == "customer":
        page.goto(f"/customers/{office.customer.id}")
        new = rf"/customers/{office.customer.id}/sheets/{spec.key}/new$"
    else:
        page.goto(f"/projects/{office.project.id}")
        new = rf"/projects/{office.project.id}/sheets/{spec.key}/new$"
    menu = page.locator("#sheets details.menu")
    if menu.count():
        menu.locator("summary").click()
    # the link says the sheet's title; two printings of one sheet share it
    # (强化客户关系计划表), so the link is the one that opens this definition
    links = page.locator("#sheets").get_by_role("link", name=spec.title, exact=True)
    link = links.and_(page.locator(f'a[href$="/sheets/{spec.key}/new"]'))
    assert links.count() == sum(s.title == spec.title for s in SPECS)
    link.click()
    page.wait_for_url(re.compile(new))
    assert page.get_by_role("heading", level=1).inner_text().startswith(spec.title)


def save_draft(page) -> int:
    page.get_by_role("button", name="保存草稿").click()
    try:
        page.wait_for_url(re.compile(r"/records/\d+$"))
    except Exception:
        errors = [t for t in page.locator("p.error").all_inner_texts() if t.strip()]
        raise AssertionError(f"saving failed at {page.url}: {errors} {page.inner_text('main')[:1500]}") from None
    return int(page.url.rsplit("/", 1)[-1])


def submit(page, record_id: int, picks: dict):
    page.get_by_role("link", name="提交审批").click()
    page.wait_for_url(re.compile(rf"/records/{record_id}/submit$"))
    for slot_key, user in picks.items():
        page.locator(f'select[name="signer_{slot_key}"]').select_option(label=user.name)
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_url(re.compile(rf"/records/{record_id}$"))
    status = page.locator("main").inner_text()
    assert "审批中" in status and "等待" in status, status[:1500]


def chain_names(page) -> list[str]:
    """Signers of the current round as the record page lists them."""
    table = page.locator("#signoff table.chain").first
    return [t.strip() for t in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]


def open_inbox_item(page, record_id: int):
    """待我审批 from the main navigation, and the sheet's item in it."""
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=re.compile(r"^待我审批")).click()
    page.wait_for_url(re.compile(r"/inbox/$"))
    item = page.locator(f"#inbox-{record_id}")
    item.wait_for()
    page.evaluate("window.__same_page = true")
    return item


def act_in_place(page, item, record_id: int, button: str, done_text: str):
    item.get_by_role("button", name=button, exact=True).click()
    page.locator(f"#inbox-{record_id} .flash-success").wait_for(timeout=SIGN_TIMEOUT)
    assert page.evaluate("window.__same_page") is True  # swapped in place, no reload
    done = page.locator(f"#inbox-{record_id}").inner_text()
    assert done_text in done, done


def approve_from_inbox(page, record_id: int, slot, comment: str) -> str | None:
    """同意 in the sheet's inbox item; the comment is typed when the slot's
    label asks for one (*). Returns the comment typed, if any."""
    item = open_inbox_item(page, record_id)
    required = item.locator("label .req").count() > 0
    assert required == slot.comment_required, f"{slot.label}: the page and the definition disagree on the comment"
    if required:
        item.get_by_role("textbox").fill(comment)
    act_in_place(page, item, record_id, "同意", "已签署")
    return comment if required else None


def return_from_inbox(page, record_id: int, reason: str):
    """退回 needs a reason (refused without one, right in the item) and asks
    for a confirmation first."""
    item = open_inbox_item(page, record_id)
    item.get_by_role("button", name="退回", exact=True).click()
    page.locator(f"#inbox-{record_id}").get_by_text("退回时请填写退回原因").wait_for()
    item = page.locator(f"#inbox-{record_id}")
    assert item.get_by_role("button", name="退回", exact=True).count() == 1  # still waiting here
    before = len(page.dialogs)
    item.get_by_role("textbox").fill(reason)
    act_in_place(page, item, record_id, "退回", "已退回")
    assert [kind for kind, _ in page.dialogs[before:]] == ["confirm"], page.dialogs


def run_chain(person, record_id: int, chain: list, *, stop_at: int | None = None, reason: str = "") -> dict:
    """Each signer, in their own browser, approves from the inbox; the one
    at `stop_at` returns it with `reason` instead. {slot index: comment}."""
    comments = {}
    for index, (slot, user) in enumerate(chain):
        page = person(user)
        if index == stop_at:
            return_from_inbox(page, record_id, reason)
            return comments
        comment = approve_from_inbox(page, record_id, slot, f"第{index + 1}步：情况属实，同意。")
        if comment:
            comments[index] = comment
    return comments


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "final.pdf"
    path.write_bytes(data)
    # -raw: text in content-stream order, i.e. cell by cell. The default
    # reading-order mode interleaves the lines of neighbouring narrow table
    # cells ("2026-03" of one cell, then a line of the next, then "-20 14:30").
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True,
                         timeout=60).stdout
    return squeeze(out.decode("utf-8"))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def printed_labels(spec: FormSpec) -> list[str]:
    """Every label the printed sheet shows: each field (the header date is
    printed in the header), each table's title and columns, each titled
    section, each sign-off slot, the author's label. Not checked because not
    printed: a slot's comment_label (the PDF's signature block heads the
    comment column 批注) and the English labels."""
    labels = [spec.title, "编号"] + ([spec.author_label] if spec.paper_header else [])
    for section in spec.sections:
        if section.title:
            labels.append(section.title)
        for item in section.items:
            if isinstance(item, Table):
                labels += ([item.label] if item.print_caption else []) + [col.label for col in item.columns]
                labels += [row.group for row in item.rows if row.group] + [row.label for row in item.rows if not row.typed]
                labels += [label for label in (item.total_label, item.grade and item.grade.label) if label]
            else:  # several fields printed as one keep the paper's label
                labels.append(item.print_label or item.label)
    labels += [slot.label for slot in spec.slots] + ([spec.sign_title] if spec.sign_title else [])
    return labels


def check_seal(app, data: bytes) -> dict:
    """The app's own check of an uploaded file, in a thread of its own:
    pyHanko calls asyncio.run, and Playwright keeps a loop running here."""
    def check():
        with app.app_context():
            result = archive.check_upload(data)
            return {"archived": result.archived is not None, "number": result.claimed_number, **result.seal}
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(check).result(timeout=120)


def download_final_pdf(page, record_id: int) -> bytes:
    """The sealed PDF, taken as a user takes it: the record page shows 归档中
    and asks again by itself until 下载 PDF appears."""
    page.goto(f"/records/{record_id}")
    link = page.get_by_role("link", name="下载 PDF")
    link.wait_for(timeout=SIGN_TIMEOUT)
    href = link.get_attribute("href")
    response = page.context.request.get(href if href.startswith("http") else page.url.split("/records/")[0] + href)
    assert response.ok, response.status
    assert response.headers["content-type"].startswith("application/pdf")
    return response.body()


def verify_in_browser(page, data: bytes, number: str):
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name="文件验证").click()
    page.wait_for_url(re.compile(r"/verify/$"))
    page.get_by_label("PDF 文件").set_input_files(
        {"name": f"{number}.pdf", "mimeType": "application/pdf", "buffer": data})
    page.get_by_role("button", name="核验").click()
    page.locator(".verdict").wait_for()
    text = page.locator("main").inner_text()
    assert "✔ 正式归档文件" in text, text[:2000]
    assert "与归档文件逐字节一致" in text or "是，逐字节一致" in text
    assert "签章完好" in text and "本单位签章证书" in text
    assert number in text


def check_final_pdf(app, page, spec, record_id, number, typed: Typed, office: Office, comments: dict, chain,
                    tmp_path) -> str:
    data = download_final_pdf(page, record_id)
    # the page names the archived file by its hash
    assert hashlib.sha256(data).hexdigest()[:16] in page.locator("main").inner_text()

    seal = check_seal(app, data)
    assert seal["archived"], seal
    assert seal["signed"] and seal["intact"] and seal["trusted"], seal
    assert seal["number"] == number

    text = pdf_text(data, tmp_path)
    missing = [label for label in printed_labels(spec) if squeeze(label) not in text]
    assert not missing, f"labels not in the PDF of {spec.key}: {missing}"
    boxed = {f.label: f for f in spec.items() if not isinstance(f, Table) and f.kind in ("choice", "checks")}
    values = [v for label, v in typed.fields.items() if v and label not in boxed]
    # a choice or checks field prints every option with ☑/☐: the chosen ones ticked
    values += [f"☑{part}" for label, v in typed.fields.items() if v and label in boxed for part in v.split("、")]
    values += [c for rows in typed.tables.values() for r in rows for c in r if c]
    values += list(typed.sources.values()) + [number]
    values += [user.name for _, user in chain] + list(comments.values())
    absent = [v for v in values if squeeze(str(v)) not in text]
    assert not absent, f"values not in the PDF of {spec.key}: {absent}"
    verify_in_browser(page, data, number)
    return text


def file_and_submit(person, office: Office, spec: FormSpec):
    rep = person(office.rep)
    open_sheet_from_project(rep, office, spec)
    typed = fill_sheet(rep, spec, office)
    record_id = save_draft(rep)
    number = rep.locator("h1 small").inner_text().strip()
    shown = rep.locator("main").inner_text()
    for label, value in typed.fields.items():
        assert value.split("\n")[0] in shown, f"{label}: {value!r} not on the record page"
    chain, picks = expected_chain(spec, office, typed)
    submit(rep, record_id, picks)
    assert chain_names(rep) == [user.name for _, user in chain]
    return rep, record_id, number, typed, chain


def finish_handover(person, office: Office, number: str):
    """The implementation project manager works it from 交接工作台."""
    pm = next(u for u in office.others if u.role == "implementation" and getattr(u, "title", "") == "项目经理")
    page = person(pm)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="交接工作台").click()
    page.wait_for_url(re.compile(r"/handover/$"))
    card = page.locator("article.card").filter(has_text=number)
    card.get_by_role("button", name="开始实施").click()
    page.wait_for_url(re.compile(r"/handover/$"))
    page.get_by_text(f"{number}：实施中").wait_for()
    card = page.locator("article.card").filter(has_text=number)
    before = len(page.dialogs)
    card.get_by_role("button", name="实施完成").click()
    page.get_by_text(f"{number}：已完成").wait_for()
    assert [kind for kind, _ in page.dialogs[before:]] == ["confirm"]
    page.get_by_role("navigation", name="按状态筛选").get_by_role("link", name="已完成").click()
    page.wait_for_url(re.compile(r"status=finished"))
    card = page.locator("article.card").filter(has_text=number)
    assert card.count() == 1 and "已完成" in card.inner_text()
    assert card.get_by_role("button").count() == 0


# ── the tests ─────────────────────────────────────────────────────────────
@pytest.mark.parametrize("spec", [s for s in SPECS if s.slots], ids=lambda s: s.key)
def test_a_sheet_goes_from_the_project_page_to_a_sealed_verified_pdf(app, office, person, spec, tmp_path):
    rep, record_id, number, typed, chain = file_and_submit(person, office, spec)
    comments = run_chain(person, record_id, chain)

    rep.goto(f"/records/{record_id}")
    status = rep.locator("main").inner_text()
    assert "已批准" in status and "审批通过" in status, status[:1500]
    check_final_pdf(app, rep, spec, record_id, number, typed, office, comments, chain, tmp_path)
    if spec.worklist:
        finish_handover(person, office, number)


RETURNED = ["phone_log"]


def text_to_revise(spec: FormSpec):
    """(label of the input the rep revises, how to record its new printed
    value): the sheet's first required text input, else its first text input;
    a table's is the cell in the first row."""
    found = []
    for item in spec.items():
        if isinstance(item, Table):
            for index, col in enumerate(item.columns):
                if col.kind == "text":
                    found.append((col.required, f"{item.label} 第1行 {col.label}",
                                  lambda typed, value, t=item.key, i=index: typed.tables[t][0].__setitem__(i, value)))
        elif item.kind == "text" and not item.source:
            found.append((item.required, item.label,
                          lambda typed, value, label=item.label: typed.fields.__setitem__(label, value)))
    required, label, keep = max(found, key=lambda f: f[0])  # the first of the best
    return label, keep


@pytest.mark.parametrize("spec", [registry.get(k) for k in RETURNED], ids=lambda s: s.key)
def test_a_returned_sheet_is_revised_resubmitted_and_signed_to_the_end(app, office, person, spec, tmp_path):
    rep, record_id, number, typed, chain = file_and_submit(person, office, spec)
    reason = "请写明对方的职务后再提交"
    returner = chain[-1][1]
    run_chain(person, record_id, chain, stop_at=len(chain) - 1, reason=reason)

    rep.goto(f"/records/{record_id}")
    assert "已退回" in rep.locator("h1").inner_text()
    returned = rep.locator("#signoff table.chain tr").filter(has_text=reason)
    assert returned.count() == 1, rep.locator("main").inner_text()[:2000]
    row = returned.inner_text()
    assert returner.name in row and "退回" in row and chain[-1][0].label in row, row

    rep.get_by_role("link", name="编辑", exact=True).click()
    rep.wait_for_url(re.compile(rf"/records/{record_id}/edit$"))
    label, keep = text_to_revise(spec)
    cell = by_label(rep, label)
    new = f"{cell.input_value()}（已写明职务）"
    cell.fill(new)
    assert save_draft(rep) == record_id
    assert new in rep.locator("main").inner_text()
    assert new in rep.locator("#revisions").inner_text()  # 信息修改记录 lists the change
    keep(typed, new)

    submit(rep, record_id, expected_chain(spec, office, typed)[1])
    comments = run_chain(person, record_id, chain)
    rep.goto(f"/records/{record_id}")
    status = rep.locator("main").inner_text()
    assert "已批准" in status, status[:1500]
    assert reason in status  # the returned round stays on the record
    text = check_final_pdf(app, rep, spec, record_id, number, typed, office, comments, chain, tmp_path)
    assert squeeze(reason) in text  # the return is in the printed approval history
