-- Terminals the PIN throttle knows: a client (a SHA-256 of its address, OS user and User-Agent) that
-- presented a PIN rightly, with the keyed hash of that PIN (HMAC with a key derived from pin.key, so the
-- database alone gives no offline guessing). During a server-wide pause of PIN checks such a client still
-- gets that PIN checked. `front` is `kz` (operators' PINs) or `by` (the СКО's PIN).
CREATE TABLE known_terminals (
    front       TEXT NOT NULL,
    terminal    TEXT NOT NULL,
    pin_tag     TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    PRIMARY KEY (front, terminal, pin_tag)
);
CREATE INDEX known_terminals_by_pin ON known_terminals (front, pin_tag);
