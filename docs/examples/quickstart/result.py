# ruff: noqa: F821
# --8<-- [start:result]
result = send_receipt.get_result(result.id)
print(result.status, result.return_value)
# --8<-- [end:result]
