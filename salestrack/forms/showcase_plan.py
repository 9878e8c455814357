"""业绩展示计划 (toolkit sheet 18): the plan for showing the customer our
references — why we meet, which of the customer's key people come and what
each cares about, which of ours come and whom each is to win over, the
agenda, the risks and what we do if they happen.

The paper prints no header; the system header stands in. 针对关键人 names
one of the customer's people (on paper, one of the rows above it), so it
picks from the customer's people like 姓名 of the customer's table. 沟通风格
and 管理风格 have no printed list and stay free text (paper-forms-toolkit.md,
18). No signature is printed; as on 电话记录表, the rep's 业务经理/组长
reviews it (sales-process.md)."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="showcase_plan",
    title="业绩展示计划",
    title_en="Reference showcase plan",
    prefix="ZSJ",
    group="业绩展示型",
    stages=("showcase",),
    version=1,
    author_label="填写人",
    order=15,
    sections=(
        Section("", "", (
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
        )),
        Section("", "", (
            Field("purpose", "交流目的", "Purpose of the meeting", "textarea", required=True, wide=True),
            Table("customer_attendees", "客户参加业绩展示关键人员", "Customer's key attendees", required=True,
                  start_rows=3, columns=(
                      Field("name", "姓名", "Name", "contact", required=True),
                      Field("dept", "部门", "Department", "text"),
                      Field("title", "职位", "Position", "text"),
                      Field("comm_style", "沟通风格", "Communication style", "text"),
                      Field("mgmt_style", "管理风格", "Management style", "text"),
                      Field("concerns", "关心问题", "Concerns", "text"),
                  )),
            Table("our_attendees", "公司参加业绩展示关键人员", "Our key attendees", required=True,
                  start_rows=3, columns=(
                      Field("name", "姓名", "Name", "user", required=True),
                      Field("dept", "部门", "Department", "text"),
                      Field("title", "职位", "Position", "text"),
                      Field("role", "承担角色", "Role in the meeting", "text"),
                      Field("counterpart", "针对关键人", "Customer's person to address", "contact"),
                      Field("issues", "要解决的问题", "Issues to resolve", "text"),
                  )),
        )),
        Section("", "", (
            Field("agenda", "交流议程", "Agenda", "textarea", wide=True),
            Field("obstacles", "存在的问题或障碍", "Problems or obstacles", "textarea", wide=True),
            Field("value", "给客户带来的价值", "Value to the customer", "textarea", wide=True),
            Field("risks", "可能存在的问题", "Possible problems", "textarea", wide=True),
            Field("strengths", "优势", "Strengths", "textarea", wide=True),
            Field("contingency", "如出现问题该如何处理", "What to do if problems arise", "textarea", wide=True),
            Field("target", "交流达成目标", "Target of the meeting", "textarea", required=True, wide=True),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
