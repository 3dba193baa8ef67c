"""`.env.example` lists every setting of every service, as the Settings classes define them today."""

from pydantic_settings import BaseSettings
from windhash_cli.env_example import SETTINGS, env_example_path, env_name, render


def subclasses(cls: type[BaseSettings]) -> set[type[BaseSettings]]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *subclasses(sub)}
    return found


def test_the_checked_in_env_example_is_the_rendering_of_the_settings_classes() -> None:
    hint = "run `python -m windhash_cli.env_example --write`"
    assert env_example_path().read_text() == render(), hint


def test_every_field_of_every_windhash_settings_class_is_listed() -> None:
    listed = env_example_path().read_text()
    windhash_classes = {cls for cls in subclasses(BaseSettings) if cls.__module__.startswith("windhash_")}
    assert {settings for _, settings in SETTINGS} <= windhash_classes
    missing = [
        env_name(settings, field)
        for settings in windhash_classes
        for field in settings.model_fields
        if f"#{env_name(settings, field)}=" not in listed
    ]
    assert missing == []


def test_secrets_show_no_value() -> None:
    listed = env_example_path().read_text().splitlines()
    assert "#WINDHASH_KAFKA_SASL_PASSWORD=" in listed
    assert "#WINDHASH_PRICE_API_KEY=" in listed
