"""报表: the department's reports in their paper layout (salestrack/reports.py)
— one page per report with the funnel's filters plus 应用类型/所属产品, and
its Excel export in the paper's columns. The role scope is the funnel's: a
rep his own projects, a manager his team's, the director and above all."""
import dataclasses
from datetime import timedelta

from flask import Blueprint, abort, request

from .. import clock, excel, reports
from .common import render_page, roles_required
from .funnel import VIEWERS, _filters, _scope_label, _xlsx

bp = Blueprint("reports", __name__, url_prefix="/reports")
TITLES = dict(reports.REPORTS)
SUMMARIES = {
    "funnel_by_category": "意向、方案、谈判客户及本期新签合同，每类合计；联系人取自客户的联系人档案。",
    "revenue_forecast": "主表（预计可回款、有希望回款）、上副表（已实现回款）、下副表（丢失、延期），按软件/实施分列。",
    "funnel_report": "逐个项目的七阶段清单：客户、联系人、预计金额、阶段填写编号及各阶段情况。",
    "project_tracking": "每个项目的 13 个跟踪节点（业务拜访 … 尾款）及到达日期。",
    "rep_ranking": "业务员按期间内签约金额排名（图），及各人期间内填写的各类表单份数。",
}


def _report_filters():
    """The funnel's scope and filters, narrowed to the product line chosen
    (only one the user's projects have)."""
    scope, filters = _filters()
    products = reports.product_lines(scope.visible)
    product = request.args.get("product", "")
    product = product if product in products else ""
    return dataclasses.replace(scope, product_line=product or None), dict(filters, products=products, product=product)


@bp.route("/")
@roles_required(*VIEWERS)
def index():
    return render_page("reports/index.html", reports=reports.REPORTS, summaries=SUMMARIES)


@bp.route("/<key>")
@roles_required(*VIEWERS)
def show(key):
    if key not in TITLES:
        abort(404)
    scope, filters = _report_filters()
    report = reports.build(key, scope, page=request.args.get("page", 1, type=int) or 1)
    return render_page("reports/show.html", "reports/_body.html", report=report, key=key, scope=scope,
                       period_last=scope.period.end - timedelta(days=1), **filters)


@bp.route("/<key>/export.xlsx")
@roles_required(*VIEWERS)
def export(key):
    if key not in TITLES:
        abort(404)
    scope, filters = _report_filters()
    label = _scope_label(scope) + (f"；所属产品：{filters['product']}" if filters["product"] else "")
    data = excel.report_workbook(reports.build(key, scope, export=True), label)
    return _xlsx(data, f"{TITLES[key]}-{clock.stamp()}.xlsx")
