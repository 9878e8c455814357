"""The person master: the people in a customer's organisation, as
联系人基本信息表 (toolkit sheet 8) and 关键决策人基本信息表 (sheet 20)
describe them (paper-forms-toolkit.md, "Master data"). Their fields are
declared once here as form-engine Fields, so the person page, its form and
its checks are the engine's; which of them are private is declared here too.

Private fields (family, birthday, political status, spouse, children …) are
shown only to the customer's team, its manager and above
(access.can_see_private_person), and no bulk export reads them: the source's
own guides ask to record only what is needed about contacts and to share
customer data inside the sales team only (002, 003)."""
from __future__ import annotations

import sqlalchemy as sa

from .extensions import db
from .formkit.spec import Field, FormSpec, Section
from .models import Person

RAPPORT = ("初步接触", "能交流", "投缘", "非常好")
INFLUENCE = ("一般成员", "核心成员", "组织者", "决策者")
RELATION_TYPE = ("目标客户", "商务朋友", "联系人的朋友", "私人朋友")
RELATION_STATE = ("未接触", "点头之谊", "常往来", "很铁")
PERSONALITY = ("分析型", "表现型", "控制型", "友善型", "未能判定")

# Person columns; every other field is kept in Person.details or Person.private.
COLUMNS = ("name", "title", "phone")

BASIC = (
    Field("name", "姓名", "Name", "text", required=True),
    Field("title", "职位", "Position", "text"),
    Field("employer", "服务企业", "Employer", "text"),
    Field("phone", "电话", "Phone", "text"),
    Field("fax", "传真", "Fax", "text"),
    Field("email", "E-mail", "E-mail", "text"),
    Field("postcode", "邮编", "Postcode", "text"),
    Field("rapport", "客情状态", "Rapport", "choice", choices=RAPPORT),
    Field("influence", "影响力", "Influence", "choice", choices=INFLUENCE),
    Field("relation_type", "关系性质", "Relationship type", "choice", choices=RELATION_TYPE),
    Field("relation_state", "关系状态", "Relationship state", "choice", choices=RELATION_STATE),
    Field("personality", "性格", "Personality", "choice", choices=PERSONALITY),
    Field("gender", "性别", "Gender", "text"),
    Field("age", "年龄", "Age", "int"),
    Field("school", "毕业学校", "School", "text"),
    Field("major", "专业", "Major", "text"),
    Field("education", "教育背景", "Education", "textarea", wide=True),
    Field("career", "社会经历", "Career", "textarea", wide=True),
    Field("interests", "兴趣", "Interests", "text"),
    Field("sports", "喜爱运动", "Sports", "text"),
    Field("social_circle", "社交圈", "Social circle", "textarea", wide=True),
)
PRIVATE = (
    Field("political_status", "政治面貌", "Political status", "text"),
    Field("home_address", "住址", "Home address", "text", wide=True),
    Field("birthday", "生日", "Birthday", "date"),
    Field("birthplace", "出生地", "Birthplace", "text"),
    Field("personal_credit", "个人资信", "Personal credit", "text"),
    Field("family", "家族成员状况", "Family", "textarea", wide=True),
    Field("marital_status", "婚姻状况", "Marital status", "text"),
    Field("wedding_anniversary", "结婚纪念日", "Wedding anniversary", "date"),
    Field("spouse_name", "配偶姓名", "Spouse's name", "text"),
    Field("spouse_birthday", "配偶生日", "Spouse's birthday", "date"),
    Field("spouse_interests", "配偶的兴趣/爱好", "Spouse's interests", "text"),
    Field("child_name", "子女姓名", "Child's name", "text"),
    Field("child_age", "子女年龄", "Child's age", "text"),
    Field("child_indulgence", "子女溺爱程度", "Child indulgence", "text"),
    Field("child_birthday", "子女生日", "Child's birthday", "date"),
    Field("child_interests", "子女的兴趣/爱好", "Child's interests", "text"),
    Field("other_family", "家族其他成员情况", "Other family", "textarea", wide=True),
)
PRIVATE_FIELDS = frozenset(f.key for f in PRIVATE)

# The person form, built by the form engine like a sheet (not a sheet: it is
# not in the registry, has no number and no sign-off).
FORM = FormSpec(
    key="person", title="联系人", title_en="Person", prefix="P", group="", stages=(), version=1,
    author_label="录入人",
    sections=(Section("基本信息", "Basic", BASIC + (
        Field("key_decision_maker", "关键决策人", "Key decision-maker", "choice", choices=("是", "否")),)),
        Section("私人信息（仅本团队、团队经理及以上可见）", "Private", PRIVATE)),
    slots=())


def values_of(person: Person, *, private: bool) -> dict:
    """{field key: stored value} of a person as the form engine stores them;
    the private fields only when `private` (the caller asked access)."""
    out = {key: getattr(person, key) for key in COLUMNS}
    out.update(person.details or {})
    out["key_decision_maker"] = "是" if person.key_decision_maker else "否"
    if private:
        out.update(person.private or {})
    return out


def people_of(customer_id: int | None) -> list[Person]:
    """The people recorded for a customer, by name (none for None)."""
    if customer_id is None:
        return []
    return list(db.session.scalars(sa.select(Person).where(Person.customer_id == customer_id)
                                   .order_by(Person.name, Person.id)))


def picker_people(customer_id: int | None) -> list[tuple[int, str, str]]:
    """(id, name, title) of the people a contact field offers: the filing
    project's customer's people."""
    return [(p.id, p.name, p.title or "") for p in people_of(customer_id)]


def offered_people(customer) -> list[dict]:
    """What a sheet's contact fields offer for `customer` (None: nothing):
    {'id' (None when not recorded), 'name', 'title', 'phone'} of each
    recorded person, by name, then the customer's main contact (联系人, with
    the customer's 电话) and 关键决策人 as 客户基本信息表 keeps them, when no
    recorded person has that name — so 找到谁 offers whom the customer
    master names even before he is recorded as a person."""
    if customer is None:
        return []
    out = [{"id": p.id, "name": p.name, "title": p.title or "", "phone": p.phone or ""}
           for p in people_of(customer.id)]
    names = {p["name"] for p in out}
    profile = customer.profile or {}
    for name, title, phone in ((customer.contact, "主要联系人", customer.phone),
                               (profile.get("decision_maker"), "关键决策人", "")):
        name = (name or "").strip() if isinstance(name, str) else ""
        if name and name not in names:
            names.add(name)
            out.append({"id": None, "name": name, "title": title, "phone": phone or ""})
    return out
