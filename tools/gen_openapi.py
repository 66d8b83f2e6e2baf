#!/usr/bin/env python3
"""Writes docs/openapi.json (OpenAPI 3.1) for Kassa's whole API: every seed method and every extension, their
request and answer schemas, the error envelope, and the seed's own examples (read from the seed text, whose
path is the first argument). Dev-time tool: its output is committed and served at /openapi.json;
tests/product/openapi.rs checks that every route is documented and every example validates against its schema.

    python3 tools/gen_openapi.py ../shared/seeds/001_fefc4ab4e41bfff3.compact.txt
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# --- the error table, read from src/country/kz/front/codes.rs so the two cannot disagree -------------------------------
codes_rs = (ROOT / "src/country/kz/front/codes.rs").read_text(encoding="utf-8")
CODES = [(int(c), n) for c, n in re.findall(r'^\s+\w+ = (\d+), "([a-z_0-9]+)"', codes_rs, re.M)]
assert CODES[0] == (0, "ok") and CODES[-1][0] == 98, CODES[-3:]

# --- the seed's examples -------------------------------------------------------------------------------------
seed_lines = pathlib.Path(sys.argv[1]).read_text(encoding="utf-8").splitlines() if len(sys.argv) > 1 else []


def balanced(text, start):
    depth, in_str, esc = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    raise ValueError("unbalanced")


def seed_examples(method):
    """The seed's request and response examples of `method` (None when the seed has none)."""
    marker = f"Request http://127.0.0.1:8080/{method}"
    starts = [i for i, l in enumerate(seed_lines) if l.strip() == marker]
    if not starts:
        return None, None
    rest = "\n".join(seed_lines[starts[0] + 1:])
    resp_at = re.search(r"^Response\s*$", rest, re.M)
    head = rest[:resp_at.start()] if resp_at else ""
    request = None
    if "{" in head:
        request = json.loads(balanced(head, head.index("{")))
    response = None
    tail = rest[resp_at.end():] if resp_at else ""
    brace = tail.find("{")
    # The answer must start before the next method's description (GetDocumentImage answers a PNG).
    if brace >= 0 and not re.search(r"\S", tail[:brace].replace("\n", " ")):
        response = json.loads(balanced(tail, brace))
    return request, response


# --- schemas -------------------------------------------------------------------------------------------------
def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def obj(props, required=(), extra=True, description=None):
    s = {"type": "object", "properties": props}
    if required:
        s["required"] = list(required)
    if not extra:
        s["additionalProperties"] = False
    if description:
        s["description"] = description
    return s


I = {"type": "integer"}
KKM = {"type": "integer", "description": "The KKM's id at its OFD", "examples": [6923]}
S = {"type": "string"}
B = {"type": "boolean"}
N = {"type": "number"}
ANY = {}
DATE = {"type": "string", "description": "Local time YYYY-MM-DDTHH:MM:SS.mmm; requests also take Z or an offset"}
MONEY_OBJ = obj({"bills": I, "coins": I}, ["bills", "coins"])
KV = obj({"key": S, "value": {"type": ["string", "null"]}}, ["key"])
AMOUNT = {"type": ["number", "string"], "description": "Money: at most 2 decimals (a binary float within 1e-6 counts)"}

