"""The last-admin guard under concurrency: two admins who demote, deactivate or delete each other
at the same moment never leave the tenant without an active admin (SQLite and MariaDB)."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from core.schema_central import users
from identity.engine_tokens import Principal, issue_token
from identity.users import create_user
from tests.helpers import AUTH_PASSWORD, reused_password_hashes

ROUNDS = 6
ACTIONS = {
    "demote": ("PATCH", {"role": "viewer"}),
    "deactivate": ("PATCH", {"active": False}),
    "delete": ("DELETE", None),
}


def _reset_two_admins(rt, ids: dict[str, int]) -> dict[str, str]:
    """Make both users active admins again; returns a fresh token for each."""
    tokens = {}
    for name in ("ana", "bob"):
        if ids.get(name) is None:
            with reused_password_hashes():
                ids[name] = create_user(rt.db, tenant="acme", username=name, password=AUTH_PASSWORD,
                                        role="admin")
        with rt.db.central() as conn:
            conn.execute(update(users).where(users.c.id == ids[name]).values(role="admin", active=True))
            cv = conn.execute(select(users.c.credential_version).where(users.c.id == ids[name])).scalar()
        tokens[name] = issue_token(rt.settings, Principal(ids[name], name, "acme", "admin", int(cv or 0)))
    return tokens


def _active_admins(rt) -> int:
    with rt.db.central() as conn:
        rows = conn.execute(select(users.c.id).where(users.c.role == "admin", users.c.active.is_(True),
                                                     users.c.username.in_(["ana", "bob"]))).all()
    return len(rows)


def _race(engine_app, method: str, body, ids: dict, tokens: dict[str, str]) -> dict[str, int]:
    """Ana acts on Bob and Bob on Ana, both released at the same instant; their status codes."""
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def act(me: str, other: str) -> None:
        client = TestClient(engine_app)
        barrier.wait()
        response = client.request(method, f"/api/v1/users/{ids[other]}", json=body,
                                  headers={"Authorization": f"Bearer {tokens[me]}"})
        answers[me] = response.status_code

    threads = [threading.Thread(target=act, args=pair) for pair in (("ana", "bob"), ("bob", "ana"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.parametrize("action", list(ACTIONS))
def test_two_admins_acting_on_each_other_at_once_leave_one_admin(auth_world, engine_app, action):
    rt = auth_world.runtime
    ids: dict[str, int | None] = {"ana": auth_world.ids["ana"], "bob": None}
    method, body = ACTIONS[action]
    for round_no in range(ROUNDS):
        tokens = _reset_two_admins(rt, ids)
        answers = _race(engine_app, method, body, ids, tokens)
        ok = 204 if action == "delete" else 200
        assert sorted(answers.values()) != [ok, ok], f"round {round_no}: both succeeded"
        assert _active_admins(rt) == 1, f"round {round_no}: {answers}"
        # The loser is refused: 409 when it read the other's change, 401 when its own token
        # had already been ended by it.
        assert sorted(answers.values())[0] == ok and sorted(answers.values())[1] in (401, 409), answers
        if action == "delete":
            gone = "ana" if answers["bob"] == ok else "bob"
            ids[gone] = None
