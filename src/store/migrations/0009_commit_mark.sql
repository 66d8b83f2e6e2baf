-- A count of the commits that changed something, raised by the group commit in the same transaction. After
-- each commit the count is written to `kassa.mark` beside the database (not synced: it may lag after a
-- power cut, but it never exceeds what the database durably holds). A start that finds the database behind
-- its mark knows committed writes were lost (a deleted `kassa.db-wal`, an older `kassa.db` put back) and
-- refuses to start instead of selling on a database that forgot acknowledged documents.
CREATE TABLE commit_mark (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL
);
INSERT INTO commit_mark (id, seq) VALUES (1, 0);

-- Facts about the data folder the database must agree with: `pin_key_check`, the keyed hash of a fixed
-- text under the folder's `pin.key`, so a start with another folder's key is refused instead of every PIN
-- turning wrong.
CREATE TABLE folder_facts (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