schemas = {
    "ErrorEnvelope": obj(
        {
            "response_code": {"type": "integer", "enum": [c for c, _ in CODES if c != 0]},
            "response_data": {"type": "string", "enum": [n for c, n in CODES if c != 0],
                              "description": "The code's constant name"},
            "message": {"type": "string", "description": "Text for the cashier: ru, or kk by Accept-Language"},
        },
        ["response_code", "response_data", "message"],
        description="An error. HTTP status by code (http.status_policy = vendor) or 200 (always_200).",
    ),
    "Ok": {"type": "string", "const": "ok"},
    "Tax": obj({"taxation_type": I, "percent": AMOUNT, "sum": AMOUNT, "is_in_total_sum": B,
                "tax_type": I}, ["taxation_type", "percent"]),
    "Modifier": obj({"name": S, "sum": AMOUNT, "taxes": {"type": "array", "items": ref("Tax")},
                     "auxiliary": {"type": "array", "items": KV}}, ["sum"]),
    "Commodity": obj({
        "name": S, "section_code": S, "quantity": {"type": ["number", "string"]}, "price": AMOUNT, "sum": AMOUNT,
        "taxes": {"type": "array", "items": ref("Tax")}, "excise_stamp": S, "physical_label": S,
        "product_id": S, "barcode": S, "measure_unit_code": S, "auxiliary": {"type": "array", "items": KV},
    }, ["quantity", "price"]),
    "Item": obj({"type": I, "commodity": ref("Commodity"), "discount": ref("Modifier"), "markup": ref("Modifier")},
                ["type"]),
    "TradeOperationRequest": obj({
        "kkm_ofd_id": KKM, "operation": {"type": "integer", "description": "0 buy, 1 buy return, 2 sell, 3 sell return"},
        "is_printable": B, "image_width": I, "image_scale": N, "image_pixel_draw_threshold": I,
        "domain": obj({"type": I}),
        "items": {"type": "array", "items": ref("Item")},
        "payments": {"type": "array", "items": obj({"type": I, "sum": AMOUNT}, ["type", "sum"])},
        "taxes": {"type": "array", "items": ref("Tax")},
        "amounts": obj({"total": AMOUNT, "taken": AMOUNT, "change": AMOUNT, "markup": ref("Modifier"),
                        "discount": ref("Modifier")}, description="Optional: absent, every total is computed"),
        "customer_iin_or_bin": S, "customer_email": S, "customer_phone": S,
        "auxiliary": {"type": "array", "items": KV},
        "parent_ticket": {"description": "Extension: the original of a return (required towards a 2.0.3 OFD)",
                          "anyOf": [S, obj({"fiscal_id": S, "fr_shift_number": I, "shift_document_number": I})]},
    }, ["kkm_ofd_id", "operation"]),
    "MoneyPlacementRequest": obj({"kkm_ofd_id": KKM, "operation": {"type": "integer", "description": "0 in, 1 out"},
                                  "sum": AMOUNT, "is_printable": B, "image_width": I, "image_scale": N,
                                  "image_pixel_draw_threshold": I}, ["kkm_ofd_id", "operation", "sum"]),
    "ZXReportRequest": obj({"kkm_ofd_id": KKM, "report_type": {"type": "integer", "description": "0 Z, 1 X"},
                            "is_printable": B, "image_width": I, "image_scale": N,
                            "image_pixel_draw_threshold": I}, ["kkm_ofd_id", "report_type"]),
    "DocumentAnswer": obj({
        "fiscal_id": S, "qr_code": S, "ofd_name": S, "ofd_url": S, "report_type": I,
        "total_payments": {"type": "array", "items": N},
        "command_type": I, "is_offline": B, "is_invalid_token": B, "kkm_local_name": S, "operator_name": S,
        "fr_shift_number": I, "shift_document_number": I, "shift_state": I, "reg_info": {"type": "object"},
        "vat_certificate": {"type": ["object", "null"]}, "body": {"type": "object"},
        "ads_info": {"type": ["array", "object"]},
        "is_dummy": {"type": "boolean", "description": "True for a tax inspector's control receipt"},
    }, ["command_type", "is_offline", "fr_shift_number", "shift_document_number", "body"],
        description="The answer of TradeOperation, MoneyPlacement and ZXReport"),
    "Printer": obj({"id": I, "ID": I, "name": S, "type": I, "link": S}),
    "VatCertificate": obj({"series": S, "number": S, "is_printable": B}),
    "KKMObject": obj({
        "ofd_id": I, "ofd_uid": S, "local_name": S, "use_software_vpn": B,
        "printer": {"anyOf": [ref("Printer"), {"type": "null"}]}, "auto_withdraw_money": B,
        "vat_certificate": ref("VatCertificate"), "custom_data": ANY, "bindings": {"type": "array", "items": I},
        "ID": I, "is_offline": B, "fr_shift_number": I, "shift_state": I, "is_blocked": B, "shift_close_date": S,
        "shift_document_number": I, "owner_id": I, "offline_start_date": S, "is_invalid_token": B,
        "start_shift_non_nullable_sums": {"type": "array", "items": N},
        "non_nullable_sums": {"type": "array", "items": N}, "ads_info": ANY, "vendor_id": S,
        "manufacture_date": S, "offline_end_date": S, "cash_sum": N, "shift_open_date": S, "blocked_info": S,
        "revenue": N, "offline_ticket_number": I, "reg_info": ANY, "local_state": I,
    }, ["ofd_id", "ofd_uid", "ID"]),
    "SaveKKMRequest": obj({
        "ofd_id": I, "ofd_token": I, "ofd_uid": S, "local_name": S, "use_software_vpn": B,
        "auto_withdraw_money": B, "printer": {"anyOf": [ref("Printer"), {"type": "null"}]},
        "vat_certificate": ref("VatCertificate"), "custom_data": ANY, "bindings": {"type": "array", "items": I},
    }, ["ofd_id"]),
    "Operator": obj({"name": S, "role": {"type": "integer", "description": "1 admin, 2 senior, 3 cashier, 4 inspector"},
                     "email": S, "bindings": {"type": "array", "items": I}, "owner_id": I, "access_pin": S,
                     "custom_data": ANY, "ID": I, "id": I}),
    "SaveOperatorRequest": obj({"id": I, "ID": I, "name": S, "access_pin": S, "role": I, "email": S,
                                "owner_id": I, "bindings": {"type": "array", "items": I}, "custom_data": ANY},
                               ["access_pin", "role"]),
    "JournalEntry": obj({"ID": I, "command_type": I, "date": S, "fr_shift_number": I, "shift_document_number": I,
                         "fiscal_id": S, "is_offline": B, "body": ANY}),
    "DocumentRequest": obj({
        "kkm_ofd_id": KKM, "fr_shift_number": {"type": "integer", "description": "0: a tax inspector's control receipt"},
        "shift_document_number": I, "is_original": B, "image_width": I, "image_scale": N,
        "image_pixel_draw_threshold": I, "format": {"type": "string", "description": "RenderDocument: txt, html, escpos, png"},
        "printer_id": {"type": "integer", "description": "PrintDocument: the printer (default: the KKM's)"},
    }, ["kkm_ofd_id", "fr_shift_number", "shift_document_number"]),
    "PlaygroundRequest": obj({
        "kind": S, "source": {"type": "string", "description": "The template text (at most 256 KiB)"},
        "document": obj({"sample": S, "kkm_ofd_id": I, "fr_shift_number": I, "shift_document_number": I}),
        "profile": S, "kkm_ofd_id": I, "lang": S, "copy": B, "image_scale": N, "image_pixel_draw_threshold": I,
        "printer_id": {"type": "integer", "description": "PlaygroundPrint: the printer"},
    }, ["kind", "source"]),
}


