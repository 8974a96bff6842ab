"""What Rasa sends the action server: with a selective domain, no action is sent the domain,
which none of ours reads (#14: every call used to carry it)."""

from __future__ import annotations

from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import read_endpoint_config

from bot import paths


def test_no_action_is_sent_the_domain() -> None:
    endpoint = read_endpoint_config(str(paths.ENDPOINTS_FILE), "action_endpoint")
    assert endpoint is not None and endpoint.kwargs.get("enable_selective_domain") is True
    domain = Domain.load(paths.DOMAIN_FILE)
    sent_the_domain = [
        action
        for action in domain.user_actions
        if domain.does_custom_action_explicitly_need_domain(action)
    ]
    assert sent_the_domain == []
