"""客户意见反馈表 (toolkit sheet 17): what each person of the customer said
about our preliminary proposal, and what they focus on.

Its three opinions are signed in the paper's order: 项目经理综合意见 (the
project's account manager), 销售总监意见 (the director) and
技术总监/项目总监意见 — the department has no such role in the system, so
the author names the implementation team's project manager who gives it
(paper-forms-toolkit.md, 17). 影响力 takes sheet 8's list, as 17's ⚠ suggests."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table
from salestrack.people import INFLUENCE

FORM = FormSpec(
    key="customer_feedback",
    title="客户意见反馈表",
    title_en="Customer feedback",
    prefix="YJ",
    group="初步方案型",
    stages=("design",),
    version=1,
    author_label="大客户经理",
    order=14,
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
        )),
        Section("", "", (
            Table("respondents", "意见反馈人情况", "Who gave feedback", required=True, start_rows=5, columns=(
                Field("person", "拜访人", "Person visited", "contact", required=True),
                Field("dept", "部门", "Department", "text"),
                Field("title", "职务", "Position", "text"),
                Field("influence", "影响力", "Influence", "choice", choices=INFLUENCE),
                Field("traits", "个人特征", "Personal traits", "text"),
                Field("opinion", "意见", "Opinion", "textarea", required=True),
            )),
            Field("focus", "关注焦点", "Focus", "textarea", wide=True),
        )),
    ),
    slots=(
        Slot("project_manager", "项目经理综合意见", "Project manager's opinion", "project_owner",
             comment_required=True, comment_label="项目经理综合意见"),
        Slot("director", "销售总监意见", "Sales director's opinion", "role:director",
             comment_required=True, comment_label="销售总监意见"),
        Slot("technical", "技术总监/项目总监意见", "Technical/project director's opinion", "chosen:implementation",
             comment_required=True, comment_label="技术总监/项目总监意见"),
    ),
)