def envelope(data_schema):
    return obj({"response_code": {"const": 0}, "response_data": data_schema}, ["response_code", "response_data"],
               extra=False)


def array(item):
    return {"type": "array", "items": item}


# (name, summary, request schema or None, response_data schema, extension?)
METHODS = [
    ("Ping", "Checks that the core runs (no PIN needed)", None, ref("Ok"), False),
    ("ActivateLicense", "Activates the licence (no licence server: the key's form is checked)",
     obj({"licenseKey": S, "email": S, "phone": S, "owner": S, "orgId": S, "address": S}, ["licenseKey"]),
     {"type": "string"}, False),
    ("GetOFDList", "The fiscal data operators", None, array(obj({"uid": S, "name": S}, ["uid", "name"])), False),
    ("GetVendorId", "Draws a new factory number (ЗНМ)", obj({"ofd_uid": S}),
     obj({"manufacture_date": S, "vendor_id": S}, ["vendor_id"]), False),
    ("GetKKMList", "The KKMs the caller may use", obj({"ofd_id": I}), array(ref("KKMObject")), False),
    ("SaveKKM", "Creates or updates a KKM", ref("SaveKKMRequest"), ref("KKMObject"), False),
    ("DeleteKKM", "Deletes a KKM whose shift is closed", obj({"ofd_id": I}, ["ofd_id"]), {"type": "string"}, False),
    ("GetOperatorList", "Operators (PINs only where the caller may see them)", None, array(ref("Operator")), False),
    ("SaveOperator", "Creates or updates an operator", ref("SaveOperatorRequest"), ref("Operator"), False),
    ("DeleteOperator", "Deletes an operator", obj({"id": I, "ID": I}), {"type": "string"}, False),
    ("TradeOperation", "A sale, purchase or return (a control receipt for a tax inspector)",
     ref("TradeOperationRequest"), ref("DocumentAnswer"), False),
    ("MoneyPlacement", "Cash in or out of the drawer", ref("MoneyPlacementRequest"), ref("DocumentAnswer"), False),
    ("ZXReport", "A Z report (closes the shift) or an X report", ref("ZXReportRequest"), ref("DocumentAnswer"), False),
    ("GetTransactionList", "The journal, filtered",
     obj({"kkm_ofd_id": KKM, "period_start": DATE, "period_end": DATE, "command_type_list": array(I),
          "transaction_id": I, "shift_number": I, "fiscal_id": S}, ["kkm_ofd_id"]),
     array(ref("JournalEntry")), False),
    ("GetTransaction", "One journal document", obj({"kkm_ofd_id": KKM, "transaction_id": I},
                                                   ["kkm_ofd_id", "transaction_id"]), ref("JournalEntry"), False),
    ("GetPrinterList", "Printers (seed types 1-3; `link` is an extension)", None, array(ref("Printer")), False),
    ("GetDocumentImage", "The PNG of a stored document", ref("DocumentRequest"), None, False),
    ("RenderDocument", "Extension: a stored document as txt, html, escpos or png", ref("DocumentRequest"),
     obj({"format": S, "encoding": S, "content": S}, ["format", "encoding", "content"]), True),
    ("PrintDocument", "Extension: prints a stored document again, as a copy", ref("DocumentRequest"),
     obj({"job_id": I}, ["job_id"]), True),
    ("GetPrintJobs", "Extension: print jobs and their states",
     obj({"printer_id": I, "active_only": B, "limit": I}), array({"type": "object"}), True),
    ("RetryPrintJob", "Extension: sends a failed or paused job again", obj({"id": I, "ID": I}), ref("Ok"), True),
    ("CancelPrintJob", "Extension: drops a job not printed yet, or stops one being sent at the next command",
     obj({"id": I, "ID": I}),
     obj({"id": I, "state": S, "bytes_sent": {"type": ["integer", "null"]},
          "bytes_total": {"type": ["integer", "null"]}, "note": S}, ["id", "state", "note"]), True),
    ("PlaygroundInit", "Extension (playground, administrator): document kinds, samples, recent documents, "
     "profiles and printers", None, {"type": "object"}, True),
    ("PlaygroundTemplate", "Extension (playground, administrator): the template in force for a kind, its "
     "saved versions and the variables it can use; with `version`, that saved version's source",
     obj({"kind": S, "kkm_ofd_id": I, "version": S}, ["kind"]), {"type": "object"}, True),
    ("PlaygroundRender", "Extension (playground, administrator): renders a template source as text, HTML, "
     "PNG and annotated ESC/POS", ref("PlaygroundRequest"), {"type": "object"}, True),
    ("PlaygroundSave", "Extension (playground, administrator): checks a template source against the samples "
     "and saves it as the override, keeping the version it replaces", ref("PlaygroundRequest"),
     obj({"saved": S, "sha256": S, "history": I}, ["saved", "sha256"]), True),
    ("PlaygroundPrint", "Extension (playground, administrator): a test print of a template source",
     ref("PlaygroundRequest"), obj({"job_id": I}, ["job_id"]), True),
    ("PlaygroundUpload", "Extension (playground, administrator): a PNG (a logo) beside the templates, for "
     "`@image <name>`", obj({"name": S, "content": {"type": "string", "description": "The PNG, base64"},
                             "kkm_ofd_id": I}, ["name", "content"]),
     obj({"saved": S}, ["saved"]), True),
    ("GetStatus", "Extension (status page, administrator): each KKM, device and printer as /ready and /metrics "
     "see them, with what to do", None,
     obj({"now": S, "version": S, "ready": B, "reasons": array(S), "snapshot": {"type": "object"}},
         ["ready", "snapshot"]), True),
]

