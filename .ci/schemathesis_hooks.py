"""Schemathesis hooks for Kassa (loaded through SCHEMATHESIS_HOOKS by .ci/schemathesis.sh).

Under the vendor status policy every error code other than the named 4xx ones answers HTTP 500, by design and
as documented, so schemathesis' `not_a_server_error` cannot tell a crash from a refusal. This check can: an
answer with code 4 (method_execution_exception: a failure inside a handler) or 19 (db_error) is a bug
whatever the input was; so is any 5xx that is not the documented envelope.
"""
import schemathesis

INTERNAL_FAILURES = {4: "method_execution_exception", 19: "db_error"}


@schemathesis.check
def no_internal_failure(ctx, response, case):
    if response.status_code < 500:
        return None
    try:
        body = response.json()
    except Exception as exc:  # a 5xx that is not the envelope: a crash
        raise AssertionError(f"HTTP {response.status_code} without the JSON envelope: {exc}")
    code = body.get("response_code") if isinstance(body, dict) else None
    if code in INTERNAL_FAILURES:
        raise AssertionError(f"internal failure {code} {INTERNAL_FAILURES[code]}: {body.get('message')}")
    return None
