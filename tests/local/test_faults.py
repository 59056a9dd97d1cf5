"""The fault-injection switch: how every resilience test makes the server misbehave."""

from __future__ import annotations

import time

import httpx
import pytest

from celesto_api.local import LocalServer
from celesto_api.local.faults import FaultSpecError, parse_fault_spec


def test_spec_parsing_and_errors() -> None:
    spec = parse_fault_spec("error_rate=0.2,rate_limit=0.05,retry_after=2,latency_ms=50-500")
    assert (spec.error_rate, spec.rate_limit, spec.retry_after) == (0.2, 0.05, 2)
    assert (spec.latency_min_ms, spec.latency_max_ms) == (50, 500)
    for bad in ("error_rate=2", "latency_ms=9-1", "boom=1", "ws_drop", "count=-1"):
        with pytest.raises(FaultSpecError):
            parse_fault_spec(bad)


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


def test_latency(http: httpx.Client, local_server: LocalServer) -> None:
    local_server.set_faults("latency_ms=200,count=1")
    started = time.monotonic()
    http.get("/v1/computers")
    # a lower bound only: the injected delay must have happened
    assert time.monotonic() - started >= 0.2


def test_faults_switch_over_http(http: httpx.Client) -> None:
    assert http.put("/v1/local/faults", json={"spec": "error_rate=1,count=1"}).status_code == 200
    assert http.get("/v1/computers").status_code == 503
    bad = http.put("/v1/local/faults", json={"spec": "error_rate=7"})
    assert bad.status_code == 400 and "error_rate" in bad.json()["detail"]
    info = http.get("/v1/local/info").json()
    assert info["isolation"] in ("bwrap", "process")
