"""关键决策人基本信息表 (toolkit sheet 20): the extended profile of a person
of the customer who is a key decision-maker. Like 联系人基本信息表 it is the
person master (one person record, paper-forms-toolkit.md "Master data"):
filed for one person, it opens with what is on file, a draft changes
nothing, and the 信息审核人's approval writes it to the person and marks him
a 关键决策人. The paper prints no 客户/客户编号: the customer is the filing
project's. Family, birthday, political status and the other private details
are read only by the customer's team, its manager and above. The paper
prints one child; its fields stay single as printed."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot
from salestrack.people import PERSONALITY


def _private(key, label, label_en, kind="text", **options):
    return Field(key, label, label_en, kind, prefill=f"person.{key}", private=True, **options)


FORM = FormSpec(
    key="decision_maker",
    title="关键决策人基本信息表",
    title_en="Key decision-maker",
    prefix="JC",
    group="方案设计型",
    stages=("confirm",),
    version=1,
    author_label="填写人",
    order=17,
    updates_person=True,
    marks_key_decision_maker=True,
    record_block=("registered", "collected", "entered", "reviewer", "review_mark", "revisions"),
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
        )),
        Section("", "", (
            Field("name", "姓名", "Name", "text", required=True, prefill="person.name"),
            Field("title", "职位", "Position", "text", prefill="person.title"),
            Field("employer", "服务企业", "Employer", "text", prefill="person.employer"),
            Field("gender", "性别", "Gender", "text", prefill="person.gender"),
            Field("age", "年龄", "Age", "int", prefill="person.age"),
            _private("political_status", "政治面貌", "Political status"),
            _private("home_address", "住址", "Home address", wide=True),
            Field("postcode", "邮编", "Postcode", "text", prefill="person.postcode"),
            Field("phone", "电话", "Phone", "text", prefill="person.phone"),
            Field("fax", "传真", "Fax", "text", prefill="person.fax"),
            Field("email", "E-mail", "E-mail", "text", prefill="person.email"),
            _private("birthday", "生日", "Birthday", "date"),
            _private("birthplace", "出生地", "Birthplace"),
            Field("personality", "性格", "Personality", "choice", choices=PERSONALITY, prefill="person.personality"),
            Field("interests", "兴趣", "Interests", "text", prefill="person.interests"),
            Field("sports", "喜爱运动", "Sports", "text", prefill="person.sports"),
            Field("education", "教育背景", "Education", "textarea", wide=True, prefill="person.education"),
            Field("career", "社会经历", "Career", "textarea", wide=True, prefill="person.career"),
            _private("marital_status", "婚姻状况", "Marital status"),
            _private("wedding_anniversary", "结婚纪念日", "Wedding anniversary", "date"),
            _private("spouse_name", "配偶姓名", "Spouse's name"),
            _private("spouse_birthday", "配偶生日", "Spouse's birthday", "date"),
            _private("spouse_interests", "配偶的兴趣/爱好", "Spouse's interests"),
            _private("child_name", "子女姓名", "Child's name"),
            _private("child_age", "子女年龄", "Child's age"),
            _private("child_indulgence", "子女溺爱程度", "Child indulgence"),
            _private("child_birthday", "子女生日", "Child's birthday", "date"),
            _private("child_interests", "子女的兴趣/爱好", "Child's interests"),
            _private("other_family", "家族其他成员情况", "Other family", "textarea", wide=True),
            Field("social_circle", "社交圈", "Social circle", "textarea", wide=True, prefill="person.social_circle"),
            _private("personal_credit", "个人资信", "Personal credit"),
        )),
        Section("信息登记", "Record keeping", (
            Field("collector", "信息采集人", "Information collected by", "user"),
        )),
    ),
    slots=(
        Slot("review", "信息审核人", "Information reviewer", "team_manager"),
    ),
)
