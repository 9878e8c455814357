"""联系人基本信息表 (toolkit sheet 8): the person master, as 客户基本信息表 is
the customer master. Filed for one person of the filing project's customer
(a new person when none is named); it opens with what is on file for him, a
draft changes nothing, and when the 信息审核人 approves it the person takes
its non-blank values. The private details (政治面貌, 住址, 生日, 出生地,
家族成员状况, 个人资信) are read only by the customer's team, its manager and
above (paper-forms-toolkit.md, Master data ⚠). The choice lists are printed
as plain lists on paper; each is read as one of its items."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot
from salestrack.people import INFLUENCE, PERSONALITY, RAPPORT, RELATION_STATE, RELATION_TYPE

FORM = FormSpec(
    key="contact",
    title="联系人基本信息表",
    title_en="Contact person",
    prefix="LX",
    group="电话邀约型",
    stages=("lead",),
    version=1,
    author_label="填写人",
    order=3,
    updates_person=True,
    record_block=("registered", "collected", "entered", "reviewer", "review_mark", "revisions"),
    sections=(
        Section("", "", (
            Field("date", "填写时间", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
        )),
        Section("", "", (
            Field("name", "姓名", "Name", "text", required=True, prefill="person.name"),
            Field("title", "职位", "Position", "text", prefill="person.title"),
            Field("employer", "服务企业", "Employer", "text", prefill="person.employer"),
            Field("rapport", "客情状态", "Rapport", "choice", choices=RAPPORT, prefill="person.rapport"),
            Field("influence", "影响力", "Influence", "choice", choices=INFLUENCE, prefill="person.influence"),
            Field("relation_type", "关系性质", "Relationship type", "choice", choices=RELATION_TYPE,
                  prefill="person.relation_type"),
            Field("relation_state", "关系状态", "Relationship state", "choice", choices=RELATION_STATE,
                  prefill="person.relation_state"),
            Field("gender", "性别", "Gender", "text", prefill="person.gender"),
            Field("age", "年龄", "Age", "int", prefill="person.age"),
            Field("political_status", "政治面貌", "Political status", "text", prefill="person.political_status",
                  private=True),
            Field("home_address", "住址", "Home address", "text", wide=True, prefill="person.home_address",
                  private=True),
            Field("postcode", "邮编", "Postcode", "text", prefill="person.postcode"),
            Field("phone", "电话", "Phone", "text", prefill="person.phone"),
            Field("fax", "传真", "Fax", "text", prefill="person.fax"),
            Field("email", "E-mail", "E-mail", "text", prefill="person.email"),
            Field("birthday", "生日", "Birthday", "date", prefill="person.birthday", private=True),
            Field("birthplace", "出生地", "Birthplace", "text", prefill="person.birthplace", private=True),
            Field("school", "毕业学校", "School", "text", prefill="person.school"),
            Field("major", "专业", "Major", "text", prefill="person.major"),
            Field("personality", "性格", "Personality", "choice", choices=PERSONALITY, prefill="person.personality"),
            Field("interests", "兴趣", "Interests", "text", prefill="person.interests"),
            Field("sports", "喜爱运动", "Sports", "text", prefill="person.sports"),
            Field("family", "家族成员状况", "Family", "textarea", wide=True, prefill="person.family", private=True),
            Field("social_circle", "社交圈", "Social circle", "textarea", wide=True, prefill="person.social_circle"),
            Field("personal_credit", "个人资信", "Personal credit", "text", prefill="person.personal_credit",
                  private=True),
        )),
        Section("信息登记", "Record keeping", (
            Field("collector", "信息采集人", "Information collected by", "user"),
        )),
    ),
    slots=(
        Slot("review", "信息审核人", "Information reviewer", "team_manager"),
    ),
)
