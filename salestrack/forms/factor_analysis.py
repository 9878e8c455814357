"""影响因素分析表 (toolkit sheet 23): the factors that decide the project,
weighted, with who at the customer is concerned, how far we can improve and
how. Six rows are preprinted; the last, 其它, takes the label the user
writes. 改善可能性 has no printed scale (text). The weights add up to 100 %
as on the department's other weighted sheets; their 合计 is computed. No
sign-off is printed: the area manager reviews it (paper-forms-toolkit.md, 23)."""
from salestrack.formkit.spec import Field, FormSpec, Row, Section, Slot, Table

FORM = FormSpec(
    key="factor_analysis",
    title="影响因素分析表",
    title_en="Influencing factors",
    prefix="YXYS",
    group="项目评估型",
    stages=("evaluate",),
    version=1,
    author_label="填写人",
    order=20,
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
        )),
        Section("", "", (
            Table("factors", "影响因素", "Factors", columns=(
                Field("factor", "评估指标", "Factor", "text"),
                Field("weight", "权重", "Weight", "percent"),
                Field("who", "相关的部门及人员", "Departments and people concerned", "text"),
                Field("improvability", "改善可能性", "Room for improvement", "text"),
                Field("strategy", "策略与方法", "Strategy and means", "textarea"),
            ), rows=(Row("quality", "产品质量"), Row("service_timeliness", "服务及时性"), Row("price", "价格"),
                     Row("relationship", "客户关系"), Row("technical", "技术指标"), Row("other", "其它", typed=True)),
                label_column="factor", add_rows=False, weights="weight", total_label="合计"),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
