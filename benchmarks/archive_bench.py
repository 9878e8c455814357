"""How much faster is downloading an archived PDF than rendering one?
Run: .venv/bin/python benchmarks/archive_bench.py [reps]

Builds a throw-away app (SQLite, migrated schema), files a customer visit
summary with a 20-row table, signs it along its chain, then measures through
the Flask test client, signed in: the median time of GET /records/<id>/pdf
serving the archived, sealed bytes (hash-checked, download logged in the audit
trail), against the median time of rendering the same sheet, and of the app's
watermarked preview of an unapproved copy. Target: archived download at least
20 times faster than a render.
"""
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from salestrack import create_app, pdf  # noqa: E402
from salestrack.extensions import db  # noqa: E402
from salestrack.formkit import registry  # noqa: E402
from salestrack.printing import print_document  # noqa: E402
from tests.archive_helpers import approve, file_sheet, make_people  # noqa: E402
from tests.conftest import PASSWORD, Factory, make_config  # noqa: E402
from timing import median_seconds  # noqa: E402



def main() -> int:
    reps = max(30, int(sys.argv[1]) if len(sys.argv) > 1 else 30)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(make_config(f"sqlite:///{folder}/bench.db", Path(folder)))
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            factory = Factory(app)
            people = make_people(factory)
            spec = registry.get("visit_report")
            record, _ = file_sheet(factory, people, spec, rows=20)
            approve(record, spec, people.author)
            draft, _ = file_sheet(factory, people, spec, rows=20)
            archived = pdf.archive_load(app.config["ARCHIVE_DIR"], record.pdf_sha256)

            client = app.test_client()
            client.post("/login", data={"username": people.author.username, "password": PASSWORD})

            def download():
                response = client.get(f"/records/{record.id}/pdf")
                assert response.status_code == 200 and response.data == archived
                response.close()

            def preview():
                response = client.get(f"/records/{draft.id}/pdf")
                assert response.status_code == 200
                response.close()

            doc = print_document(record)
            render = median_seconds(lambda: pdf.render_pdf(doc), reps)
            render_seal = median_seconds(
                lambda: pdf.final_pdf(doc, app.config["SEAL_KEY_PATH"], app.config["SEAL_CERT_PATH"]), reps)
            served = median_seconds(download, reps)
            previewed = median_seconds(preview, reps)
            seal = pdf.verify_pdf(archived, app.config["SEAL_CERT_PATH"])
            assert seal["intact"] and seal["trusted"]
            db.session.remove()
            db.engine.dispose()
    ratio = render / served
    print(f"visit summary with 20 table rows, {len(archived) / 1024:.1f} KB sealed; medians of {reps} runs (seconds)")
    print(f"{'render':>8} {'render+seal':>11} {'preview via app':>15} {'archived download':>17} {'render / download':>17}")
    print(f"{render:>8.4f} {render_seal:>11.4f} {previewed:>15.4f} {served:>17.4f} {ratio:>16.1f}x")
    ok = ratio >= 20
    print(f"{'ok  ' if ok else 'MISS'} archived download >= 20x faster than a render")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
