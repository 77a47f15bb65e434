"""``liaison search``: query the directory, set up Meilisearch and rebuild the index.

``liaison search "QUERY"`` runs a query; ``liaison search setup`` and ``liaison search reindex``
are subcommands. A first argument that is not a subcommand is read as the query.
"""

from __future__ import annotations

import json
from typing import Any

import click

from search.query import InvalidQuery


class QueryGroup(click.Group):
    """A group whose first argument, when not a subcommand, is the text of a ``query``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


def _service() -> Any:
    from core.cli import Context
    from search.service import SearchService

    context = click.get_current_context()
    obj = context.find_object(Context) or Context()
    service = SearchService(obj.settings, obj.database())
    context.find_root().call_on_close(service.close)
    return service


@click.group(cls=QueryGroup)
def search() -> None:
    """Search the directory and maintain its index (liaison search "QUERY" [options])."""


@search.command("query")
@click.argument("text", required=False, default="")
@click.option("--country", multiple=True, help="Country code (BE, NL, LU); repeatable.")
@click.option("--org-type", "org_type", multiple=True, help="Organisation type code.")
@click.option("--service-type", "service_type", multiple=True, help="Service type code.")
@click.option("--target-group", "target_group", multiple=True, help="Target group code.")
@click.option("--language", multiple=True, help="Working language code.")
@click.option("--near", default="", help="A Benelux town: distances and sort from there.")
@click.option("--radius-km", "radius_km", type=float, default=None)
@click.option("--sort", type=click.Choice(["relevance", "distance", "name"]), default=None)
@click.option("--per-page", "per_page", type=int, default=10, show_default=True)
@click.option(
    "--as",
    "audience",
    type=click.Choice(["public", "member", "secretariat"]),
    default="secretariat",
    show_default=True,
    help="Search as this audience would.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the SearchPage as JSON.")
def query_command(
    *,
    text: str,
    country: tuple[str, ...],
    org_type: tuple[str, ...],
    service_type: tuple[str, ...],
    target_group: tuple[str, ...],
    language: tuple[str, ...],
    near: str,
    radius_km: float | None,
    sort: str | None,
    per_page: int,
    audience: str,
    as_json: bool,
) -> None:
    """Run one search and print the hits."""
    from search.params import parse_search

    lists = {
        "country": list(country),
        "org_type": list(org_type),
        "service_type": list(service_type),
        "target_group": list(target_group),
        "language": list(language),
    }
    single = {
        "q": text,
        "near": near,
        "radius_km": None if radius_km is None else str(radius_km),
        "sort": sort,
        "per_page": str(per_page),
    }
    service = _service()
    try:
        query = parse_search(
            single.get,
            lambda name: lists.get(name, []),
            lambda: service.places,
            audience="network" if audience == "member" else audience,
            locale="en",
        )
    except InvalidQuery as error:
        raise click.UsageError(str(error)) from error
    page = service.search(query)
    if as_json:
        click.echo(json.dumps(page.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{page.total} found in {page.took_ms:.1f} ms ({page.backend})")
    for number, hit in enumerate(page.hits, 1):
        where = ", ".join(p for p in (hit.city, hit.country) if p)
        distance = f"  {hit.distance_km} km" if hit.distance_km is not None else ""
        badges = f"  [{' '.join(hit.badges)}]" if hit.badges else ""
        click.echo(f"{number:>3}. {hit.name} ({hit.ref}) — {where}{distance}{badges}")


@search.command("setup")
def setup_command() -> None:
    """Create the Meilisearch index and apply Liaison's settings (synonyms, typos, ranking)."""
    from search.backend import SearchUnavailable

    service = _service()
    if service.primary is None:
        click.echo("search uses the embedded engine: nothing to set up")
        return
    try:
        service.primary.setup()
    except SearchUnavailable as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Meilisearch index {service.primary.uid!r} is set up at {service.primary.url}")


@search.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index from the database, swapping it in when complete."""
    from search.backend import SearchUnavailable

    service = _service()
    state: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label="organisations").__enter__()
        state["bar"].update(done - state.get("done", 0))
        state["done"] = done

    try:
        count = service.reindex(progress=progress)
    except SearchUnavailable as error:
        raise click.ClickException(str(error)) from error
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)
    click.echo(f"indexed {count} organisations")
