//! The tables a copy moves, in an order their foreign keys accept, and what each column holds: read from
//! PostgreSQL's catalogue (the baseline is the truth) and checked against the SQLite source, so a column or
//! table on one side only stops the copy instead of being left behind.
use super::connect::describe;
use postgres::GenericClient;
use rusqlite::Connection;

/// Every table of the baseline, parents before children.
pub const TABLES: &[&str] = &[
    "license",
    "operators",
    "vendor_ids",
    "templates",
    "kz_kkms_before_ledger",
    "kz_documents_before_ledger",
    "ledger_devices",
    "ledger_documents",
    "ledger_counters",
    "ledger_lifetime_counters",
    "ledger_document_counters",
    "ledger_document_records",
    "ledger_fiscal",
    "ledger_public_ids",
    "kz_kkms",
    "kkm_bindings",
    "control_receipts",
    "idempotency_keys",
    "commit_mark",
    "folder_facts",
    "known_terminals",
];

/// What a column holds, and so how a SQLite value is written into it and read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// bigint, integer, smallint: SQLite INTEGER.
    Int,
    /// boolean: SQLite INTEGER 0 or 1.
    Bool,
    /// text: SQLite TEXT, byte for byte.
    Text,
    /// numeric: SQLite TEXT holding a decimal, read back as the same text.
    Decimal,
    /// bytea: SQLite BLOB.
    Bytes,
}

impl Kind {
    /// Whether the proof sums this column.
    pub fn summed(self) -> bool {
        matches!(self, Kind::Int | Kind::Decimal)
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    /// PostgreSQL's type name (`bigint`, `text`, ...).
    pub sql_type: String,
}

/// One table as both sides have it.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<Column>,
    /// The primary key's columns: both sides are read in this order.
    pub key: Vec<String>,
    /// Identity columns, whose sequences go past the copied values.
    pub identities: Vec<String>,
    /// No tenant column: the store's own rows, shared by its tenants (templates, the node's facts).
    pub shared: bool,
    /// The rows of the table that are the copy's (a `WHERE` clause), when it holds others' too.
    pub only: Option<String>,
    /// Columns the proof leaves out: a template another tenant brought first keeps that tenant's name.
    pub unproved: Vec<String>,
}

impl Table {
    /// `"a", "b"` of every column.
    pub fn column_list(&self) -> String {
        self.columns.iter().map(|c| quote(&c.name)).collect::<Vec<_>>().join(", ")
    }

    /// Whether the proof compares this column.
    pub fn proved(&self, column: &Column) -> bool {
        !self.unproved.contains(&column.name)
    }

    /// ` WHERE …` of [`Table::only`], or nothing.
    pub fn only_clause(&self) -> String {
        self.only.as_ref().map(|w| format!(" WHERE {w}")).unwrap_or_default()
    }

    /// The ORDER BY of the key; text compared bytewise on PostgreSQL as SQLite's BINARY does.
    pub fn order_pg(&self) -> String {
        self.key
            .iter()
            .map(|k| match self.kind_of(k) {
                Some(Kind::Text) => format!("{} COLLATE \"C\"", quote(k)),
                _ => quote(k),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn order_sqlite(&self) -> String {
        self.key.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
    }

    fn kind_of(&self, name: &str) -> Option<Kind> {
        self.columns.iter().find(|c| c.name == name).map(|c| c.kind)
    }
}

/// A quoted identifier (the names are the baseline's own; quoting keeps `key` and `number` plain names).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The column of a shop's rows that names its tenant (`0003_tenants.sql`): a copy leaves it to the default, the
/// tenant the copy's transaction names, as a SQLite store holds one shop.
const TENANT: &str = "tenant_id";

/// Reads every table of [`TABLES`] from PostgreSQL's catalogue, without the tenant column.
pub fn from_catalogue(db: &mut impl GenericClient) -> Result<Vec<Table>, String> {
    let mut tables = Vec::new();
    for &name in TABLES {
        let rows = db
            .query(
                "SELECT column_name::text, data_type::text, is_identity::text = 'YES' FROM information_schema.columns
                  WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                &[&name],
            )
            .map_err(|e| describe(&e))?;
        if rows.is_empty() {
            return Err(format!("the PostgreSQL schema has no table {name}: run kassa store migrate first"));
        }
        let mut columns = Vec::new();
        let mut identities = Vec::new();
        let mut shared = true;
        for row in rows {
            let column: String = row.get(0);
            if column == TENANT {
                shared = false;
                continue;
            }
            let sql_type: String = row.get(1);
            let kind = match sql_type.as_str() {
                "bigint" | "integer" | "smallint" => Kind::Int,
                "boolean" => Kind::Bool,
                "text" => Kind::Text,
                "numeric" => Kind::Decimal,
                "bytea" => Kind::Bytes,
                other => return Err(format!("{name}.{column} is of type {other}, which a copy does not know")),
            };
            if row.get::<_, bool>(2) {
                identities.push(column.clone());
            }
            columns.push(Column { name: column, kind, sql_type });
        }
        let key: Vec<String> = db
            .query(
                "SELECT a.attname::text FROM pg_index i
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                  WHERE i.indrelid = to_regclass($1) AND i.indisprimary
                  ORDER BY array_position(i.indkey::int2[], a.attnum)",
                &[&name],
            )
            .map_err(|e| describe(&e))?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .filter(|c| c != TENANT)
            .collect();
        if key.is_empty() {
            return Err(format!("{name} has no primary key in the PostgreSQL schema"));
        }
        tables.push(Table { name, columns, key, identities, shared, only: None, unproved: Vec::new() });
    }
    Ok(tables)
}

/// Checks that the SQLite source has exactly these tables and columns (SQLite's hidden rowid stands for an
/// explicit `rowid` column).
pub fn check_source(conn: &Connection, tables: &[Table]) -> Result<(), String> {
    let sqlite_tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| format!("reading the source's tables: {e}"))?;
    for t in &sqlite_tables {
        if !TABLES.contains(&t.as_str()) {
            return Err(format!("the source has a table {t} that the PostgreSQL schema lacks; nothing was copied"));
        }
    }
    for table in tables {
        if !sqlite_tables.iter().any(|t| t == table.name) {
            return Err(format!(
                "the source has no table {}: is it a Kassa database of schema {}?",
                table.name,
                super::migrate::SQLITE_VERSION
            ));
        }
        let mut sqlite_columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .and_then(|mut s| s.query_map([table.name], |r| r.get(0))?.collect())
            .map_err(|e| format!("reading the columns of {}: {e}", table.name))?;
        let mut pg_columns: Vec<String> =
            table.columns.iter().map(|c| c.name.clone()).filter(|c| c != "rowid").collect();
        sqlite_columns.sort();
        pg_columns.sort();
        if sqlite_columns != pg_columns {
            return Err(format!(
                "{}: the source's columns ({}) are not the PostgreSQL schema's ({}); nothing was copied",
                table.name,
                sqlite_columns.join(", "),
                pg_columns.join(", ")
            ));
        }
    }
    Ok(())
}
