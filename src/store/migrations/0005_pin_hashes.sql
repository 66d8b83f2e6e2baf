-- PINs are no longer stored in plain text. `pin_key` (the old `access_pin` column, still UNIQUE) holds a keyed
-- hash of the PIN, HMAC-SHA256 with the server's key from pin.key: the index that finds the operator of a PIN
-- and catches a duplicate PIN (code 12). `pin_hash` holds the salted slow hash (argon2id, PHC string) that
-- verifies it. Rows migrated from older schemas keep the plain PIN in `pin_key` with an empty `pin_hash`
-- until the next start hashes them (fiscal::pin), in one transaction.
ALTER TABLE operators RENAME COLUMN access_pin TO pin_key;
ALTER TABLE operators ADD COLUMN pin_hash TEXT NOT NULL DEFAULT '';
