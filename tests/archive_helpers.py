"""Filling any sheet with realistic values and taking it through its real
sign-off chain to a sealed, archived PDF; what the printed sheet must show."""
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from salestrack import operations, workflow
from salestrack.extensions import db
from salestrack.formkit.spec import Table
from salestrack.models import ArchivedPdf, Record, User
from tests.queue_support import wait_archived

TEXTS = {
    "customer_name": "杭州华东精密机械有限公司", "name": "杭州华东精密机械有限公司", "short_name": "华东精机",
    "customer_no": "KH-2026-0031", "reached": "采购部王经理", "contact": "0571-8765 4321",
    "promise": "周五前发送节能改造方案", "todo": "整理客户设备清单", "visitee": "设备部陈部长",
    "place": "客户二号厂房会议室", "companions": "技术部刘工", "phone": "0571-8765 4321",
    "email": "chen@hdjj.example.cn", "tender_term": "合同签订后预付30%", "tender_clause_no": "第四章 3.2 条",
    "bid_term": "合同签订后预付20%，到货验收后付60%", "contract_name": "数控系统改造项目合同",
    "contract_no": "HT-2026-118", "vat_no": "91330100MA2XXXX12K", "support_period": "2026年4月上旬，约3天",
    "legal_rep": "陈国华", "decision_maker": "总经理 陈国华", "postcode": "310052", "fax": "0571-8765 4300",
    "address": "杭州市滨江区长河路 590 号", "main_products": "数控机床、精密轴承", "scale": "员工约 800 人",
    "annual_output": "约 6 亿元", "revenue": "5.2 亿元", "benefit": "良好", "cost": "4.1 亿元", "profit": "0.6 亿元",
    "bank": "中国工商银行杭州滨江支行", "sales_expense": "约 1200 万元", "account_no": "1202 0210 0900 1234 567",
    "tax_phone": "0571-8765 4321", "invoice_address": "杭州市滨江区长河路 590 号", "element": "技术方案匹配度",
    "our_wins": "客户认可我方伺服方案", "our_losses": "报价高于竞品约8%", "customer_advice": "建议补充测试报告",
    "owner": "张伟", "action_plan": "下周提交测试报告", "next_visit_place": "客户总部会议室",
    "next_visit_purpose": "方案演示", "next_visit_plan": "演示样机并讨论实施计划", "title": "技术总监",
    "department": "技术部", "result": "同意", "note": "按招标文件执行", "tracking": "已发送资料，等待回复",
}
TEXTAREA = "客户计划三季度改造两条产线，预算约两百万元。\n希望我方下周到现场演示数控系统。"
ATTACHMENTS = (("技术方案.pdf", b"%PDF-1.4 technical proposal"), ("报价单.pdf", b"%PDF-1.4 quotation"))


@dataclass
class People:
    """Everyone a sheet's chain can name: a team with its manager, the author
    and a colleague, the general manager, HR and two implementation people."""
    team: object
    manager: User
    author: User
    colleague: User
    gm: User
    hr: User
    engineer: User
    project_manager: User
    others: list = field(default_factory=list)


def make_people(factory) -> People:
    team = factory.team("华东片区")
    manager = factory.user("manager", team, name="李娜")
    author = factory.user("rep", team, name="张伟")
    colleague = factory.user("rep", team, name="王芳")
    return People(team, manager, author, colleague, gm=factory.user("gm", name="孙建国"),
                  hr=factory.user("hr", name="周婷"), engineer=factory.user("implementation", name="郑浩"),
                  project_manager=factory.user("implementation", name="吴磊"),
                  others=[factory.user("director", name="赵敏")])  # 销售总监意见 on 客户意见反馈表


