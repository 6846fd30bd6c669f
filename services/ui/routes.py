"""The dashboard's routes: the pages, the login form and the static files, for the bootstrap's
route table (`services.bootstrap.routes`, which guards each by its policy in
`services.access.policies`), and `browsed`, which puts the browser's wrapper around them."""

from __future__ import annotations

from functools import partial

from projections import org
from services.access.guard import Guard
from services.auth.roles import READS_EVERYTHING, Role
from services.queries import coaching, drilldown, statements
from services.queries import handlers as queries
from services.ui import browser, pages
from services.ui.layout import frame, link, section
from services.ui.sources import Reader
from services.web.routes import Call, Handler, Reply, Route

PREFIX = "/ui/"


def reader_of(drill: drilldown.Drilldown, guard: Guard) -> Reader:
    """The API's own handlers for every route a page reads (the same functions the bootstrap
    serves under ``/v1/``), bound to the same read side."""
    reads = drill.queries
    handlers: dict[str, Handler] = {
        "/v1/kpis": partial(queries.kpis, reads),
        "/v1/pipeline": partial(queries.pipeline, reads),
        "/v1/funnel": partial(queries.funnel, reads),
        "/v1/forecast": partial(queries.forecast, reads),
        "/v1/leaderboards": partial(queries.leaderboard, reads),
        "/v1/reps/{rep_id}/activity": partial(queries.rep_activity, reads),
        "/v1/coaching/flags": partial(coaching.coaching_flags, reads),
        "/v1/reps/{rep_id}/development": partial(coaching.rep_development, reads),
        "/v1/reviews/{team_id}/{period}": partial(coaching.team_review, reads),
        "/v1/statements/{rep_id}/{period}": partial(statements.statement, reads),
        "/v1/deals": partial(drilldown.list_deals, drill),
        "/v1/deals/{deal_id}": partial(drilldown.deal, drill),
    }
    return Reader(handlers, guard)


def dashboard_routes(drill: drilldown.Drilldown, guard: Guard) -> list[Route]:
    """Every route of the dashboard except the live stream (`services.ui.live`, not a `Reply`)."""
    reader = reader_of(drill, guard)
    return [
        Route("GET", PREFIX, partial(index, reader)),
        Route("GET", "/ui/login", browser.login_form),
        Route("POST", "/ui/login", partial(browser.login, guard.keys)),
        Route("POST", "/ui/logout", browser.logout),
        Route("GET", "/ui/static/{name}", partial(browser.static, browser.static_files())),
        Route("GET", "/ui/teams/{team_id}", partial(pages.team_page, reader)),
        Route("GET", "/ui/reps/{rep_id}", partial(pages.rep_page, reader)),
        Route("GET", "/ui/deals/{deal_id}", partial(pages.deal_page, reader)),
    ]


def browsed(route: Route) -> Route:
    """A dashboard route (already guarded) with the browser's cookie and HTML refusals; any other
    route as it is."""
    if not route.path.startswith(PREFIX):
        return route
    return Route(route.method, route.path, browser.in_browser(route.handler))


async def index(reader: Reader, call: Call) -> Reply:
    """`/ui/`: the teams and reps this key may open (public route: it checks the key itself)."""
    call = browser.with_cookie_key(call)
    principal = reader.principal(call)
    if reader.guard.keys is not None and principal is None:
        return Reply(303, raw=b"", content_type=pages.HTML, headers={"Location": "/ui/login"})
    state = await reader.guard.organisation()
    query = pages.page_query(call, reader.guard.timezone)
    if principal is None or principal.role in READS_EVERYTHING:
        teams, reps = sorted(state.teams), sorted(state.reps)
    elif principal.role is Role.MANAGER and principal.subject:
        teams, reps = sorted(org.managed_teams(state, principal.subject)), []
    else:
        teams, reps = [], [principal.subject] if principal.subject else []
    team_links = "".join(f"<li>{link(f'/ui/teams/{t}', t, query)}</li>" for t in teams)
    rep_links = "".join(f"<li>{link(f'/ui/reps/{r}', r, query)}</li>" for r in reps)
    body = section("Teams", f"<ul>{team_links}</ul>" if teams else "<p>None for this key.</p>", "teams")
    body += section(
        "Reps", f"<ul class='columns'>{rep_links}</ul>" if reps else "<p>None listed.</p>", "reps"
    )
    page = frame("Dashboard", body, query, "index")
    return Reply(200, raw=page.encode(), content_type=pages.HTML)
