"""The directory's HTTP API for networks: who works together on which topic, and since when.

Changes take `If-Match` with the ETag read before: a change made meanwhile is a 409, never overwritten.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.directory import handlers, queries
from services.directory.domain.commands import FoundNetwork, JoinNetwork, LeaveNetwork
from services.directory.entrypoints.api import IfMatch, Staff, expected_version
from shared.db import read_transaction
from shared.errors import NotFound
from shared.service import RuntimeDep

router = APIRouter(tags=["networks"])


class NetworkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, examples=["Migrannet"])
    topic: str | None = Field(default=None, max_length=500)
    coordinators: list[str] = Field(min_length=1, description="Ids of the coordinating organisations")
    founded_on: date | None = None


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation_id: str = Field(min_length=1)
    joined_on: date | None = None


class LeaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    left_on: date | None = None


class Membership(BaseModel):
    organisation_id: str
    name: str | None
    joined_on: date
    left_on: date | None
    coordinator: bool


class NetworkOut(BaseModel):
    id: str
    name: str
    topic: str | None
    founded_on: date
    version: int
    members: list[Membership]


class NetworkSummary(BaseModel):
    id: str
    name: str
    topic: str | None
    founded_on: date
    members: int = Field(description="Current members")


def network_not_found(network_id: str) -> NotFound:
    return NotFound(f"Network {network_id} does not exist", f"Netzwerk {network_id} gibt es nicht")


async def read_network(
    runtime: RuntimeDep, network_id: str, response: Response | None = None
) -> dict[str, Any]:
    """The network; with a response, its version goes into the ETag for a later If-Match."""
    async with read_transaction(runtime.engine) as conn:
        found = await queries.get_network(conn, network_id)
    if found is None:
        raise network_not_found(network_id)
    if response is not None:
        response.headers["ETag"] = f'"{found["version"]}"'
    return found


@router.post("/networks", status_code=201, response_model=NetworkOut, summary="Enter a network")
async def found(body: NetworkIn, runtime: RuntimeDep, request: Request, response: Response, _: Staff) -> Any:
    network = await handlers.found_network(
        runtime.uow, FoundNetwork(body.name, tuple(body.coordinators), body.topic, body.founded_on)
    )
    response.headers["Location"] = str(request.url_for("get_network", network_id=network.id))
    return await read_network(runtime, network.id, response)


@router.get("/networks", response_model=list[NetworkSummary], summary="Every network")
async def list_networks(runtime: RuntimeDep, _: Staff) -> Any:
    async with read_transaction(runtime.engine) as conn:
        return await queries.list_networks(conn)


@router.get(
    "/networks/{network_id}", response_model=NetworkOut, summary="A network and its members over time"
)
async def get_network(network_id: str, runtime: RuntimeDep, response: Response, _: Staff) -> Any:
    return await read_network(runtime, network_id, response)


@router.post("/networks/{network_id}/members", response_model=NetworkOut, summary="An organisation joins")
async def join(
    network_id: str,
    body: JoinIn,
    runtime: RuntimeDep,
    response: Response,
    _: Staff,
    if_match: IfMatch = None,
) -> Any:
    await handlers.join_network(
        runtime.uow,
        JoinNetwork(network_id, body.organisation_id, body.joined_on, expected_version(if_match)),
    )
    return await read_network(runtime, network_id, response)


@router.post(
    "/networks/{network_id}/members/{organisation_id}/leave",
    response_model=NetworkOut,
    summary="An organisation leaves",
)
async def leave(
    network_id: str,
    organisation_id: str,
    body: LeaveIn,
    runtime: RuntimeDep,
    response: Response,
    _: Staff,
    if_match: IfMatch = None,
) -> Any:
    await handlers.leave_network(
        runtime.uow, LeaveNetwork(network_id, organisation_id, body.left_on, expected_version(if_match))
    )
    return await read_network(runtime, network_id, response)