def value(item, row: int, people: People, attachments: list) -> tuple[object, str]:
    """(stored value, printed text) of one field in table row `row` (0 outside tables)."""
    mark = f"（{row + 1}）" if row else ""
    kind = item.kind
    if kind in ("text", "contact"):
        text = TEXTS.get(item.key, f"{item.label}按双方约定执行") + mark
        return text, text
    if kind == "textarea":
        return TEXTAREA + mark, TEXTAREA + mark
    if kind == "date":
        day = (date(2026, 3, 2) + timedelta(days=row)).isoformat()
        return day, day
    if kind == "datetime":
        at = f"{(date(2026, 3, 20) + timedelta(days=row)).isoformat()}T14:{row % 60:02d}"
        return at, at.replace("T", " ")
    if kind == "time":
        at = f"{8 + row % 10:02d}:{(row * 7) % 60:02d}"
        return at, at
    if kind == "int":
        return row + 1, str(row + 1)
    if kind == "money":
        amount = Decimal("1234.50") + row * 100
        return f"{amount:.2f}", f"{amount:,.2f} 万元"  # printed with its unit
    if kind == "percent":
        return 35, "35%"
    if kind == "score":
        return 3, "3"
    if kind == "choice":
        choice = item.choices[row % len(item.choices)]
        return choice, choice
    if kind == "checks":
        first = item.choices[0]
        if item.has_other:
            return {"values": [first, "其他"], "other": "参加展会布展"}, f"{first}、其他：参加展会布展"
        return {"values": [first], "other": ""}, first
    if kind == "user":
        user = (people.colleague, people.engineer)[row % 2]
        return user.id, user.name
    if kind == "files":
        return [a.id for a in attachments], "、".join(a.filename for a in attachments)
    raise AssertionError(f"no sample for kind {kind}")


def sheet_data(spec, people: People, rows: int = 20) -> tuple[dict, list[str], list]:
    """(data, printed values, attachments): every input of the sheet filled, `rows` rows in each table."""
    attachments = []
    if any(getattr(i, "kind", None) == "files" for i in spec.items()):
        attachments = [operations.store_attachment(people.author, "attachments", name, body, "application/pdf")
                       for name, body in ATTACHMENTS]
    data, printed = {}, []
    for item in spec.items():
        if isinstance(item, Table):
            data[item.key] = []
            for row in range(rows):
                cells = {}
                for col in item.columns:
                    cells[col.key], text = value(col, row, people, attachments)
                    printed.append(text)
                data[item.key].append(cells)
        elif not item.source:
            data[item.key], text = value(item, 0, people, attachments)
            if item.kind in ("choice", "checks"):  # printed as every option, the chosen ones ☑
                printed.extend(f"☑{part}" for part in text.split("、"))
            else:
                printed.append(text)
    return data, printed, attachments


def labels(spec) -> list[str]:
    """Every label the printed sheet shows: fields (under their paper label
    where several print as one), tables (their caption where the paper prints
    one), their columns, section titles."""
    out = [spec.title]
    for section in spec.sections:
        out += [section.title] if section.title else []
        for item in section.items:
            if isinstance(item, Table):
                out += ([item.label] if item.print_caption else []) + [col.label for col in item.columns]
            else:
                out.append(item.print_label or item.label)
    return out


def file_sheet(factory, people: People, spec, rows: int = 20) -> tuple[Record, list[str]]:
    """A project of the author's with the sheet filed as a draft (on the
    project's customer for a customer-level sheet): (record, printed values)."""
    project = factory.project(people.author, name="华东精机数控车间改造")
    data, printed, attachments = sheet_data(spec, people, rows)
    on_customer = spec.filed_on == "customer"
    record = operations.create_record(people.author, None if on_customer else project, spec, data,
                                      attachment_ids=[a.id for a in attachments],
                                      customer=project.customer if on_customer else None)
    printed += [record.data[f.key] for f in spec.source_fields() if record.data.get(f.key)]
    return record, printed


def submit(record: Record, spec, author: User) -> None:
    """Submits, choosing the people the author must pick (different ones where there is a choice)."""
    chosen = {}
    for index, choice in enumerate(workflow.choices(spec, author)):
        chosen[choice.key] = choice.candidates[index % len(choice.candidates)][0]
    operations.submit_record(author, record, spec, chosen)


def sign_all(record: Record, spec) -> list[str]:
    """Every slot signed by the person it waits for, then (approved) waiting
    for the queue's worker to seal and archive the PDF, as a user waits for
    the 下载 PDF link; returns the signers' names."""
    names = []
    while record.status == "submitted":
        signer = db.session.get(User, record.waiting_for_id)
        slot = record.chain[record.current_slot]
        operations.sign_record(signer, record, spec, "approved", f"{slot['label']}：同意，按计划推进")
        names.append(signer.name)
    if record.status == "approved":
        wait_archived(record)
    return names


def approve(record: Record, spec, author: User) -> list[str]:
    submit(record, spec, author)
    return sign_all(record, spec)


def archived_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ArchivedPdf))
