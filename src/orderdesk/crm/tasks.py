from django_tasks import task


@task(queue_name="crm")
def crm_message_deliver(message_id: int) -> str:
    """Deliver one CRM message (safe to run twice: a delivered message is skipped)."""
    from orderdesk.crm.delivery import crm_message_send

    return crm_message_send(message_id)
