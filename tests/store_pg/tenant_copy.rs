//! Two shops, each grown on its own SQLite store (so both have KKM 1, operator 1, device 1 and document 1, the
//! same OFD ID and the same cashier PIN under different `pin.key`s), moved into two tenants of one PostgreSQL
//! store with `kassa store copy --tenant`: both keep their ids, journals and PINs, `kassa check` proves both
//! chains, and one node sells on for each shop.
use crate::common;
use crate::nodes::{self, Node, Ofd, call, ok, sale};
use crate::postgres::Postgres;
use crate::shop::Shop;
use serde_json::json;

/// `kassa store copy --from DATA --to URL [ARGS]` with the nodes' key when given: success and all output.
fn copy(data: &std::path::Path, url: &str, node_key: Option<&str>, args: &[&str]) -> (bool, String) {
    let mut command = common::kassa();
    command.args(["store", "copy", "--from"]).arg(data).args(["--to", url]).args(args);
    command.env_remove("KASSA_PIN_KEY").env("RUST_LOG", "warn");
    if let Some(key) = node_key {
        command.env("KASSA_PIN_KEY", key);
    }
    let out = command.output().expect("kassa store copy");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// A shop of one day or two, stopped: its folder.
fn grown_shop(days: usize) -> tempfile::TempDir {
    let shop = Shop::open();
    shop.set_up();
    for _ in 0..days {
        shop.day();
    }
    shop.stop()
}

fn sqlite_count(data: &std::path::Path, sql: &str) -> i64 {
    let db = rusqlite::Connection::open(data.join("kassa.db")).expect("open");
    db.query_row(sql, [], |r| r.get(0)).expect(sql)
}

#[test]
fn two_shops_move_into_two_tenants_with_their_ids_journals_and_pins_and_sell_on() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("cloud");
    let (north, south) = (grown_shop(1), grown_shop(2));
    let (north_data, south_data) = (north.path().join("data"), south.path().join("data"));
    assert_ne!(std::fs::read(north_data.join("pin.key")).unwrap(), std::fs::read(south_data.join("pin.key")).unwrap());

    // The nodes' key is needed to seal the shop's own; a tenant name must fit a path and not be the default.
    let (copied, out) = copy(&north_data, &url, None, &["--tenant", "north"]);
    assert!(!copied && out.contains("KASSA_PIN_KEY is not set"), "{out}");
    let (copied, out) = copy(&north_data, &url, Some(nodes::PIN_KEY), &["--tenant", "default"]);
    assert!(!copied && out.contains("cannot name a new tenant"), "{out}");

    for (data, name) in [(&north_data, "north"), (&south_data, "south")] {
        let (copied, out) = copy(data, &url, Some(nodes::PIN_KEY), &["--tenant", name]);
        assert!(copied, "{out}");
        assert!(out.contains("every check matched") && out.contains(&format!("tenant {name} added")), "{out}");
        assert!(out.contains("chain and seal recomputed from PostgreSQL equal SQLite's"), "{out}");
    }
    // A shop moves in once; the store's own tables stay the store's.
    let (copied, out) = copy(&north_data, &url, Some(nodes::PIN_KEY), &["--tenant", "north"]);
    assert!(!copied && out.contains("already has a tenant north"), "{out}");
    // Without --tenant a copy fills an empty store only: the tenants' rows count.
    let (copied, out) = copy(&north_data, &url, Some(nodes::PIN_KEY), &[]);
    assert!(!copied && out.contains("already holds data") && out.contains("ledger_documents ("), "{out}");

    // Both tenants hold their shop's rows under the shop's own ids, side by side.
    let everyone = |sql: &str| pg.as_tenant("cloud", "*", sql);
    for (data, name) in [(&north_data, "north"), (&south_data, "south")] {
        for table in ["ledger_documents", "ledger_devices", "operators", "kz_kkms", "ledger_counters"] {
            let n = sqlite_count(data, &format!("SELECT count(*) FROM {table}"));
            let held = everyone(&format!("SELECT count(*) FROM {table} WHERE tenant_id = '{name}'"));
            assert_eq!(held, n.to_string(), "{name}'s {table}");
        }
    }
    let shared_ids = everyone(
        "SELECT count(*) FROM ledger_documents n JOIN ledger_documents s ON s.id = n.id
          WHERE n.tenant_id = 'north' AND s.tenant_id = 'south'",
    );
    assert_eq!(shared_ids, sqlite_count(&north_data, "SELECT count(*) FROM ledger_documents").to_string());
    let sealed = everyone("SELECT count(*) FROM tenants WHERE pin_key_sealed IS NOT NULL");
    assert_eq!(sealed, "2");
    let max_id = everyone("SELECT max(id) FROM ledger_documents");

    // kassa check proves each tenant's chain on its own.
    let checked = common::kassa()
        .args(["check", "--data-dir"])
        .arg(north.path().join("check"))
        .env("KASSA_STORE_URL", &url)
        .env("KASSA_PIN_KEY", nodes::PIN_KEY)
        .output()
        .expect("kassa check");
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{out}{}", String::from_utf8_lossy(&checked.stderr));
    assert!(out.contains("tenant north:") && out.contains("tenant south:"), "{out}");

    // One node serves both: each shop's cashier PIN (hashed under its own pin.key) sells on its KKM 1.
    let ofd = Ofd::start();
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &url, ofd.emu.addr(), 15);
    let port = node.port();
    for name in ["north", "south"] {
        let kkms = ok(port, &format!("t/{name}/GetKKMList"), common::ADMIN, &json!({}));
        assert_eq!((kkms[0]["ID"].as_i64(), kkms[0]["ofd_id"].as_i64()), (Some(1), Some(6923)), "{name}: {kkms}");
        let token: u32 = pg.as_tenant("cloud", name, "SELECT ofd_token FROM kz_kkms").parse().expect("token");
        ofd.emu.register_kkm(6923, token);
        let documents =
            |who: &str| everyone(&format!("SELECT count(*) FROM ledger_documents WHERE tenant_id = '{who}'"));
        let before = documents(name);
        ok(port, &format!("t/{name}/TradeOperation"), nodes::CASHIER, &sale(6923, 700));
        let after: i64 = documents(name).parse().unwrap();
        assert_eq!(after, before.parse::<i64>().unwrap() + 1, "{name}'s sale is in its own books");
    }
    // The default tenant knows neither shop's cashier.
    let refused = call(port, "TradeOperation", nodes::CASHIER, None, &sale(6923, 100)).unwrap();
    assert_eq!(refused["response_code"], 5, "{refused}");
    // New documents take ids past every tenant's.
    let above = everyone(&format!("SELECT count(*) FROM ledger_documents WHERE id > {max_id}"));
    assert!(
        above.parse::<i64>().unwrap() >= 2,
        "the two sales (and their reports) were numbered past {max_id}: {above}"
    );
    let clash = everyone(&format!(
        "SELECT count(*) FROM ledger_documents n JOIN ledger_documents s ON s.id = n.id
          WHERE n.tenant_id = 'north' AND s.tenant_id = 'south' AND n.id > {max_id}"
    ));
    assert_eq!(clash, "0", "ids handed out after the copies are unique across the store");
}
