from shop.tasks import send_receipt

result = send_receipt.enqueue(42, "ada@example.com")
print(result.id, result.status)
