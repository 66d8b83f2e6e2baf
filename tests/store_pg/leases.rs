//! The lease of a device between two stores of one PostgreSQL database, as two nodes hold them: taken, seen
//! held elsewhere, taken over when it lapsed (a new fence) or when its holder is gone, and a write of the
//! device refused by the database from a node that lost it. Read back with psql.
use crate::postgres::Postgres;
use kassa::store::{Holder, Store, StoreError};
use std::time::Duration;

fn node(url: &str) -> Store {
    Store::open_postgres(url, Duration::from_millis(1000)).expect("a node on the database")
}

#[test]
fn a_lease_is_held_by_one_node_taken_over_when_it_lapses_or_its_holder_is_gone_and_fences_writes() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("leases");
    let (a, b) = (node(&url), node(&url));
    let device =
        a.write(|tx| tx.ledger_register_device("by", "AVQ1", &serde_json::json!({}), 1, 0)).expect("a device").id;
    let fence = || pg.psql("leases", "SELECT fence FROM device_leases");

    // A takes it; B sees it held by A, and B's write of the device is refused by the database.
    assert_eq!(a.hold(device, Duration::ZERO).unwrap(), Holder::Here { taken_over: true });
    let Holder::Elsewhere(lease) = b.hold(device, Duration::ZERO).unwrap() else { panic!("B took A's live lease") };
    assert_eq!((lease.device, fence()), (device, "1".to_owned()));
    let refused = b.write(|tx| tx.ledger_set_shift(device, 1, Some("2026-12-06T10:00:00+05:00")));
    assert!(matches!(refused, Err(StoreError::ServedElsewhere(ref l)) if l.node == lease.node), "{refused:?}");
    a.write(|tx| tx.ledger_set_shift(device, 1, Some("2026-12-06T10:00:00+05:00"))).expect("A writes");

    // A's lease lapses (A runs on, but renews nothing): B takes it over with a new fence, and A's write is
    // refused now.
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(b.hold(device, Duration::ZERO).unwrap(), Holder::Here { taken_over: true });
    assert_eq!(fence(), "2");
    let refused = a.write(|tx| tx.ledger_set_shift(device, 2, None));
    assert!(matches!(refused, Err(StoreError::ServedElsewhere(_))), "A wrote after it lost the lease: {refused:?}");
    assert_eq!(pg.psql("leases", "SELECT shift_number FROM ledger_devices"), "1", "A's refused write left nothing");

    // B renews for the work ahead (30 s): its lease does not lapse under it.
    assert_eq!(b.hold(device, Duration::from_secs(30)).unwrap(), Holder::Here { taken_over: false });
    std::thread::sleep(Duration::from_millis(1300));
    assert!(matches!(a.hold(device, Duration::ZERO).unwrap(), Holder::Elsewhere(_)), "B's renewed lease held");

    // B goes away (its presence lock with it): A takes the device within seconds, long before B's lease
    // would lapse.
    drop(b);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while a.hold(device, Duration::ZERO).unwrap() != (Holder::Here { taken_over: true }) {
        assert!(std::time::Instant::now() < deadline, "A waited for B's lease to lapse");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(fence(), "3");
    a.write(|tx| tx.ledger_set_shift(device, 2, None)).expect("A writes again");
}

/// Two write transactions of one node on one KKM at once (a Kazakh sale's commit and the sender's acceptance
/// of the document before it) each read the KKM's row and write it back whole. The second waits for the
/// first and reads what it wrote: neither change is lost (at READ COMMITTED without the lock, the token the
/// acceptance wrote was overwritten by the commit's stale row, and the OFD refused the next send: CI run 28).
#[test]
fn two_writes_of_one_kkm_at_once_keep_both_changes() {
    use kassa::store::{KkmSettings, VatCertificate};
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("kkm_rows");
    let a = std::sync::Arc::new(node(&url));
    let device = a.write(|tx| tx.ledger_register_device("kz", "7001", &serde_json::json!({}), 1, 0)).unwrap().id;
    assert_eq!(a.hold(device, Duration::from_secs(30)).unwrap(), Holder::Here { taken_over: true });
    let settings = KkmSettings {
        ofd_id: 7001,
        ofd_uid: "ofd".into(),
        ofd_token: 1,
        local_name: "K".into(),
        use_software_vpn: false,
        auto_withdraw_money: false,
        printer: None,
        vat_certificate: VatCertificate { series: String::new(), number: String::new(), is_printable: false },
        custom_data: serde_json::Value::Null,
        bindings: Vec::new(),
    };
    let made = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let kkm = a.write(|tx| tx.insert_kz_kkm(device, &settings, 0, "v", &made, &serde_json::json!({}))).unwrap();

    let (read, go) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let (first, read_tx, go_rx) = (a.clone(), read.0, go.1);
    // The commit: reads the row, and writes it back marked autonomous once the other write has begun.
    let commit = std::thread::spawn(move || {
        first
            .write(|tx| {
                let mut row = tx.kz_kkm_row(kkm)?.expect("the KKM");
                read_tx.send(()).unwrap();
                let _ = go_rx.recv_timeout(Duration::from_millis(500));
                std::thread::sleep(Duration::from_millis(300));
                row.is_offline = true;
                tx.update_kkm_state(&row)
            })
            .unwrap()
    });
    read.1.recv().unwrap();
    // The acceptance: the OFD's new token.
    let accept = std::thread::spawn({
        let a = a.clone();
        move || {
            a.write(|tx| {
                let mut row = tx.kz_kkm_row(kkm)?.expect("the KKM");
                row.settings.ofd_token = 42;
                tx.update_kkm_state(&row)
            })
            .unwrap()
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    go.0.send(()).unwrap();
    commit.join().unwrap();
    accept.join().unwrap();
    assert_eq!(
        pg.psql("kkm_rows", "SELECT ofd_token, is_offline FROM kz_kkms"),
        "42|t",
        "the token and the autonomous mark are both kept"
    );
}