ERRORS = {"400": "Code 2, 11, 15, 17 or 61", "401": "Code 71, 72, 74 or 75", "403": "Code 5 (wrong PIN)",
          "404": "Code 3 (no such method)", "500": "Any other error code"}

paths = {}
missing_examples = []
for name, summary, request, data, extension in METHODS:
    req_example, resp_example = seed_examples(name) if not extension else (None, None)
    error_responses = {
        status: {"description": text, "content": {"application/json": {"schema": ref("ErrorEnvelope")}}}
        for status, text in ERRORS.items()
    }
    if data is None:  # GetDocumentImage answers a PNG
        ok_content = {"image/png": {"schema": {"type": "string", "contentMediaType": "image/png"}},
                      "application/json": {"schema": ref("ErrorEnvelope")}}
    else:
        ok_media = {"schema": {"anyOf": [envelope(data), ref("ErrorEnvelope")]}}
        if resp_example is not None:
            ok_media["examples"] = {"seed": {"summary": "The seed's example", "value": resp_example}}
        ok_content = {"application/json": ok_media}
    op = {
        "operationId": name,
        "summary": summary,
        "tags": ["extension" if extension else "seed"],
        "responses": {"200": {"description": "Success (or any error under always_200)", "content": ok_content},
                      **error_responses},
    }
    if name == "Ping":
        op["security"] = []
    body_schema = request if request is not None else obj({})
    media = {"schema": body_schema}
    if req_example is not None:
        media["examples"] = {"seed": {"summary": "The seed's example", "value": req_example}}
    # An empty body counts as {}: the body itself is optional, its fields may be required.
    op["requestBody"] = {"required": False, "content": {"application/json": media}}
    paths[f"/{name}"] = {"post": op}
    if not extension and req_example is None and request is not None:
        missing_examples.append(name)

