"""What the pipeline and funnel endpoints must answer for a history, from the pure folds over it.

The answers are written by the same answer functions the endpoints use (`services.queries.answers`,
the number rule of docs/api.md), so a test comparing a live or partitioned answer with these checks
that the read side folds the same state, not how numbers are written (other tests do that).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from events import Envelope
from projections import funnel, org, pipeline
from sales.process import ProcessConfig
from services.queries import answers
from services.web.encoding import json_bytes


def replayed_answers(
    events: Sequence[Envelope], process: ProcessConfig, as_of: str, group_by: pipeline.GroupBy
) -> tuple[list[Any], dict[str, Any]]:
    """The rows of `/v1/pipeline?as_of=...` (the pipeline of what had happened by then, stuck after
    14 days) and the body of `/v1/funnel` (everything so far), as JSON."""
    at = datetime.fromisoformat(as_of)
    happened = [event for event in events if event.time <= at]
    deals = pipeline.deal_views(pipeline.fold(happened, process).values(), process).values()
    body = answers.pipeline_answer(deals, org.fold(events), process, at, group_by, timedelta(days=14))
    report = answers.funnel_of(funnel.fold(events, process).values(), process)
    return json.loads(json_bytes(body["rows"])), json.loads(json_bytes(report))
