"""异常客户信息表 (toolkit sheet 28, 签约成交型): a customer whose behaviour
turned irregular (spending far above or below the usual, changed behaviour,
poor credit, leaving), how it is followed, and the confirmation that it is
normal again. A customer-level sheet: filed against the customer, not a
project (paper-forms-toolkit.md, "Customer-level records"); no header is
printed; the record-keeping block closes it in the order of sheets 8, 10,
20 and 28.

The scrape garbles two labels: 异常客户跟… is read as 异常客户跟踪, and
正常确认 as who confirmed the customer normal again and when (one printed
entry over a user and a date). 异常产生类型 is a plain list on paper, taken
as checks because the types are not exclusive."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot

FORM = FormSpec(
    key="abnormal_customer",
    title="异常客户信息表",
    title_en="Abnormal customer information",
    prefix="YC",
    group="签约成交型",
    stages=("won",),
    version=1,
    author_label="填写人",
    order=28,
    filed_on="customer",
    paper_header=False,
    record_block=("registered", "collected", "entered", "reviewer", "review_mark", "revisions"),
    sections=(
        Section("", "", (
            Field("customer", "企业名称", "Company name", "text", source="customer.name"),
            Field("customer_no", "企业标识/编号", "Customer no.", "text", source="customer.customer_no"),
            Field("business_type", "业务类型", "Business type", "text"),
            Field("anomaly_type", "异常产生类型", "Kind of irregularity", "checks", required=True,
                  choices=("过高/过低消费", "行为变化异常", "信用度很低", "客户流失")),
            Field("tracking", "异常客户跟踪", "Follow-up of the irregularity", "textarea", required=True, wide=True),
            Field("cleared_by", "正常确认人", "Confirmed normal by", "user", print_label="正常确认"),
            Field("cleared_on", "正常确认日期", "Confirmed normal on", "date", print_label="正常确认"),
        )),
        Section("信息登记", "Record keeping", (
            Field("collector", "信息采集人", "Information collected by", "user"),
        )),
    ),
    slots=(
        Slot("review", "信息审核人", "Information reviewer", "team_manager"),
    ),
)
