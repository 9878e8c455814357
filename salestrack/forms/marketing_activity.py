"""营销活动表 (toolkit sheet 10, 上门拜访型): what a customer buys from us
and how, the marketing activities spent on it, and its irregularities. A
customer-level sheet: filed against the customer, not a project
(paper-forms-toolkit.md, "Customer-level records"); the paper prints no
header and closes with the record-keeping block in the order of sheets 8,
10, 20 and 28 (登记日期, 采集人, 录入人, 审核人, 审核标记, 修改记录).

营销活动记录、费用、时间 is one label over three blank cells on paper, read
as a table of 记录 / 费用 (万元) / 时间."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="marketing_activity",
    title="营销活动表",
    title_en="Marketing activity",
    prefix="YX",
    group="上门拜访型",
    stages=("contact",),
    version=1,
    author_label="填写人",
    order=7,
    filed_on="customer",
    paper_header=False,
    record_block=("registered", "collected", "entered", "reviewer", "review_mark", "revisions"),
    sections=(
        Section("", "", (
            Field("customer", "企业名称", "Company name", "text", source="customer.name"),
            Field("customer_no", "企业标识/编号", "Customer no.", "text", source="customer.customer_no"),
        )),
        Section("", "", (
            Field("business_types", "使用业务类型", "Business types used", "text", required=True),
            Field("since", "开始使用时间", "Customer since", "date"),
            Field("volume", "业务总量", "Total volume", "text"),
            Field("cost_structure", "费用构成", "Cost structure", "textarea", wide=True),
            Field("duration", "使用时长", "Duration of use", "text"),
            Field("purchase_frequency", "购买频率", "Purchase frequency", "text"),
            Field("primary_need", "第一需求", "Primary need", "text"),
            Field("discounts", "优惠政策", "Discounts granted", "textarea", wide=True),
            Field("new_product_attitude", "对新产品的倾向", "Attitude to new products", "text"),
            Field("our_quotes", "公司报价情况", "Our quotations", "textarea", wide=True),
            Field("company_rating", "公司评价", "Company rating", "textarea", wide=True),
            Field("handler", "业务承办人", "Business handled by", "text"),
            Field("referrer", "业务介绍人", "Referred by", "text"),
            Field("special_needs", "特殊需求", "Special needs", "textarea", wide=True),
            Field("anomalies", "异常信息", "Irregularities", "textarea", wide=True),
            Field("anomaly_tracking", "异常客户跟踪信息", "Irregularity follow-up", "textarea", wide=True),
        )),
        Section("", "", (
            Table("activities", "营销活动记录、费用、时间", "Marketing activities, cost, date", columns=(
                Field("record", "记录", "Activity", "textarea", required=True),
                Field("cost", "费用", "Cost", "money"),
                Field("date", "时间", "Date", "date"),
            )),
        )),
        Section("信息登记", "Record keeping", (
            Field("collector", "信息采集人", "Information collected by", "user"),
        )),
    ),
    slots=(
        Slot("review", "信息审核人", "Information reviewer", "team_manager"),
    ),
)