for path, op_id, summary, media in [
    ("/health", "Health", "Liveness: the process answers (no PIN)", "application/json"),
    ("/ready", "Ready", "Readiness: the store answers and every KKM can make documents; 503 with the reasons "
     "otherwise (no PIN)", "application/json"),
    ("/metrics", "Metrics", "Prometheus metrics in the OpenMetrics text format (no PIN)",
     "application/openmetrics-text"),
]:
    schema = {"type": "string"} if media.startswith("application/openmetrics") else {"type": "object"}
    responses = {"200": {"description": summary, "content": {media: {"schema": schema}}}}
    if path == "/ready":
        responses["503"] = {"description": "Not ready: `reasons` says why",
                            "content": {"application/json": {"schema": {"type": "object"}}}}
    paths[path] = {"get": {"operationId": op_id, "summary": summary, "security": [], "responses": responses}}

paths["/openapi.json"] = {"get": {
    "operationId": "OpenApi", "summary": "This document", "security": [],
    "responses": {"200": {"description": "The OpenAPI document",
                          "content": {"application/json": {"schema": {"type": "object"}}}}},
}}

doc = {
    "openapi": "3.1.0",
    "info": {
        "title": "Kassa API",
        "version": "1.8.107-kassa",
        "description": (
            "The seed's cash-core API (protocol 2.0.2, core 1.8.107) with Kassa's extensions. Every method is "
            "POST /<MethodName> with a JSON body (methods the seed marks GET/POST also take the query string). "
            "Paths are matched as the vendor's server does: trimmed of '/', '.' and '/' turned into '_', "
            "case-insensitive. Every answer is the envelope {response_code, response_data}; an error adds "
            "message and has response_data = the code's constant name. Its HTTP status follows the code "
            "(http.status_policy = vendor) or is 200 (always_200)."
        ),
    },
    "servers": [{"url": "http://127.0.0.1:8080"}],
    "security": [{"pin": []}],
    "paths": paths,
    "components": {
        "schemas": schemas,
        "securitySchemes": {"pin": {"type": "apiKey", "in": "header", "name": "Authorization",
                                    "description": "The operator's PIN, bare or after 'Bearer '"}},
    },
}

out = ROOT / "docs/openapi.json"
out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
print(f"wrote {out} ({len(paths)} paths); seed methods without a request example: {missing_examples}")
