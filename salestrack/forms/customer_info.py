"""客户基本信息表: the customer master record. It opens with what is on file
for the customer; a draft changes nothing; when the 信息审核人 approves it,
the customer master takes the changed fields and each change is listed in
the customer's 信息修改记录. 登记日期/录入人/审核人/审核标记 are printed from
the record itself."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot

FORM = FormSpec(
    key="customer_info",
    title="客户基本信息表",
    title_en="Customer basic information",
    prefix="KH",
    group="电话邀约型",  # Part 2 #2: the paper's group, which paper-forms.md did not state
    stages=("lead",),
    version=1,
    author_label="填写人",
    order=2,
    updates_customer=True,
    paper_header=False,  # the paper prints no 编号/填写人/日期 above this sheet (Part 2 #2)
    # The foot as §2 prints it: 审核标记 before 审核人 (paper-forms-toolkit.md Part 2 #1).
    record_block=("registered", "entered", "collected", "review_mark", "reviewer", "revisions"),
    sections=(
        Section("", "", (
            Field("name", "企业名称", "Company name", "text", required=True, prefill="customer.name"),
            Field("short_name", "企业简称", "Short name", "text", prefill="customer.short_name"),
            Field("customer_no", "企业标识/编号", "Customer no.", "text", source="customer.customer_no"),
            Field("category", "客户类别", "Customer category", "choice",
                  choices=("一般", "重要", "VIP"), required=True, prefill="customer.category"),
            Field("source", "客户来源", "Lead source", "choice",
                  choices=("广告反馈", "展会", "老客户介绍", "主动上门", "销售人员发掘"), prefill="customer.source"),
        )),
        Section("", "", (
            Field("legal_rep", "法人代表", "Legal representative", "text", prefill="customer.legal_rep"),
            Field("contact", "联系人", "Contact person", "text", required=True, prefill="customer.contact"),
            Field("address", "地址", "Address", "text", wide=True, prefill="customer.address"),
            Field("decision_maker", "关键决策人", "Key decision maker", "text", prefill="customer.decision_maker"),
            Field("postcode", "邮编", "Postcode", "text", prefill="customer.postcode"),
            Field("phone", "电话", "Phone", "text", required=True, prefill="customer.phone"),
            Field("fax", "传真", "Fax", "text", prefill="customer.fax"),
            Field("email", "E-mail", "E-mail", "text", prefill="customer.email"),
        )),
        Section("", "", (
            Field("ownership", "企业性质", "Ownership", "choice",
                  choices=("外资", "合资", "国有", "集体", "个体", "其他"), prefill="customer.ownership"),
            Field("business_type", "企业类型", "Business type", "choice",
                  choices=("生产型", "贸易型", "服务型", "其他"), prefill="customer.business_type"),
            Field("industry", "企业所属行业", "Industry", "choice",
                  choices=("航空", "机械", "电器", "电信", "烟草", "信息", "传媒", "政府", "其他"), prefill="customer.industry"),
        )),
        Section("", "", (
            Field("main_products", "主营产品", "Main products", "text", wide=True, prefill="customer.main_products"),
            Field("scale", "企业规模", "Company size", "text", prefill="customer.scale"),
            Field("annual_output", "年产值", "Annual output value", "text", prefill="customer.annual_output"),
            Field("market_share", "市场占有率", "Market share (%)", "percent", prefill="customer.market_share"),
            Field("revenue", "销售额", "Sales revenue", "text", prefill="customer.revenue"),
            Field("benefit", "效益", "Economic performance", "text", prefill="customer.benefit"),
            Field("cost", "成本", "Cost", "text", prefill="customer.cost"),
            Field("profit", "利润", "Profit", "text", prefill="customer.profit"),
            Field("bank", "开户银行", "Bank", "text", prefill="customer.bank"),
            Field("sales_expense", "销售费用", "Sales expenses", "text", prefill="customer.sales_expense"),
        )),
        Section("", "", (
            Field("credit", "企业资信", "Credit standing", "choice", choices=("红", "灰", "黑", "白"), prefill="customer.credit"),
            Field("account_no", "账户\\账号", "Bank account no.", "text", prefill="customer.account_no"),
            Field("anomalies", "异常情况", "Irregularities", "textarea", wide=True, prefill="customer.anomalies"),
        )),
        Section("信息登记", "Record keeping", (
            Field("collector", "信息采集人", "Information collected by", "user"),
        )),
    ),
    slots=(
        Slot("review", "信息审核人", "Information reviewer", "team_manager"),
    ),
)
