"""One company, one customer: the keys two spellings of one company share.

`name_key` is what is left of a company name after NFKC (full-width letters,
digits and brackets → half-width), case folding, removing spaces, brackets
and punctuation, and removing legal-form suffixes at its end (有限公司,
股份有限公司, 有限责任公司, 集团, 公司, Co., Ltd. …). `苏州恒力精密机械有限公司`,
`苏州恒力精密机械（有限公司）` and `苏州 恒力精密机械股份有限公司` share one key.
`tax_key` is a 统一社会信用代码 / 增值税号 in upper case without spaces and
dashes. Rule source: issue 10 "One company, one customer"."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Longest first, so 股份有限公司 is removed whole before 公司 would be.
LEGAL_SUFFIXES = (
    "股份有限公司", "有限责任公司", "集团有限公司", "集团股份公司", "有限公司", "股份公司", "集团公司",
    "总公司", "分公司", "集团", "公司",
)
# Latin legal forms count only as whole words at the end ("Cisco" keeps its "co").
_LATIN_SUFFIX = re.compile(r"(?:[\s,.]+|\b)(?:co\.?,?\s*ltd|co\.?,?\s*limited|company\s+limited|limited|ltd|"
                           r"corporation|corp|company|co|inc|llc|gmbh|group)\.?\s*$")
_DROP = re.compile(r"[\s()\[\]{}<>（）【】〔〕《》〈〉「」『』\"'“”‘’.,，、。·・&＆/\\_\-—–:;：；]+")
_TAX_DROP = re.compile(r"[\s\-—–_/.]+")
TAX_ID_SHAPE = re.compile(r"[0-9A-Z]{8,20}")


@lru_cache(maxsize=8192)  # an import checks each name several times
def name_key(name: str | None) -> str | None:
    """The normalised key of a company name (see the module), at most 200
    characters; None for an empty name. A name that is only a legal form
    (`有限公司`) keeps it rather than becoming empty."""
    if not name:
        return None
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    while (stripped := _LATIN_SUFFIX.sub("", text)) != text and stripped.strip(" ,."):
        text = stripped
    text = _DROP.sub("", text)
    if not text:
        return None
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                changed = True
                break
    return text[:200]


def tax_key(tax_id: str | None) -> str | None:
    """A 统一社会信用代码 / 增值税号 as stored: NFKC, upper case, without spaces,
    dashes, dots or slashes; None when empty."""
    if not tax_id:
        return None
    text = _TAX_DROP.sub("", unicodedata.normalize("NFKC", tax_id).upper())
    return text or None


def find_duplicate(name: str | None, tax_id: str | None, exclude_id: int | None = None):
    """The existing customer a new or renamed one would duplicate, as
    (Customer, 'tax_id' | 'name'), or None. A matching tax id wins over a
    matching name. One indexed query per key (ix_customers_name_key,
    uq_customers_tax_id), so it stays fast at 100 000 customers."""
    import sqlalchemy as sa
    from .extensions import db
    from .models import Customer
    for reason, column, key in (("tax_id", Customer.tax_id, tax_key(tax_id)),
                                ("name", Customer.name_key, name_key(name))):
        if not key:
            continue
        q = sa.select(Customer).where(column == key)
        if exclude_id is not None:
            q = q.where(Customer.id != exclude_id)
        with db.session.no_autoflush:  # a pending change must not hit the unique index first
            found = db.session.scalars(q.order_by(Customer.id).limit(1)).first()
        if found is not None:
            return found, reason
    return None


def duplicate_message(user, customer, reason: str) -> str:
    """What `user` is told when what he typed duplicates `customer`: its number
    and name if he may see it; otherwise only which team holds it and whom to
    ask (its owner and the team's manager), never its details."""
    from . import access
    what = "统一社会信用代码/增值税号" if reason == "tax_id" else "企业名称"
    if access.can_view_customer(user, customer):
        return f"该{what}与已有客户 {customer.customer_no}「{customer.name}」相同，请直接使用该客户，不要重复登记。"
    team = customer.team.name if customer.team else "（未分配片区）"
    people = []
    if customer.owner is not None:
        people.append(f"负责人 {customer.owner.name}")
    if customer.team is not None and customer.team.manager is not None \
            and customer.team.manager_id != customer.owner_id:
        people.append(f"片区经理 {customer.team.manager.name}")
    ask = "、".join(people) or "销售总监"
    return (f"该{what}的客户已由 {team} 登记，您无权查看。请联系{ask}，"
            "由其转交或共享给您，不要重复登记。")
