"""``officehub site …``: this hub's site identity, its peers, and the exchange of bundles with them.

The sites package and the configuration are imported inside the commands that use them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from officehub.canonical_model.errors import FatalError, OfficehubError
from officehub.cli.options import JsonOption, ProjectOption, project_dir
from officehub.cli.output import console, emit_json, errors, table

if TYPE_CHECKING:
    from officehub.sites import service

site_app = typer.Typer(help="Sites: exchange signed, encrypted bundles with hubs at other sites.",
                       no_args_is_help=True)


def _context(project: Path | None) -> service.SiteContext:
    from officehub.config import load_project
    from officehub.sites import service

    return service.context(load_project(project_dir(project)))


def site_init(name: Annotated[str, typer.Argument(help="This site's name (lower case, e.g. kyiv).")],
              project: ProjectOption = None) -> None:
    """Create this site's signing and encryption keys, encrypted with the site passphrase."""
    from officehub.sites.keys import init_site

    ctx = _context(project)
    if ctx.settings.name and ctx.settings.name != name:
        raise FatalError(f"sites.name in officehub.yaml is '{ctx.settings.name}', not '{name}'")
    card = init_site(ctx.paths, name, ctx.passphrase())
    console.print(f"Site '{card.site}' created. Its public card: {ctx.paths.identity / 'site.json'}", highlight=False)
    console.print(f"Fingerprint: {card.fingerprint}", highlight=False)
    console.print("Send the card to each peer site and read this fingerprint to its operator by another "
                  "channel (phone, in person) before they add it.", highlight=False)


def site_add(card_file: Annotated[Path, typer.Argument(help="The peer's site card (its site.json).")],
             fingerprint: Annotated[str | None, typer.Option(help="The fingerprint the peer's operator "
                                                                      "read to you; refused if it differs.")] = None,
             replace: Annotated[bool, typer.Option(help="Re-key a known peer; its old key is revoked.")] = False,
             project: ProjectOption = None) -> None:
    """Register a peer site's public keys."""
    from officehub.sites.peers import add_peer, read_card

    ctx = _context(project)
    card = read_card(card_file)
    if fingerprint is not None and fingerprint.strip() != card.fingerprint:
        raise FatalError(f"the card of site '{card.site}' has fingerprint {card.fingerprint}, not the one given: "
                         "do not add it; ask the peer's operator for the card again")
    add_peer(ctx.paths, card, replace=replace)
    console.print(f"Peer site '{card.site}' added. Fingerprint: {card.fingerprint}", highlight=False)
    if fingerprint is None:
        console.print("Compare this fingerprint with the one the peer's operator reads to you; if they differ, "
                      f"run 'officehub site revoke {card.site}'.", highlight=False)


def site_list(project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """This site and its peers, with fingerprints."""
    from officehub.sites.peers import list_peers

    ctx = _context(project)
    me = ctx.card()
    peers = list_peers(ctx.paths)
    rows = [{"site": me.site, "role": "this site", "fingerprint": me.fingerprint, "status": "active"}]
    rows += [{"site": p.site, "role": "peer", "fingerprint": p.card.fingerprint if p.card else None,
              "status": "active" if p.active else "revoked", "revoked_keys": len(p.revoked)} for p in peers]
    if as_json:
        emit_json(rows)
        return
    console.print(table("sites", ["site", "role", "fingerprint", "status"],
                        [(r["site"], r["role"], r["fingerprint"] or "-", r["status"]) for r in rows]))


def site_revoke(peer: Annotated[str, typer.Argument(help="The peer site whose keys are no longer trusted.")],
                project: ProjectOption = None) -> None:
    """Stop trusting a peer's keys: its bundles and acknowledgements are rejected from now on."""
    from officehub.sites.peers import revoke_peer

    revoke_peer(_context(project).paths, peer)
    console.print(f"The keys of site '{peer}' are revoked. Add its new card with 'officehub site add'.",
                  highlight=False)


def site_status(project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Per link: last sent and acknowledged bundle, bundles waiting, lag, gaps and the last error."""
    from officehub.config import load_project
    from officehub.sites import service

    links = service.statuses(load_project(project_dir(project)))
    if as_json:
        emit_json([link.as_dict() for link in links])
        return
    columns = ["peer", "sent", "acked", "waiting", "MiB waiting", "lag s", "received", "inbox", "gaps",
               "quarantined", "last error"]
    rows = [(s.peer, s.last_sent, s.last_acked, s.bundles_waiting, f"{s.bytes_waiting / 2**20:.1f}", s.lag_s,
             s.received_through, s.inbox_waiting,
             ", ".join(f"{k} after {v['after']} ({v['for_s']:.0f} s)" for k, v in s.gaps.items()) or "-",
             s.quarantined_bundles, s.last_error or "-") for s in links]
    console.print(table("site links", columns, rows, numeric=columns[1:8]))


def site_exchange(peers: Annotated[list[str] | None, typer.Argument(help="Peers (default: every site "
                                                                             "with sftp settings).")] = None,
                  project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Upload waiting bundles to peers over SFTP (resuming cut uploads) and apply their acknowledgements."""
    from officehub.config import load_project
    from officehub.sites import service

    loaded = load_project(project_dir(project))
    names = peers or [n for n, cfg in service.peer_systems(loaded).items() if cfg.sftp is not None]
    results, failures = [], []
    for name in names:
        try:
            results.append(service.exchange_with(loaded, name).as_dict())
        except OfficehubError as exc:
            failures.append(exc)
            results.append({"peer": name, "error": exc.describe()})
            errors.print(f"[red]error[/] {exc.describe()}", highlight=False, soft_wrap=True)
    if as_json:
        emit_json(results)
    else:
        columns = ["peer", "uploaded", "resumed", "acknowledged", "waiting", "reconnects", "seconds", "error"]
        console.print(table("exchange", columns, [tuple(
            (f"{r.get(c):.2f}" if c == "seconds" and r.get(c) is not None else r.get(c, "-")) for c in columns)
            for r in results]))
    if failures:
        raise typer.Exit(max(exc.exit_code for exc in failures))


def register(app: typer.Typer) -> None:
    """Attach the ``site`` sub-commands to the main app."""
    site_app.command("init")(site_init)
    site_app.command("add")(site_add)
    site_app.command("list")(site_list)
    site_app.command("revoke")(site_revoke)
    site_app.command("status")(site_status)
    site_app.command("exchange")(site_exchange)
    app.add_typer(site_app, name="site")
