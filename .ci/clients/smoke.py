"""A POS written against the Python client that openapi-python-client generates from docs/openapi.json: a
sale, its return, X, Z and a journal query, each answer read into the generated models. Usage:
smoke.py http://127.0.0.1:PORT (KKM 6923 saved, administrator PIN 0000)."""
import sys

from kassa_client import AuthenticatedClient
from kassa_client.api.seed import get_transaction_list, trade_operation, zx_report
from kassa_client.models import (
    GetTransactionListBody,
    GetTransactionListResponse200Type0,
    TradeOperationRequest,
    TradeOperationResponse200Type0,
    ZXReportRequest,
    ZxReportResponse200Type0,
)



def check(answer, kind, what):
    if not isinstance(answer, kind):
        sys.exit(f"python client: {what} was not read as {kind.__name__}: {answer!r}")
    return answer.response_data


def sale(operation):
    return TradeOperationRequest.from_dict({
        "kkm_ofd_id": 6923,
        "operation": operation,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 2, "price": 350,
                                             "sum": 700, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": 1000}],
        "taxes": [{"taxation_type": 100, "percent": 12, "sum": 75, "is_in_total_sum": True}],
        "amounts": {"total": 700, "taken": 1000, "change": 300},
    })


client = AuthenticatedClient(base_url=sys.argv[1], token="0000", prefix="")
with client:
    sold = check(trade_operation.sync(client=client, body=sale(2)), TradeOperationResponse200Type0, "the sale")
    assert sold.body.to_dict()["amounts"]["change"] == {"bills": 300, "coins": 0}, sold.body.to_dict()
    assert sold.fiscal_id and sold.ads_info[0].text, sold
    back = check(trade_operation.sync(client=client, body=sale(3)), TradeOperationResponse200Type0, "the return")
    assert back.shift_document_number == sold.shift_document_number + 1, back
    x = check(zx_report.sync(client=client, body=ZXReportRequest(kkm_ofd_id=6923, report_type=1)),
              ZxReportResponse200Type0, "the X report")
    assert x.total_payments == [0, 0, 0, 0, 0], x.total_payments
    z = check(zx_report.sync(client=client, body=ZXReportRequest(kkm_ofd_id=6923, report_type=0)),
              ZxReportResponse200Type0, "the Z report")
    assert z.shift_state == 0, z
    journal = check(get_transaction_list.sync(client=client, body=GetTransactionListBody(kkm_ofd_id=6923)),
                    GetTransactionListResponse200Type0, "the journal")
    commands = [entry.command for entry in journal]
    assert commands[-4:] == [1, 1, 3, 2], commands
print("python client: sale, return, X, Z and journal read")
