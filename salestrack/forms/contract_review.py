"""合同评审记录: the contract is reviewed by the people listed, then audited
and approved. The customer's bank and tax data open prefilled from the
customer master, and its approval writes changed ones back (信息修改记录)."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="contract_review",
    title="合同评审记录",
    title_en="Contract review record",
    prefix="HP",
    group="合作谈判型",
    stages=("negotiate",),
    version=1,
    updates_customer=True,
    author_label="填写人",
    provides="contract",
    author_at_foot=True,  # 填写人 … 日期 is printed again at the foot, after 批准 (Part 2 #6)  # the handover reads 合同名称/合同编号 from it
    order=26,
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("contract_name", "合同名称", "Contract name", "text", required=True),
            Field("contract_no", "合同编号", "Contract no.", "text", required=True),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
        )),
        Section("", "", (
            Field("vat_no", "增值税号", "VAT no.", "text", prefill="customer.vat_no"),
            Field("invoice_address", "增值税发票地址", "VAT invoice address", "text", wide=True, prefill="customer.invoice_address"),
            Field("bank", "开户行名称", "Bank", "text", prefill="customer.bank"),
            Field("account_no", "账号", "Account no.", "text", prefill="customer.account_no"),
            Field("tax_phone", "税务登记电话", "Phone registered for tax", "text", prefill="customer.tax_phone"),
        )),
        Section("", "", (
            Table("reviewers", "参加评审人员", "Reviewers", required=True, columns=(
                Field("name", "姓名", "Name", "user", required=True),
                Field("title", "职位", "Position", "text"),
                Field("department", "所属部门", "Department", "text"),
                Field("result", "评审结果", "Review result", "text"),
            )),
        )),
        Section("审核总结", "Review summary", (
            Field("commercial_terms", "商务条款", "Commercial terms", "textarea", wide=True),
            Field("overall", "综合意见", "Overall opinion", "textarea", required=True, wide=True),
            Field("execution", "项目执行", "Project execution", "textarea", wide=True),
        )),
    ),
    slots=(
        Slot("reviewers", "评审人确认", "Reviewer confirms", "table:reviewers.name"),
        Slot("audit", "审核", "Checked", "team_manager"),
        Slot("approve", "批准", "Approved", "role:gm"),
    ),
)
