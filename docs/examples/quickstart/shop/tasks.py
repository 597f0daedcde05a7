from django.tasks import task


@task
def send_receipt(order_id: int, email: str) -> str:
    # Render and send the receipt here; what the task returns is kept as the job's result.
    return f"Receipt for order {order_id} sent to {email}"
