"""What the dashboard's listings hold: the API's objects, typed by the SDK's ``TypedDict``s.

They stay the plain dicts the SDK returns (fields the types do not know are kept, e.g. the
local backend's ``local``), so nothing is copied or converted between a poll and a row.
"""

from __future__ import annotations

from typing import TypeAlias

from celesto_api import Computer, Deployment

Item: TypeAlias = Computer | Deployment
