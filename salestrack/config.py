"""Default settings. Every one can be overridden by an environment variable of
the same name prefixed SALESTRACK_ (or DATABASE_URL / SECRET_KEY), or by
instance/config.py."""
import json
import os

# Follow-up discipline (sales-process.md): days between follow-up sheets per
# customer class, and days without follow-up after which the rep loses it.
FOLLOWUP_INTERVAL_DAYS = {"A": 7, "B": 14, "C": 30, "D": 91}
FOLLOWUP_LOSS_DAYS = {"A": 30, "B": 60, "C": 91, "D": None}


class Defaults:
    # "production" (SALESTRACK_ENV=production): cookies are sent over HTTPS
    # only unless said otherwise, and the demo command refuses to run.
    ENV = "development"
    SECRET_KEY = "dev-only-change-me"  # nosec B105 # replaced by instance/secret_key in create_app
    SQLALCHEMY_DATABASE_URI = None  # set in create_app: instance/salestrack.db
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    WTF_CSRF_TIME_LIMIT = None  # a form left open all afternoon still saves
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Secure (HTTPS only): None means "on in production"; set 0 for a
    # production instance served over plain HTTP, 1 for HTTPS elsewhere.
    SESSION_COOKIE_SECURE = None
    REMEMBER_COOKIE_SECURE = None
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    # Login throttling: this many failures for one account or address within
    # the window refuse further attempts until the window has passed.
    PASSWORD_HASH_METHOD = "scrypt"  # nosec B105 # the name of a hash method, not a password
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_MINUTES = 15
    STAGE_STAY_DAYS = 7
    # An amount above this many 万元 (1 亿元, above the department's largest
    # projects) is shown again with a checkbox "确认金额单位为万元" before it is
    # saved: probably typed in yuan (50,000 元 typed as 50000 is 5 亿元).
    MONEY_CONFIRM_ABOVE = 10_000
    REMINDER_INTERVAL_HOURS = 4  # 催办 at most once per this many hours per sheet
    FOLLOWUP_INTERVAL_DAYS = FOLLOWUP_INTERVAL_DAYS
    FOLLOWUP_LOSS_DAYS = FOLLOWUP_LOSS_DAYS
    SIGNOFF_OVERDUE_WORKING_DAYS = 3
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    ATTACHMENT_DIR = None  # default instance/attachments
    # Uploads of a form not (yet) saved are held this long, and one person
    # holds at most this much of them (operations.store_attachment).
    ATTACHMENT_HOLD_HOURS = 24
    ATTACHMENT_HOLD_MAX_BYTES = 50 * 1024 * 1024
    ARCHIVE_DIR = None  # default instance/archive
    SEAL_KEY_PATH = None  # default instance/seal/key.pem
    SEAL_CERT_PATH = None  # default instance/seal/cert.pem
    # Further seal certificates (PEM paths, separated by ":") whose seals count
    # as ours, besides SEAL_CERT_PATH and the ones it replaced (*.replaced-*).
    SEAL_TRUSTED_CERTS = ""
    # Who holds the seal: named in the certificate a fresh install creates.
    ORGANIZATION = "销售部"
    # An RFC 3161 time-stamp authority (URL); when set, seals carry a trusted
    # time-stamp and validation data (PAdES B-LT).
    TSA_URL = ""
    TSA_CERTS = ""  # the TSA's root certificates (PEM paths, ":"-separated) whose time-stamps are trusted
    AUDIT_KEY_PATH = None  # default instance/audit_key: the audit chain's HMAC key, kept out of the database
    VERIFY_MAX_BYTES = 20 * 1024 * 1024  # largest PDF the verify page accepts
    MAIL_SERVER = None  # SMTP host; no mail is sent unless set
    MAIL_PORT = 25
    MAIL_SENDER = "salestrack@localhost"
    # The address printed in final PDFs' QR codes and mails. Unset: the served
    # request's own address (a warning at start in production).
    BASE_URL = ""
    # 级别 of a weighted total (客户综合评估): {grade setting: [[minimum total,
    # label], …]}, e.g. {"customer_grade": [[4, "VIP"], [3, "重要"], [0, "一般"]]};
    # the paper prints no thresholds, so 级别 stays blank until set here
    # (instance/config.py, or SALESTRACK_GRADE_THRESHOLDS as JSON).
    GRADE_THRESHOLDS: dict = {}
    # The job queue (salestrack/jobs.py, Huey): an SQLite file by default
    # (instance/queue.db), so one machine needs nothing else; a Redis URL
    # (redis://127.0.0.1:6379/0) lets app servers and workers on several
    # machines share it. `flask jobs worker` runs QUEUE_WORKERS job threads.
    QUEUE_PATH = None
    QUEUE_REDIS_URL = ""
    QUEUE_NAME = "salestrack"
    QUEUE_WORKERS = 2
    # An approved sheet still without its sealed PDF after this many minutes
    # has its sealing queued again (a worker died mid-job, the queue was lost).
    ARCHIVE_RETRY_MINUTES = 2
    DEMO_PASSWORD = "demo"  # nosec B105 # the demo accounts' documented password (README)


def from_environment() -> dict:
    """Settings taken from the environment."""
    out = {}
    if os.environ.get("DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if os.environ.get("SECRET_KEY"):
        out["SECRET_KEY"] = os.environ["SECRET_KEY"]
    for key, value in os.environ.items():
        if key.startswith("SALESTRACK_"):
            name = key[len("SALESTRACK_"):]
            if hasattr(Defaults, name):
                default = getattr(Defaults, name)
                if isinstance(default, bool) or name.endswith("_SECURE"):
                    out[name] = value.strip().lower() in ("1", "true", "yes", "on")
                elif isinstance(default, int):
                    out[name] = int(value)
                elif isinstance(default, dict):
                    out[name] = json.loads(value)
                else:
                    out[name] = value
    return out
