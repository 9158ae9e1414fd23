"""The user model: an email, two timestamps, whether the email is verified and whether an
operator disabled the user; nothing else."""

from sqlmodel import SQLModel

from api.store.tables import User


def test_a_user_is_valid_with_only_an_email() -> None:
    user = User(email="edith@example.com")

    assert user.email == "edith@example.com"
    assert user.created_at.tzinfo is not None
    assert user.last_login.tzinfo is not None


def test_the_email_is_the_primary_key_and_there_is_no_id() -> None:
    table = SQLModel.metadata.tables["users"]

    assert [column.name for column in table.primary_key.columns] == ["email"]
    assert "id" not in table.columns
    assert set(table.columns.keys()) == {
        "email",
        "created_at",
        "last_login",
        "email_verified",
        "disabled",
    }
