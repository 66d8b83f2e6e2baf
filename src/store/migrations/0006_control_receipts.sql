-- The tax inspector (operator role 4, vendor feature of 2025) and its control receipts.
--
-- The role CHECK of `operators` admits 4. SQLite cannot alter a CHECK constraint, and rebuilding the table
-- would cascade-delete its bindings, so the constraint text is edited in the schema, the documented
-- procedure for changes that leave the stored rows valid (every stored role is 1..3). The migration runner
-- bumps `schema_version` after every migration, so connections re-read the schema.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (role IN (1, 2, 3))', 'CHECK (role IN (1, 2, 3, 4))')
 WHERE type = 'table' AND name = 'operators';
PRAGMA writable_schema = OFF;

-- Control receipts: rendered and reprintable, but no fiscal document. They live apart from the journal,
-- never enter counters or reports and are never sent to the OFD.
CREATE TABLE control_receipts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kkm_id         INTEGER NOT NULL REFERENCES kkms (id),
    number         INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    operator_id    INTEGER NOT NULL,
    operator_name  TEXT NOT NULL,
    body           TEXT NOT NULL,
    UNIQUE (kkm_id, number)
);
