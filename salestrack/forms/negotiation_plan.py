"""合作谈判计划书 (toolkit sheet 26): the plan for the commercial
negotiation — both teams, the goal, the schedule, and under 合作谈判计划 our
position on each term: contract sample, scope, product and price strategy,
discounts, the price floor, payment, penalties, acceptance and IP.

The paper prints no header; the system header stands in. 合作谈判推进进度表
is a block of about six cells whose headings did not survive, so it is one
free text; 价格底限 is a free line on paper and stays text until the
department decides it is an amount (paper-forms-toolkit.md, 26). No
signature is printed; as on 电话记录表, the rep's 业务经理/组长 reviews it
(sales-process.md)."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="negotiation_plan",
    title="合作谈判计划书",
    title_en="Negotiation plan",
    prefix="TPJ",
    group="合作谈判型",
    stages=("negotiate",),
    version=1,
    author_label="填写人",
    order=23,
    sections=(
        Section("", "", (
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
        )),
        Section("", "", (
            Table("our_team", "合作谈判小组成员", "Our negotiating team", required=True, start_rows=5, columns=(
                Field("name", "姓名", "Name", "user", required=True),
                Field("title", "职位", "Position", "text"),
                Field("duty", "职责", "Responsibility", "text"),
                Field("contact_info", "联系方式", "Contact details", "text", print_as="unbroken"),
            )),
            Table("customer_team", "客户谈判成员", "Customer's negotiators", required=True, start_rows=6, columns=(
                Field("name", "姓名", "Name", "contact", required=True),
                Field("title", "职位", "Position", "text"),
                Field("duty", "职责", "Responsibility", "text"),
                Field("contact_info", "联系方式", "Contact details", "text", print_as="unbroken"),
            )),
            Field("goal", "合作谈判目标", "Negotiation goal", "textarea", required=True, wide=True),
            Field("schedule", "合作谈判推进进度表", "Negotiation schedule", "textarea", wide=True),
        )),
        Section("合作谈判计划", "Negotiation plan", (
            Field("contract_sample", "合同样本", "Contract sample", "files", wide=True),
            Field("pm_and_team", "项目经理及成员安排", "Project manager and team", "textarea", wide=True),
            Field("scope", "合同工作范围", "Contract scope of work", "textarea", wide=True),
            Field("product_strategy", "产品策略与产品配置", "Product strategy and configuration", "textarea",
                  wide=True),
            Field("pricing", "总价和分价格策略", "Total and itemised pricing strategy", "textarea", wide=True),
            Field("discount_strategy", "价格折让策略", "Discount strategy", "textarea", wide=True),
            Field("price_floor", "价格底限", "Price floor", "text"),
            Field("payment_terms", "付款方式", "Payment terms", "textarea", wide=True),
            Field("penalties", "处罚方式", "Penalties", "textarea", wide=True),
            Field("acceptance", "阶段验收标准", "Stage acceptance criteria", "textarea", wide=True),
            Field("ip_terms", "知识产权约定", "Intellectual property terms", "textarea", wide=True),
            Field("other", "其他", "Other", "textarea", wide=True),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
