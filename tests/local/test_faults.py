"""The fault-injection switch: how every resilience test makes the server misbehave."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from celesto_api import Celesto, CelestoServerError
from celesto_api.local import LocalServer
from celesto_api.local.faults import FaultSpecError, parse_fault_spec


def test_spec_parsing_and_errors() -> None:
    spec = parse_fault_spec("error_rate=0.2,rate_limit=0.05,retry_after=2,latency_ms=50-500")
    assert (spec.error_rate, spec.rate_limit, spec.retry_after) == (0.2, 0.05, 2)
    assert (spec.latency_min_ms, spec.latency_max_ms) == (50, 500)
    assert parse_fault_spec("error_rate=1,error_status=402").error_status == 402
    for bad in (
        "error_rate=2",
        "latency_ms=9-1",
        "boom=1",
        "ws_drop",
        "count=-1",
        "error_status=404",
        "error_status=600",
        "error_status=x",
    ):
        with pytest.raises(FaultSpecError):
            parse_fault_spec(bad)


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (500, "Internal Server Error (injected fault)."),
        (502, "Bad Gateway (injected fault)."),
        (503, "Service Unavailable (injected fault)."),
        (504, "Gateway Timeout (injected fault)."),
    ],
)
def test_injected_server_errors_say_what_they_are(
    http: httpx.Client, local_server: LocalServer, status: int, detail: str
) -> None:
    local_server.set_faults(f"error_rate=1,error_status={status},count=1")
    response = http.get("/v1/computers")
    assert response.status_code == status
    assert response.json() == {"detail": detail}


def test_payment_required_has_the_billing_error_shape(
    http: httpx.Client, local_server: LocalServer
) -> None:
    before = {c["id"] for c in http.get("/v1/computers").json()["computers"]}
    local_server.set_faults("error_rate=1,error_status=402,count=1")
    response = http.post("/v1/computers", json={})
    assert response.status_code == 402
    detail = response.json()["detail"]
    assert detail["error_code"] == "trial_expired" and detail["message"]
    # Refused before the work: nothing was created.
    assert {c["id"] for c in http.get("/v1/computers").json()["computers"]} == before


def test_counted_503_then_recovery(http: httpx.Client, local_server: LocalServer) -> None:
    local_server.set_faults("error_rate=1,error_status=503,count=2")
    assert [http.get("/v1/computers").status_code for _ in range(3)] == [503, 503, 200]


def test_lost_response_does_the_work_then_fails(
    http: httpx.Client, local_server: LocalServer
) -> None:
    assert parse_fault_spec("lost_response=0.5").describe() == (
        "lost_response=0.5,error_status=503"
    )
    before = {c["id"] for c in http.get("/v1/computers").json()["computers"]}
    local_server.set_faults("lost_response=1,error_status=502,count=1")
    lost = http.post("/v1/computers", json={})
    assert lost.status_code == 502
    made = {c["id"] for c in http.get("/v1/computers").json()["computers"]} - before
    assert len(made) == 1  # the create happened although its answer was lost
    assert http.delete(f"/v1/computers/{made.pop()}").status_code == 200


def test_rate_limit_carries_retry_after(http: httpx.Client, local_server: LocalServer) -> None:
    local_server.set_faults("rate_limit=1,retry_after=7,count=1")
    response = http.get("/v1/computers")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert http.get("/v1/computers").status_code == 200


def test_latency(local_server: LocalServer) -> None:
    headers = {"Authorization": f"Bearer {local_server.api_key}"}
    with httpx.Client(base_url=local_server.base_url, headers=headers, timeout=0.3) as http:
        local_server.set_faults("latency_ms=3000,count=1")
        # A delay ten times the client's patience cannot go unnoticed.
        with pytest.raises(httpx.ReadTimeout):
            http.get("/v1/computers")
        assert http.get("/v1/computers").status_code == 200  # the one fault is used up


def test_faults_switch_over_http(http: httpx.Client) -> None:
    assert http.put("/v1/local/faults", json={"spec": "error_rate=1,count=1"}).status_code == 200
    assert http.get("/v1/computers").status_code == 503
    bad = http.put("/v1/local/faults", json={"spec": "error_rate=7"})
    assert bad.status_code == 400 and "error_rate" in bad.json()["detail"]
    info = http.get("/v1/local/info").json()
    assert info["isolation"] in ("bwrap", "process")


def test_an_exec_whose_answer_was_lost_says_the_command_may_have_run(
    local_server: LocalServer, running_computer_via_http: dict[str, Any]
) -> None:
    with Celesto(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        local_server.set_faults("lost_response=1,error_status=503,count=1")
        with pytest.raises(CelestoServerError) as lost:
            client.computers.exec(running_computer_via_http["id"], "echo ran > ~/lost-proof")
        message = str(lost.value)
        assert "The command may have run" in message
        assert f"celesto-tui computer history {running_computer_via_http['id']}" in message
        # ... and it did: the history and the file say so.
        history = client.computers.list_command_history(running_computer_via_http["id"])
        assert history["commands"][0]["status"] == "completed"
        proof = client.computers.exec(running_computer_via_http["id"], "cat ~/lost-proof")
        assert proof["stdout"] == "ran\n"
