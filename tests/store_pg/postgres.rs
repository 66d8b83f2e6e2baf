//! A throwaway PostgreSQL for one test: `initdb` into a temporary folder, `pg_ctl start` on a loopback port
//! the kernel picked (tried again with another when taken meanwhile), stopped and removed on drop. PostgreSQL
//! refuses to run as root, so under root its commands run as the `postgres` user (`runuser`), which owns the
//! folder.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    pub port: u16,
}

/// PostgreSQL's binaries: the newest /usr/lib/postgresql/<version>/bin with an initdb.
fn binaries() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("KASSA_REQUIRE_POSTGRES").is_some()
}

impl Postgres {
    /// A running PostgreSQL, or None (after a loud line) when its binaries are missing and not required.
    pub fn start() -> Option<Postgres> {
        let Some(bin) = binaries() else {
            assert!(
                !required(),
                "PostgreSQL's binaries are missing (no /usr/lib/postgresql/*/bin/initdb): install Debian's \
                 `postgresql` package (apt-get install postgresql); CI or KASSA_REQUIRE_POSTGRES is set, so the \
                 PostgreSQL tests cannot be skipped"
            );
            eprintln!(
                "\n!!!!! SKIPPED: PostgreSQL's binaries are missing (install Debian's `postgresql` package); the \
                 store_pg tests did not run !!!!!\n"
            );
            return None;
        };
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let dir = tempfile::tempdir().expect("temp dir");
        if as_postgres {
            let ids = |flag: &str| -> u32 {
                let out = Command::new("id").args([flag, "postgres"]).output().expect("id");
                assert!(out.status.success(), "running as root and there is no `postgres` user to run PostgreSQL");
                String::from_utf8_lossy(&out.stdout).trim().parse().expect("a number")
            };
            std::os::unix::fs::chown(dir.path(), Some(ids("-u")), Some(ids("-g"))).expect("chown");
        }
        let mut pg = Postgres { dir, bin, as_postgres, port: 0 };
        let data = pg.dir.path().join("data");
        let out = pg.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-locale".as_ref(),
            ],
        );
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        for _ in 0..5 {
            pg.port = kernel_port();
            let options = format!(
                "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c full_page_writes=off",
                pg.port,
                pg.dir.path().display()
            );
            let log = pg.dir.path().join("postgres.log");
            let out = pg.run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-o".as_ref(),
                    options.as_ref(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "start".as_ref(),
                ],
            );
            if out.status.success() {
                // Kassa's role as a provider runs it: no superuser, so row-level security keeps tenants apart.
                pg.as_superuser("CREATE ROLE kassa LOGIN CREATEDB");
                return Some(pg);
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(text.contains("could not bind") || text.contains("in use"), "pg_ctl start: {text}");
        }
        panic!("PostgreSQL found no free loopback port in 5 tries");
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Output {
        let path = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        command.args(args).current_dir(self.dir.path()).output().unwrap_or_else(|e| panic!("{tool}: {e}"))
    }

    /// Runs `sql` as the cluster's superuser, `postgres`.
    pub fn as_superuser(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-c")
            .arg(sql)
            .output()
            .expect("psql");
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A new empty database; its URL.
    pub fn database(&self, name: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(name)
    }

    pub fn url(&self, name: &str) -> String {
        format!("postgres://kassa@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs `sql` as [`Postgres::psql`] does, in a session naming `tenant` (`*`: every tenant's rows).
    pub fn as_tenant(&self, db: &str, tenant: &str, sql: &str) -> String {
        let out = self.psql(db, &format!("SET kassa.tenant = '{tenant}'; {sql}"));
        out.strip_prefix("SET").map(str::trim_start).unwrap_or(&out).to_owned()
    }

    /// Runs `sql` with `psql` (unaligned, tuples only) and insists on success; its output, trimmed.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = self.psql_output(db, sql);
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn psql_output(&self, db: &str, sql: &str) -> Output {
        Command::new(self.bin.join("psql"))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "kassa", "-d", db])
            // The default tenant's rows (row-level security, 0003_tenants.sql); a statement may SET another.
            .env("PGOPTIONS", "-c kassa.tenant=default")
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-c")
            .arg(sql)
            .output()
            .expect("psql")
    }

    /// `pg_dump --schema-only` of a database, to compare schemas.
    pub fn schema(&self, db: &str) -> String {
        let out = Command::new(self.bin.join("pg_dump"))
            .args(["--schema-only", "-h", "127.0.0.1", "-U", "kassa", "-d", db])
            .arg("-p")
            .arg(self.port.to_string())
            .output()
            .expect("pg_dump");
        assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
        // pg_dump 15.14 and later fence the dump with `\restrict <random key>`: not part of the schema.
        let dump = String::from_utf8_lossy(&out.stdout);
        dump.lines()
            .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A loopback port the kernel gives out as free; PostgreSQL binds it a moment later (a start that finds
/// it taken meanwhile is tried again with another).
fn kernel_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self
            .run("pg_ctl", &["-D".as_ref(), data.as_os_str(), "-m".as_ref(), "immediate".as_ref(), "stop".as_ref()]);
    }
}
