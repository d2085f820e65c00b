from django_tasks import task


@task(queue_name="email")
def email_deliver(email_id: int) -> str:
    """Deliver one outbox e-mail (safe to run twice: a sent or abandoned e-mail is skipped)."""
    from orderdesk.notifications.services import email_send

    return email_send(email_id)
