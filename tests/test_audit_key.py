"""The audit chain is keyed with a secret outside the database (finding 5):
events rewritten and the chain recomputed without the key are caught, and a
trail cut short is caught against a chain head kept elsewhere."""
import json
import os

import pytest
import sqlalchemy as sa

from salestrack import audit
from salestrack.extensions import db
from salestrack.models import AuditEvent


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def trail(factory):
    """Thirty events of ordinary administration."""
    for i in range(30):
        factory.team(f"片区{i}")
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) >= 30
    return events


def _events():
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def _recompute_from(start_id, hash_function):
    """What someone with write access to the database does after changing an
    event: recompute every later hash so the links match again."""
    prev = audit.GENESIS
    for ev in _events():
        if ev.id >= start_id:
            ev.prev_hash = prev
            ev.hash = hash_function(ev)
        prev = ev.hash
    db.session.commit()


def _head_file(runner, tmp_path):
    out = tmp_path / "head.json"
    result = runner.invoke(args=["audit", "head", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_head_is_the_last_event_and_verifies(runner, trail, tmp_path):
    head = json.loads(_head_file(runner, tmp_path).read_text())
    assert head["sequence"] == len(trail) and head["hash"] == trail[-1].hash and head["event_id"] == trail[-1].id
    result = runner.invoke(args=["audit", "verify", "--head", str(tmp_path / "head.json")])
    assert result.exit_code == 0 and f"head #{len(trail)} matches" in result.output


def test_a_trail_cut_short_is_caught_against_the_head_kept_elsewhere(runner, trail, tmp_path):
    head = _head_file(runner, tmp_path)
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id.in_([e.id for e in trail[-10:]])))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify", "--head", str(head)])
    assert result.exit_code == 1 and "审计链被截断" in result.output and f"只有 {len(trail) - 10} 个事件" in result.output


@pytest.mark.parametrize("how", ["unkeyed sha256", "another key"])
def test_an_event_rewritten_and_the_chain_recomputed_without_the_key_is_caught(runner, trail, how):
    victim = trail[len(trail) // 2]
    victim.target_label = "改写过的团队"
    db.session.commit()
    other = os.urandom(32)
    _recompute_from(victim.id, audit.legacy_hash if how == "unkeyed sha256" else
                    (lambda ev: audit.event_hash(ev, other)))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"#{victim.id}" in result.output and "审计密钥" in result.output


def test_recomputed_with_the_key_is_still_caught_by_the_head(runner, trail, tmp_path):
    head = _head_file(runner, tmp_path)
    victim = trail[3]
    victim.target_label = "改写过的团队"
    db.session.commit()
    _recompute_from(victim.id, audit.event_hash)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # consistent in itself
    result = runner.invoke(args=["audit", "verify", "--head", str(head)])
    assert result.exit_code == 1 and "链头不符" in result.output


def test_a_head_file_that_is_not_one_is_a_clear_error(runner, trail, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{\"sequence\": \"x\"}")
    result = runner.invoke(args=["audit", "verify", "--head", str(bad)])
    assert result.exit_code == 1 and "not a chain head" in result.output


def test_the_key_lives_outside_the_database_and_is_not_replaced_silently(app, trail, runner):
    path = app.config["AUDIT_KEY_PATH"]
    assert os.stat(path).st_mode & 0o777 == 0o600
    os.rename(path, path + ".away")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "审计密钥" in result.output and "缺失" in result.output
    with pytest.raises(audit.AuditKeyMissing):
        audit.audit_key()
    assert not os.path.exists(path)
    os.rename(path + ".away", path)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_rotating_the_key_recomputes_the_chain_and_records_it(app, runner, trail, tmp_path):
    path = app.config["AUDIT_KEY_PATH"]
    old_key = audit.read_key(path)
    old_head = _head_file(runner, tmp_path)
    result = runner.invoke(args=["audit", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert audit.read_key(path) != old_key
    kept = [n for n in os.listdir(os.path.dirname(path)) if n.startswith("audit_key.replaced-")]
    assert len(kept) == 1
    db.session.expire_all()
    last = _events()[-1]
    assert last.action == "audit_rekey" and last.detail["events"] == len(trail)
    assert last.detail["old_head"] == {"sequence": len(trail), "hash": json.loads(old_head.read_text())["hash"]}
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    assert runner.invoke(args=["audit", "verify", "--head", str(old_head)]).exit_code == 1
    new_head = json.loads(result.output.strip().splitlines()[-1])
    assert new_head == {"sequence": len(trail) + 1, "hash": last.hash}


def test_rotation_refuses_to_launder_a_tampered_trail(app, runner, trail):
    path = app.config["AUDIT_KEY_PATH"]
    old_key = audit.read_key(path)
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == trail[5].id).values(target_label="改过"))
    db.session.commit()
    result = runner.invoke(args=["audit", "rotate-key"])
    assert result.exit_code == 1 and "拒绝重算" in result.output
    assert audit.read_key(path) == old_key and not os.path.exists(path + ".new")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1


def test_migration_keys_a_trail_hashed_before_the_key_existed(app, runner, trail):
    from flask_migrate import downgrade, upgrade
    _recompute_from(trail[0].id, audit.legacy_hash)  # the trail as 0008 left it
    os.remove(app.config["AUDIT_KEY_PATH"])
    db.session.remove()
    downgrade(revision="0008_stage_collections")
    upgrade()
    assert os.path.exists(app.config["AUDIT_KEY_PATH"])
    events = _events()
    assert len(events) == len(trail) + 1 and events[-1].action == "audit_rekey"
    assert events[-1].detail["reason"].startswith("迁移 0009")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and f"OK: {len(trail) + 1} events" in result.output


def test_migration_leaves_a_tampered_legacy_trail_for_verify_to_report(app, runner, trail):
    from flask_migrate import downgrade, upgrade
    _recompute_from(trail[0].id, audit.legacy_hash)
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == trail[7].id).values(target_label="改过"))
    db.session.commit()
    db.session.remove()
    downgrade(revision="0008_stage_collections")
    upgrade()
    assert len(_events()) == len(trail)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1
