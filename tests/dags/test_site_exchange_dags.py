"""Site exchange runs as its own DAG per peer site, on the Celery queue of this site's workers."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import copy_demo_config

SFTP = {"host": "files.lviv.example.internal", "username": "officehub", "private_key": "keys/ssh_ed25519",
        "known_hosts": "keys/known_hosts", "folder": "/srv/officehub/site/exchange"}


def _with_sites(folder: Path) -> Path:
    """The demo estate as site 'kyiv', with one peer it sends to (lviv) and one it only receives from (odesa)."""
    main = folder / "officehub.yaml"
    config = yaml.safe_load(main.read_text(encoding="utf-8"))
    config["sites"] = {"name": "kyiv", "passphrase": {"env": "KYIV_SITE_PASSPHRASE"}}
    main.write_text(yaml.safe_dump(config), encoding="utf-8")
    (folder / "systems" / "sites.yaml").write_text(yaml.safe_dump({"systems": {
        "lviv": {"type": "site", "country": "PL", "max_connections": 1, "sftp": SFTP,
                 "exchange_schedule": "*/10 * * * *"},
        "odesa": {"type": "site", "country": "UA"},
    }}), encoding="utf-8")
    return folder


def test_each_peer_reached_over_sftp_gets_an_exchange_dag_on_this_sites_queue(dagbag, tmp_path):
    folder = _with_sites(copy_demo_config(tmp_path / "estate"))
    bag = dagbag(folder)
    assert bag.import_errors == {}
    exchanges = sorted(d for d in bag.dag_ids if ".site_exchange." in d)
    assert exchanges == ["demo.site_exchange.lviv"]  # odesa only sends to us: nothing to upload
    dag = bag.get_dag("demo.site_exchange.lviv")
    (task,) = dag.tasks
    assert task.task_id == "exchange" and task.queue == "kyiv"
    assert task.pool == "officehub.demo.lviv"
    assert dag.timetable.expression == "*/10 * * * *"
    assert task.op_kwargs == {"config_path": str(folder), "peer": "lviv"}
    assert task.retries == 4 and task.retry_policy is not None


def test_the_pool_of_a_site_link_is_sized_by_its_max_connections(tmp_path):
    from officehub.orchestrate import exchange_specs, pool_specs

    folder = _with_sites(copy_demo_config(tmp_path / "estate"))
    assert {p.name: p.slots for p in pool_specs(folder)}["officehub.demo.lviv"] == 1
    (spec,) = exchange_specs(folder)
    assert (spec.peer, spec.queue, spec.schedule) == ("lviv", "kyiv", "*/10 * * * *")
