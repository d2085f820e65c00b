"""Deliver CRM outbox messages through the configured adapter, with retries.

Owned by the CRM work: adapters (Salesforce through simple-salesforce, a generic signed
webhook) and the retry schedule are written there.
"""


def crm_message_send(message_id: int) -> str:
    raise NotImplementedError("CRM delivery is being written")
