from django_tasks import task


@task(queue_name="default")
def gateway_step_deliver(step_id: int) -> str:
    """Deliver one void step (safe to run twice: a settled or claimed step is skipped)."""
    from orderdesk.payments.services.voids import void_step_send

    return void_step_send(step_id)
