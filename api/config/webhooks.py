"""Webhooks' settings: SIGNET_WEBHOOKS with each one's SIGNET_WEBHOOK_<NAME>_* (parsed by
webhooks/config.py), how deliveries are retried, and how long the audit log keeps events."""

import os
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from api.config.base import DAY, CommaSeparated, SettingsBase
from api.webhooks.config import PREFIX, WebhookConfig, parse_webhook, variables_of, webhook_names


class WebhookSettings(SettingsBase):
    # The webhooks events are delivered to; each configured by SIGNET_WEBHOOK_<NAME>_*.
    webhooks: CommaSeparated = ()
    # Those SIGNET_WEBHOOK_* variables (read from the environment unless given).
    webhook_variables: dict[str, str] = Field(default_factory=dict, repr=False)
    # Seconds between tries of a delivery: from the first (doubling, with jitter) to the most.
    webhooks_retry_min: Annotated[float, Field(gt=0, le=DAY)] = 5.0
    webhooks_retry_max: Annotated[float, Field(gt=0, le=DAY)] = 3600.0
    # Seconds after its event that a delivery is tried, then marked failed.
    webhooks_max_age: Annotated[int, Field(ge=1, le=30 * DAY)] = DAY
    # Seconds the audit log keeps an event (never one a webhook still owes).
    event_retention: Annotated[int, Field(ge=60)] = 90 * DAY

    @property
    def webhook_configs(self) -> tuple[WebhookConfig, ...]:
        """The webhooks, in the order SIGNET_WEBHOOKS names them."""
        return tuple(
            parse_webhook(
                name,
                variables_of(name, self.webhook_variables),
                production=not self.is_development,
            )
            for name in self.webhooks
        )

    @field_validator("webhooks", mode="before")
    @classmethod
    def _webhook_names(cls, value: object) -> object:
        return webhook_names(value)

    @model_validator(mode="before")
    @classmethod
    def _webhook_variables(cls, data: Any) -> Any:
        if isinstance(data, dict) and "webhook_variables" not in data:
            data = dict(data)
            data["webhook_variables"] = {
                key: value for key, value in os.environ.items() if key.upper().startswith(PREFIX)
            }
        return data

    @model_validator(mode="after")
    def _webhooks_are_configured(self) -> "WebhookSettings":
        if self.webhooks_retry_min > self.webhooks_retry_max:
            raise ValueError("SIGNET_WEBHOOKS_RETRY_MIN must not exceed SIGNET_WEBHOOKS_RETRY_MAX")
        self.webhook_configs  # noqa: B018  (parsed now, so a mistake stops the start)
        return self
